# embdiag relrep on the bundled sentence embeddings: all-MiniLM-L6-v2 final layer vs its layer 3
# (same 1,800 Debian package descriptions, labels = package names).
a=data/sentences/debian-minilm-l6.npy
b=data/sentences/debian-minilm-l6-layer3.npy
labels=data/sentences/debian-packages.txt
[ -e "$a" ] && [ -e "$b" ] || { echo "relrep: sentence samples missing, skipped"; exit 0; }
set -e
# Comparison through 300 shared anchors, centred on the anchors (latentis Centering).
"$EMBDIAG" relrep "$a" --labels "$labels" --compare "$b" --compare-labels "$labels" \
  --anchors 300 --center anchors --quiet --output reports/relrep/final-vs-layer3
echo "reports/relrep/final-vs-layer3"
# Same with farthest-point anchors.
"$EMBDIAG" relrep "$a" --labels "$labels" --compare "$b" --compare-labels "$labels" \
  --anchors 300 --center anchors --anchor-strategy farthest --quiet --output reports/relrep/final-vs-layer3-farthest
echo "reports/relrep/final-vs-layer3-farthest"
# The relative representation itself (1,800 × 100) with its anchors; the matrix goes to .build/demo/
# (not committed; a relative path, so the reports name no machine folder).
"$EMBDIAG" relrep "$a" --labels "$labels" --anchors 100 --center anchors \
  --write ".build/demo/minilm-relative.npy" --quiet --output reports/relrep/relative
echo "reports/relrep/relative"
