"""Prints benchmarks/out/results.jsonl as one Markdown table (pasted into README.md)."""
import json
import platform
import sys

rows = [json.loads(l) for l in open(sys.argv[1])] if len(sys.argv) > 1 else []
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
import os
print(f"\nMachine: {cpu}, {os.cpu_count()} cores\n")
print("| task | size | embdiag (s) | peer | peer (s) | ratio (peer/embdiag) | embdiag peak MiB | note |")
print("|---|---|---:|---|---:|---:|---:|---|")
for r in rows:
    print(f"| {r['task']} | {r['size']} | {r['embdiag_s']:.3f} | {r['peer']} | {r['peer_s']:.3f} | {r['ratio']} | "
          f"{r['embdiag_peak_mib'] if r['embdiag_peak_mib'] is not None else ''} | {r.get('note', '')} |")
