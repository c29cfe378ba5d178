"""Fuzz the readers and validators with many more generated inputs than the test suite runs.

    .venv/bin/python bench/fuzz.py --examples 10000

Two properties, from tests/test_imports_properties.py:
- layouts: a journal in a random real-export layout (title rows, header spellings, column order, unknown columns,
  blank and subtotal rows, CSV in three encodings, xlsx, HTML-as-xls) is read back whole;
- tables: any contract table with any columns empty, missing, garbage or mistyped validates with
  read = loaded + quarantined.
Prints a table of examples, failures and seconds; exits 1 on any failure (Hypothesis shrinks and prints it).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_imports_properties import check_layout, check_table, journals, raw_tables  # noqa: E402


def run(name: str, strategy, check, examples: int, needs_dir: bool) -> tuple[str, int, str, float]:
    seen = [0]
    root = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def prop(example):
        seen[0] += 1
        if needs_dir:
            d = root / str(seen[0])
            d.mkdir()
            try:
                check(d, example)
            finally:
                shutil.rmtree(d, ignore_errors=True)
        else:
            check(example)

    t0 = time.perf_counter()
    try:
        prop()
        result = "no failure"
    except Exception:  # noqa: BLE001 - report whatever broke, with Hypothesis' minimal example
        traceback.print_exc()
        result = "FAILED"
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return name, seen[0], result, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=1000, help="examples per property")
    ap.add_argument("--only", choices=["layouts", "tables"])
    a = ap.parse_args()
    rows = []
    if a.only in (None, "layouts"):
        rows.append(run("layouts", journals(), check_layout, a.examples, True))
    if a.only in (None, "tables"):
        rows.append(run("tables", raw_tables(), check_table, a.examples, False))
    print("\n| property | examples run | result | seconds | ms / example |\n|---|---:|---|---:|---:|")
    for name, n, result, secs in rows:
        print(f"| {name} | {n:,} | {result} | {secs:,.0f} | {1000 * secs / max(n, 1):,.0f} |")
    return 0 if all(r[2] == "no failure" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
