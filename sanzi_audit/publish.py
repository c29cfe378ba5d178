"""Publishing a night's ranked leads to the review table, and the lifecycle transitions the system makes
(reopened, resolved by data); the reviewers' own transitions are in review.py."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from . import store
from .config import Review
from .contract import TABLES
from .review import SYSTEM_TRANSITIONS


@dataclass
class PublishResult:
    new: int = 0
    updated: int = 0
    reopened: int = 0
    resolved_by_data: int = 0


def publish(engine: sa.Engine, ranked: pd.DataFrame, run_id: int, review: Review | None = None,
            complete: bool = True, detectors_ran: set[str] | None = None) -> PublishResult:
    """Write tonight's ranked leads in one transaction: readers see last night's leads or tonight's, never half.

    Detection fields are updated; review fields (status, assignee, notes) are never touched, except by the
    lifecycle's system transitions, each recorded in lead_events:
    - a 不属实/已办结 lead whose evidence grows materially (new records, or more money than
      ``review.reopen_amount_growth``), or a 数据已更正 lead that reappears, is reopened as 待核查;
    - in a complete run, an open lead (待核查/核查中) of a detector that ran tonight but did not find it again
      is marked 数据已更正 (resolved by data). Nothing is deleted.
    Leads not seen tonight keep their rows; their rank is cleared so the queue shows current leads in order.
    """
    review = review or Review()
    ts = store.now()
    out = PublishResult()
    L, E = store.leads, store.lead_events
    with engine.begin() as conn:
        before = {r.lead_id: r for r in conn.execute(sa.select(L.c.lead_id, L.c.status, L.c.amount_at_risk))}
        rows: list[dict] = []
        evidence: list[dict] = []
        events: list[dict] = []
        tonight: dict[str, set[tuple[str, str]]] = {}
        for r in ranked.itertuples(index=False):
            rows.append(dict(lead_id=r.lead_id, detector=r.detector,
                             detector_version=getattr(r, "detector_version", None) or None, case_id=r.case_id,
                             village_code=r.village_code, township_code=r.township_code, score=float(r.score),
                             priority=float(r.priority), rank=int(r.rank), amount_at_risk=float(r.amount_at_risk),
                             title=r.title, explanation=r.explanation, details=r.details, status="new",
                             first_seen_run=run_id, last_seen_run=run_id, created_at=ts, updated_at=ts))
            recs = {(t, str(i)) for t, i in r.evidence}
            tonight[r.lead_id] = recs
            evidence.extend(dict(lead_id=r.lead_id, source_table=t, record_id=i) for t, i in recs)

        reopen = _to_reopen(conn, before, tonight, ranked, review)
        conn.execute(L.update().where(L.c.last_seen_run < run_id).values(rank=None))
        if rows:
            ins = _insert(conn, L)
            stmt = ins.on_conflict_do_update(
                index_elements=["lead_id"],
                set_={c: getattr(ins.excluded, c) for c in store.DETECTION_FIELDS})
            for i in range(0, len(rows), 5000):
                conn.execute(stmt, rows[i:i + 5000])
        if evidence:
            _with_sources(conn, evidence)
            ev = _insert(conn, store.lead_evidence).on_conflict_do_nothing()
            for i in range(0, len(evidence), 20000):
                conn.execute(ev, evidence[i:i + 20000])
        for lead_id, note in reopen.items():
            conn.execute(L.update().where(L.c.lead_id == lead_id).values(status="new", updated_at=ts))
            events.append(dict(lead_id=lead_id, at=ts, actor="pipeline", event="reopened",
                               from_status=before[lead_id].status, to_status="new", note=note))
        new_ids = [r["lead_id"] for r in rows if r["lead_id"] not in before]
        events.extend(dict(lead_id=x, at=ts, actor="pipeline", event="created", from_status=None, to_status="new",
                           note=f"第 {run_id} 次运行发现") for x in new_ids)
        if complete and detectors_ran:
            gone = conn.execute(sa.select(L.c.lead_id, L.c.status).where(
                L.c.last_seen_run < run_id, L.c.status.in_(SYSTEM_TRANSITIONS["resolved_by_data"]),
                L.c.detector.in_(sorted(detectors_ran)))).all()
            for g in gone:
                conn.execute(L.update().where(L.c.lead_id == g.lead_id).values(status="resolved_by_data", updated_at=ts))
                events.append(dict(lead_id=g.lead_id, at=ts, actor="pipeline", event="resolved_by_data",
                                   from_status=g.status, to_status="resolved_by_data",
                                   note=f"第 {run_id} 次运行（完整运行）未再发现该疑点：源数据可能已更正"))
            out.resolved_by_data = len(gone)
        if events:
            conn.execute(E.insert(), events)
    out.new, out.updated, out.reopened = len(new_ids), len(rows) - len(new_ids), len(reopen)
    return out


def _with_sources(conn, evidence: list[dict]) -> None:
    """Stamp each evidence record with the file, sheet and row it came from (as the warehouse has it tonight), so a
    lead keeps "来源: 文件 第 N 行" even after the record is reloaded from elsewhere."""
    by_table: dict[str, set[str]] = {}
    for e in evidence:
        by_table.setdefault(e["source_table"], set()).add(e["record_id"])
    where: dict[tuple[str, str], tuple] = {}
    for table, ids in by_table.items():
        wh = store.WAREHOUSE.get(table)
        if wh is None:
            continue
        rid = wh.c[TABLES[table].record_id]
        ordered = sorted(ids)
        for i in range(0, len(ordered), 5000):
            q = sa.select(rid, wh.c.source_file, wh.c.source_sheet, wh.c.source_row).where(
                rid.in_(ordered[i:i + 5000]))
            for r in conn.execute(q):
                where.setdefault((table, str(r[0])), (r[1], r[2], r[3]))
    for e in evidence:
        f, s, n = where.get((e["source_table"], e["record_id"]), (None, None, None))
        e.update(source_file=f, source_sheet=s, source_row=n)


def _to_reopen(conn, before: dict, tonight: dict[str, set], ranked: pd.DataFrame, review: Review) -> dict[str, str]:
    """Concluded leads seen again whose evidence grew materially, with a note saying what changed."""
    closed = [lid for lid in tonight if lid in before and before[lid].status in SYSTEM_TRANSITIONS["reopen"]]
    if not closed:
        return {}
    old: dict[str, set] = {lid: set() for lid in closed}
    for i in range(0, len(closed), 500):
        q = sa.select(store.lead_evidence).where(store.lead_evidence.c.lead_id.in_(closed[i:i + 500]))
        for r in conn.execute(q):
            old[r.lead_id].add((r.source_table, r.record_id))
    amount = dict(zip(ranked["lead_id"], ranked["amount_at_risk"], strict=True))
    out = {}
    for lid in closed:
        prev = before[lid]
        if prev.status == "resolved_by_data":
            out[lid] = "此前已因数据更正而关闭的疑点再次出现"
            continue
        added = tonight[lid] - old[lid]
        was, now_ = float(prev.amount_at_risk or 0), float(amount[lid])
        reasons = []
        if review.reopen_on_new_records and added:
            reasons.append(f"新增 {len(added)} 条证据记录（{'、'.join(sorted(r for _, r in added)[:5])}"
                           f"{'等' if len(added) > 5 else ''}）")
        if now_ > was * (1 + review.reopen_amount_growth):
            reasons.append(f"涉及金额由 {was:,.2f} 元增至 {now_:,.2f} 元")
        if reasons:
            out[lid] = "证据增加，重新打开：" + "；".join(reasons)
    return out


def _insert(conn, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
