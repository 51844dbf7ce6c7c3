# Anisotropy of the bundled word vectors and of both sentence models, with the remedies.
"$EMBDIAG" anisotropy data/words/googlenews-bolukbasi-subset.bin --transform abtt --quiet --output reports/anisotropy/words
"$EMBDIAG" anisotropy data/sentences/debian-minilm-l6-layer3.npy --labels data/sentences/debian-texts.txt \
  --transform abtt --quiet --output reports/anisotropy/minilm-layer3
"$EMBDIAG" anisotropy data/sentences/debian-minilm-l6.npy --labels data/sentences/debian-texts.txt \
  --transform whiten:128 --quiet --output reports/anisotropy/minilm-final
echo "reports/anisotropy/{words,minilm-layer3,minilm-final}"
