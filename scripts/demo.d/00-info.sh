# embdiag info on every bundled sample.
for f in data/*/*.npy data/*/*.bin; do
  [ -e "$f" ] || continue
  name=$(basename "${f%.*}")
  "$EMBDIAG" info "$f" --quiet --output "reports/info/$name"
  echo "reports/info/$name"
done
