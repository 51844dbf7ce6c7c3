# embdiag bias on the bundled GoogleNews subset (Bolukbasi et al.'s vocabulary, 6,000 × 300):
# gender direction, DirectBias over the 303 neutral professions, indirect bias, WEAT, hard debias.
words=data/words/googlenews-bolukbasi-subset.bin
[ -e "$words" ] || { echo "bias: word vectors missing, skipped"; exit 0; }
set -e
# Audit: direction, DirectBias, Bolukbasi's indirect-bias examples, WEAT (Caliskan 7 and 8, WEFE's gender query).
"$EMBDIAG" bias "$words" --weat wefe-gender --weat 7 --weat 8 \
  --indirect softball,receptionist --indirect softball,pitcher --indirect football,businessman \
  --quiet --output reports/bias/audit
echo "reports/bias/audit"
# Hard debias: every metric before/after, geometry change; the debiased matrix (word2vec binary, 7 MB)
# goes to .build/demo/ (not committed; a relative path, so the reports name no machine folder).
mkdir -p reports/bias/hard-debias
"$EMBDIAG" bias "$words" --weat wefe-gender --weat 7 --indirect softball,receptionist \
  --debias hard --write ".build/demo/googlenews-subset-debiased.bin" --quiet --output reports/bias/hard-debias
echo "reports/bias/hard-debias"
# Three-component subspace (Manzini et al. 2019).
"$EMBDIAG" bias "$words" --components 3 --quiet --output reports/bias/subspace-k3
echo "reports/bias/subspace-k3"
