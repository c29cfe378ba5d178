#!/usr/bin/env bash
# Fresh machine → ruff, mypy and the test suite, against SQLite and a real PostgreSQL on 127.0.0.1.
# Slow scale tests are marked `slow` and left out; run them with: scripts/test.sh -m slow
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
scripts/chromium.sh
eval "$(scripts/postgres.sh)"
# lint and types first: a minute, and they name the line
.venv/bin/ruff check .
scripts/typecheck.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=90
if [[ " $* " == *" -m "* ]]; then exec .venv/bin/python -m pytest "$@"; fi
exec .venv/bin/python -m pytest -m "not slow" "$@"
