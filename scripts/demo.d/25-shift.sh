# Shift: is the "fonts" corpus distributed like the "games" one, and where does it differ?
"$EMBDIAG" shift data/sentences/by-section/games.npy data/sentences/by-section/fonts.npy \
  --labels data/sentences/by-section/games.txt --other-labels data/sentences/by-section/fonts.txt \
  --quiet --output reports/shift/games-vs-fonts
echo "reports/shift/games-vs-fonts"
