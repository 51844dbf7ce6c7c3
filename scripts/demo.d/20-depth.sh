# Depth: games descriptions as the reference, fonts as the other corpus, and the most central texts per section.
"$EMBDIAG" depth data/sentences/by-section/games.npy data/sentences/by-section/fonts.npy \
  --labels data/sentences/by-section/games.txt --other-labels data/sentences/by-section/fonts.txt \
  --quiet --output reports/depth/games-vs-fonts
"$EMBDIAG" depth data/sentences/debian-minilm-l6.npy --labels data/sentences/debian-sections.txt \
  --select-central 3 --by-label --quiet --output reports/depth/central-per-section
echo "reports/depth/{games-vs-fonts,central-per-section}"
