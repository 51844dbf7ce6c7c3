# embdiag compat on the bundled sentence embeddings: OLD = all-MiniLM-L6-v2 layer 3, NEW = its final
# layer (same 1,800 Debian package descriptions; relevance = Debian section, names = package names).
old=data/sentences/debian-minilm-l6-layer3.npy
new=data/sentences/debian-minilm-l6.npy
sections=data/sentences/debian-sections.txt
names=data/sentences/debian-packages.txt
[ -e "$old" ] && [ -e "$new" ] || { echo "compat: sentence samples missing, skipped"; exit 0; }
set -e
mkdir -p reports/compat/mapping reports/compat/gate
# Upgrade check with a Procrustes map NEW → OLD fitted on half the rows, saved for embdiag map.
"$EMBDIAG" compat --old "$old" --new "$new" --labels "$sections" --names "$names" \
  --fit procrustes-scaled --save-mapping reports/compat/mapping/final-to-layer3.npy \
  --quiet --output reports/compat/layer3-to-final
echo "reports/compat/layer3-to-final"
# Apply the saved map to NEW embeddings (e.g. queries) to search the OLD index.
# (the mapped matrix, 2.7 MB, goes to .build/demo/: not committed, and a relative path in the report).
"$EMBDIAG" map --mapping reports/compat/mapping/final-to-layer3.npy "$new" ".build/demo/final-in-layer3-space.npy" --quiet
echo ".build/demo/final-in-layer3-space.npy"
# Same upgrade with a ridge map, and a CI gate that fails (exit 1) — the report is still written.
if "$EMBDIAG" compat --old "$old" --new "$new" --labels "$sections" --fit ridge:0.1 \
  --require "recall_at_1_cross>=0.95" --quiet --output reports/compat/gate 2>reports/compat/gate/stderr.txt; then
  echo "compat gate unexpectedly passed"
else
  echo "reports/compat/gate (gate failed as expected: $(cat reports/compat/gate/stderr.txt))"
fi
# Compression as an upgrade: cheaper copies of the final layer against the full one.
for c in truncate:128 int8 binary; do
  out=reports/compat/compression-${c/:/-}
  "$EMBDIAG" compat --old "$new" --new "$c" --labels "$sections" --names "$names" --quiet --output "$out"
  echo "$out"
done
