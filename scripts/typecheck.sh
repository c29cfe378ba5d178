#!/usr/bin/env bash
# mypy over the package laid out as it installs (detectors/ → sanzi_audit/detectors, flows/ → sanzi_audit/flows, …):
# an editable install's import hook is invisible to mypy, so the layout is copied to a scratch folder first and
# the paths in its report are mapped back to the repository's.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r sanzi_audit "$tmp/sanzi_audit"
rm -rf "$tmp/sanzi_audit/detectors" "$tmp/sanzi_audit/flows"
cp -r detectors "$tmp/sanzi_audit/detectors"
cp -r flows "$tmp/sanzi_audit/flows"
find "$tmp" -name __pycache__ -prune -exec rm -rf {} +
cp pyproject.toml "$tmp/"
status=0
(cd "$tmp" && "$OLDPWD/.venv/bin/mypy" -p sanzi_audit --cache-dir "$OLDPWD/.mypy_cache") > "$tmp/report" 2>&1 || status=$?
sed -e 's#^sanzi_audit/detectors/#detectors/#' -e 's#^sanzi_audit/flows/#flows/#' "$tmp/report"
exit $status
