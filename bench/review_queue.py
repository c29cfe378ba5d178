"""Benchmark: the review page's queue queries over 100,000 leads (SQLite by default, or --db URL).

    .venv/bin/python bench/review_queue.py [--leads 100000] [--db URL]

Prints the time of the queries behind one queue page (status counts + one page of 50), for the first page, a deep
page, a filtered view, a scoped auditor, and a text search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--db")
    a = ap.parse_args()

    from sanzi_audit import store
    from sanzi_audit.web import queries
    from sanzi_audit.web.auth import User

    tmp = tempfile.TemporaryDirectory()
    url = a.db or f"sqlite:///{Path(tmp.name) / 'queue.db'}"
    engine = store.connect(url)
    rng = random.Random(1)
    ts = dt.datetime(2026, 11, 1)
    dets = ["split_contracts", "duplicate_payments", "shared_accounts", "claims_after_exit", "related_party_payees"]
    statuses = ["new"] * 6 + ["in_review", "confirmed", "dismissed", "closed"]
    rows, ev = [], []
    for i in range(a.leads):
        v = f"330599{100 + i % 20:03d}{200 + i % 15:03d}"
        lid = f"{dets[i % 5]}:{i:016x}"
        rows.append(dict(lead_id=lid, detector=dets[i % 5], case_id=lid, village_code=v, township_code=v[:9],
                         score=rng.random(), priority=rng.random(), rank=i + 1, amount_at_risk=rng.uniform(1e3, 1e6),
                         title=f"疑点 {i} 张{i % 977}", explanation="说明 " * 20, details="{}",
                         status=statuses[i % 10], first_seen_run=1, last_seen_run=1, created_at=ts, updated_at=ts))
        ev.append(dict(lead_id=lid, source_table="ledger", record_id=f"{v}-2024-{i % 9000:04d}-1"))
    t = time.perf_counter()
    with engine.begin() as c:
        for i in range(0, len(rows), 5000):
            c.execute(store.leads.insert(), rows[i:i + 5000])
            c.execute(store.lead_evidence.insert(), ev[i:i + 5000])
    print(f"inserted {a.leads:,} leads in {time.perf_counter() - t:.1f} s ({store.safe_url(url)})\n")

    everyone = User("admin", "admin", "admin", ("*",), True)
    township = User("li", "li", "auditor", ("330599105",), False)
    cases = [
        ("first page, all leads", everyone, {}),
        ("page 1,000 (rows 49,951-50,000)", everyone, {"page": "1000"}),
        ("status 待核查 + detector + min amount", everyone,
         {"status": "new", "detector": "shared_accounts", "min_amount": "500000"}),
        ("auditor scoped to one township", township, {}),
        ("search a name", everyone, {"q": "张976"}),
        ("search a voucher number", everyone, {"q": "2024-8999"}),
    ]
    print("| view | rows matched | ms (median of 5) |\n|---|---:|---:|")
    for name, user, params in cases:
        f = queries.Filters.from_query(params)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            out = queries.queue(engine, user, f)
            times.append((time.perf_counter() - t) * 1000)
        print(f"| {name} | {out['total']:,} | {sorted(times)[2]:.0f} |")
    store.dispose(url)


if __name__ == "__main__":
    main()
