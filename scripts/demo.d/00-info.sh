# embdiag info on every bundled sample.
for f in data/words/*.bin data/sentences/*.npy; do
  [ -e "$f" ] || continue
  name=$(basename "${f%.*}")
  labels=()
  case $f in data/sentences/debian-*.npy) labels=(--labels data/sentences/debian-texts.txt);; esac
  "$EMBDIAG" info "$f" "${labels[@]}" --quiet --output "reports/info/$name"
  echo "reports/info/$name"
done
