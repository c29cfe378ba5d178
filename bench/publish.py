"""Publishing N leads into the review table on SQLite and PostgreSQL: first night (inserts) and a re-run (updates).

    .venv/bin/python bench/publish.py --leads 10000 [--pg postgresql+psycopg://…]   (default: $SANZI_TEST_PG_URL)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import pandas as pd
import sqlalchemy as sa

from sanzi_audit import pipeline, store


def leads(n: int, amount: float) -> pd.DataFrame:
    return pd.DataFrame([dict(lead_id=f"split_contracts:{i:016x}", detector="split_contracts", case_id=f"C-{i:016x}",
                              village_code=f"330599101{200 + i % 300:03d}", township_code="330599101", score=0.5,
                              priority=0.5, rank=i + 1, amount_at_risk=amount, title="化整为零疑点：示例",
                              explanation="说明" * 40, details="{}",
                              evidence=[("contracts", f"HT{i}-{k}") for k in range(3)]) for i in range(n)])


def measure(url: str, n: int) -> list[tuple[str, float]]:
    engine = store.connect(url)
    out = []
    for label, run, amount in (("first night (insert)", 1, 100.0), ("next night (update)", 2, 120.0)):
        frame = leads(n, amount)
        t = time.perf_counter()
        pipeline.publish(engine, frame, run, detectors_ran={"split_contracts"})
        out.append((label, time.perf_counter() - t))
    store.dispose(url)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=10_000)
    ap.add_argument("--pg", default=os.environ.get("SANZI_TEST_PG_URL"))
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, secs in measure(f"sqlite:///{tmp}/publish.db", a.leads):
            rows.append(("SQLite", label, secs))
    if a.pg:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(a.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            for label, secs in measure(a.pg.rsplit("/", 1)[0] + "/" + name, a.leads):
                rows.append(("PostgreSQL", label, secs))
        finally:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(f"| database | publish of {a.leads:,} leads (3 evidence records each) | seconds | leads/s |")
    print("|---|---|---:|---:|")
    for db, label, secs in rows:
        print(f"| {db} | {label} | {secs:.2f} | {a.leads / secs:,.0f} |")


if __name__ == "__main__":
    main()
