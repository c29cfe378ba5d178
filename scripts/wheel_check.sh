#!/usr/bin/env bash
# Build the wheel, install it into a clean venv (not editable: an editable install hides missing package data) and
# run the CLI from it: --help, detectors, inspect on a layout folder, a run, and a `serve` that answers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
work=$(mktemp -d)
trap 'kill "${serve_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
.venv/bin/python -m pip wheel --quiet --no-deps -w "$work/dist" . 2>&1 | grep -v "^WARNING: Location" || true
wheel=$(ls "$work"/dist/sanzi_audit-*.whl)
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$wheel" 2>&1 | grep -v "^WARNING: Location" || true
cd "$work"  # nothing from the checkout on the path
sanzi="$work/venv/bin/sanzi"
"$sanzi" --help > /dev/null
"$sanzi" detectors > "$work/detectors.txt"
grep -q split_contracts "$work/detectors.txt"
"$sanzi" synth --out "$work/county" --villages 3 --seed 2 --format mixed > /dev/null
"$sanzi" inspect "$work/county" --config "$work/county/_county/county.yaml" > "$work/inspect.txt"
grep -q "全部可读取" "$work/inspect.txt"
PREFECT_HOME="$work/prefect" PREFECT_SERVER_ANALYTICS_ENABLED=false \
  "$sanzi" run --source "$work/county" --config "$work/county/_county/county.yaml" --db "sqlite:///$work/r.db" \
  > "$work/run.txt" 2>&1 || { tail -30 "$work/run.txt"; exit 1; }
grep -q "运行 #1: 成功" "$work/run.txt"
port=$("$work/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SANZI_SECRET_FILE="$work/secret" "$sanzi" serve --db "sqlite:///$work/r.db" --port "$port" > "$work/serve.txt" 2>&1 &
serve_pid=$!
for _ in $(seq 1 60); do
  if "$work/venv/bin/python" -c "import urllib.request,sys; r=urllib.request.urlopen('http://127.0.0.1:$port/login', timeout=2); sys.exit(0 if r.status == 200 and '登录' in r.read().decode() else 1)" 2>/dev/null; then
    echo "wheel check: installed wheel runs --help, detectors, synth, inspect, run and serve"
    exit 0
  fi
  sleep 1
done
echo "wheel check: sanzi serve from the wheel did not answer" >&2
tail -20 "$work/serve.txt" >&2
exit 1
