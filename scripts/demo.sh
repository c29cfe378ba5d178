#!/usr/bin/env bash
# Fresh machine → a synthetic demo county (30 villages) run through the nightly flow into SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/sanzi demo --dir demo "$@"
