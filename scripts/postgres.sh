#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1 for the tests (installing it from Debian if missing) and print
# the export line for SANZI_TEST_PG_URL. Idempotent: reuses a server already running on the port.
set -euo pipefail
PORT=${SANZI_PG_PORT:-54329}
DIR=${SANZI_PG_DIR:-/tmp/sanzi-pg-$PORT}
URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/sanzi_test"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing postgresql from Debian…" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  else
    echo "PostgreSQL not installed and cannot install it (not root): PostgreSQL tests will be skipped" >&2
    exit 0
  fi
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! "$bin/pg_isready" -h 127.0.0.1 -p "$PORT" -q 2>/dev/null; then
  if [ ! -f "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"; [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_pg "$bin/initdb" -D "$DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg "$bin/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -o "-p $PORT -h 127.0.0.1 -k /tmp" start >/dev/null
fi
"$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='sanzi_test'" | grep -q 1 \
  || "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE sanzi_test" >/dev/null
echo "export SANZI_TEST_PG_URL=$URL"
