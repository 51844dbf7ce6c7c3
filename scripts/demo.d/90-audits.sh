# The three audits of the bundled samples (corpus distribution test, bias audit, model-upgrade
# check): one report folder each, with an index page. A failed requirement fails the demo.
for config in audits/*.yaml; do
  name=$(basename "${config%.yaml}")
  "$EMBDIAG" audit "$config" --quiet --output "reports/$name"
  echo "reports/$name/index.html"
done
