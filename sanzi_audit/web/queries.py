"""What the review page reads: the queue with filters, a lead with its evidence, the overview, exports.

Every query takes the signed-in user and restricts to their scope in SQL, so a page can never list a lead the
user may not see. Writes go through review.py (the same lifecycle the CLI and tests use).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import store
from ..contract import TABLES
from ..masking import LONG_NUMBER as _LONG_NUMBER
from ..masking import SENSITIVE_COLUMNS, mask, mask_text, mask_value  # noqa: F401
from ..registry import quality_sources
from .auth import User

L, EV, E = store.leads, store.lead_evidence, store.lead_events
PAGE_SIZE = 50
PUBLIC_CODES = {"village_code", "township_code", "account_code"}
def scope_clause(user: User):
    if "*" in user.scope:
        return sa.true()
    # a prefix as a range (':' sorts after '9'), so the village_code index is used; LIKE would scan
    return sa.or_(*[sa.and_(L.c.village_code >= p, L.c.village_code < p + ":") for p in user.scope])


@dataclass
class Filters:
    township: str = ""
    village: str = ""
    detector: str = ""
    status: str = ""
    min_score: float | None = None
    min_amount: float | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    q: str = ""
    kind: str = "fraud"  # fraud | data_quality | all
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params) -> Filters:
        f = cls()
        for k in ("township", "village", "detector", "status", "q", "kind"):
            setattr(f, k, (params.get(k) or "").strip()[:100])
        f.kind = f.kind if f.kind in ("fraud", "data_quality", "all") else "fraud"
        for k in ("min_score", "min_amount"):
            v = (params.get(k) or "").strip()
            if v:
                try:
                    setattr(f, k, float(v))
                except ValueError:
                    f.errors.append(f"{'最低分数' if k == 'min_score' else '最低金额'}应为数字: “{v}”")
        for k in ("since", "until"):
            v = (params.get(k) or "").strip()
            if v:
                try:
                    d = dt.date.fromisoformat(v)
                    if not dt.date(1990, 1, 1) <= d <= dt.date(2200, 12, 31):
                        raise ValueError(v)
                    setattr(f, k, d)
                except ValueError:
                    f.errors.append(f"日期应为 1990-01-01 至 2200-12-31 之间、格式如 2024-03-05: “{v[:20]}”")
        try:
            f.page = max(1, min(int(params.get("page") or 1), 1_000_000))
        except ValueError:
            f.page = 1
        for k in ("min_score", "min_amount"):
            v = getattr(f, k)
            if v is not None and not (v == v and abs(v) < 1e15):
                setattr(f, k, None)
                f.errors.append(f"{'最低分数' if k == 'min_score' else '最低金额'}超出范围")
        return f

    def query_string(self, **override) -> str:
        from urllib.parse import urlencode

        d = {k: getattr(self, k) for k in ("township", "village", "detector", "status", "min_score", "min_amount",
                                           "since", "until", "q", "kind", "page")}
        d.update(override)
        return urlencode({k: v for k, v in d.items() if v not in (None, "")})


SEARCH_CANDIDATES = 20_000


def _search(conn, user: User, q: str):
    """The condition for the search box. A user who may unmask searches the raw text. A masked user searches
    what they see: the masked title, explanation and evidence ids; a full ID or account number matches only
    whole. So extending a prefix one digit at a time recovers nothing (it did: an ID in 106 searches)."""
    like = f"%{q.replace('%', '').replace('_', '')}%"
    in_evidence = sa.select(EV.c.lead_id).where(EV.c.record_id.like(like))
    if user.can_unmask:
        return sa.or_(L.c.title.like(like), L.c.explanation.like(like), L.c.lead_id.in_(in_evidence))
    number = re.sub(r"[ \-\u00a0]", "", q) if _LONG_NUMBER.fullmatch(q) else None

    def holds(text: str | None) -> bool:
        if not text:
            return False
        if q in mask_text(text):
            return True
        return number is not None and any(re.sub(r"[ \-\u00a0]", "", m) == number
                                          for m in _LONG_NUMBER.findall(text))

    spread = "%" + "%".join(number) + "%" if number else ""  # the number written in groups (6228 4800 …)
    found: set[str] = set()
    for lead_id, title, explanation in conn.execute(
            sa.select(L.c.lead_id, L.c.title, L.c.explanation)
            .where(scope_clause(user), sa.or_(L.c.title.like(like), L.c.explanation.like(like),
                                              *((L.c.title.like(spread), L.c.explanation.like(spread))
                                                if number else ())))
            .limit(SEARCH_CANDIDATES)):
        if holds(title) or holds(explanation):
            found.add(lead_id)
    for lead_id, record_id in conn.execute(sa.select(EV.c.lead_id, EV.c.record_id).join(L, L.c.lead_id == EV.c.lead_id)
                                           .where(scope_clause(user), EV.c.record_id.like(like))
                                           .limit(SEARCH_CANDIDATES)):
        if record_id == q or holds(record_id):
            found.add(lead_id)
    return L.c.lead_id.in_(sa.bindparam("found", sorted(found), expanding=True)) if found else sa.false()


def _where(user: User, f: Filters, conn=None):
    conds = [scope_clause(user)]
    if f.kind == "fraud":
        conds.append(L.c.detector.not_in(sorted(quality_sources())))
    elif f.kind == "data_quality":
        conds.append(L.c.detector.in_(sorted(quality_sources())))
    if f.township:
        conds.append(L.c.township_code == f.township)
    if f.village:
        conds.append(L.c.village_code == f.village)
    if f.detector:
        conds.append(L.c.detector == f.detector)
    if f.min_score is not None:
        conds.append(L.c.score >= f.min_score)
    if f.min_amount is not None:
        conds.append(L.c.amount_at_risk >= f.min_amount)
    if f.since:
        conds.append(L.c.created_at >= dt.datetime.combine(f.since, dt.time()))
    if f.until:
        conds.append(L.c.created_at < dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time()))
    if f.q and conn is not None:
        conds.append(_search(conn, user, f.q))
    return conds


def queue(engine: sa.Engine, user: User, f: Filters) -> dict:
    status_cond = [L.c.status == f.status] if f.status else []
    order = [L.c.rank.is_(None), L.c.rank, L.c.priority.desc(), L.c.lead_id]
    cols = [L.c.lead_id, L.c.rank, L.c.detector, L.c.village_code, L.c.township_code, L.c.score, L.c.priority,
            L.c.amount_at_risk, L.c.title, L.c.status, L.c.assignee, L.c.case_id, L.c.created_at]
    with engine.connect() as conn:
        base = _where(user, f, conn)
        counts = {r.status: r.n for r in conn.execute(
            sa.select(L.c.status, sa.func.count().label("n")).where(*base).group_by(L.c.status))}
        total = sum(v for k, v in counts.items() if not f.status or k == f.status)
        rows = conn.execute(sa.select(*cols).where(*base, *status_cond).order_by(*order)
                            .limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)).mappings().all()
        detectors = [r[0] for r in conn.execute(sa.select(L.c.detector).where(scope_clause(user)).distinct()
                                                .order_by(L.c.detector))]
        townships = [r[0] for r in conn.execute(sa.select(L.c.township_code).where(scope_clause(user)).distinct()
                                                .order_by(L.c.township_code))]
    items = [dict(r, title=r["title"] if user.can_unmask else mask_text(r["title"])) for r in rows]
    return dict(items=items, counts=counts, total=total, pages=max(1, -(-total // PAGE_SIZE)),
                detectors=detectors, townships=townships)


def lead_row(engine: sa.Engine, lead_id: str):
    with engine.connect() as conn:
        return conn.execute(sa.select(L).where(L.c.lead_id == lead_id)).mappings().first()


def evidence(engine: sa.Engine, lead_id: str, unmask: bool, user: User | None = None) -> list[dict]:
    """The evidence records as tables, one per source table, read from the warehouse. A record of a village
    outside ``user``'s scope (a case can cross villages) is left out and counted as ``outside``."""
    with engine.connect() as conn:
        refs = conn.execute(sa.select(EV.c.source_table, EV.c.record_id, EV.c.source_file, EV.c.source_sheet,
                                      EV.c.source_row).where(EV.c.lead_id == lead_id)).all()
        by_table: dict[str, list[str]] = {}
        stamped: dict[tuple[str, str], tuple] = {}
        for t, rid, f, s, n in refs:
            by_table.setdefault(t, []).append(rid)
            if f:
                stamped[(t, rid)] = (f, s, n)
        out = []
        for t, ids in by_table.items():
            if t not in store.WAREHOUSE:
                continue
            wh, table = store.WAREHOUSE[t], TABLES[t]
            cols = [c for c in table.column_names if c in wh.c and c != "extra"]
            rows: list = []
            for i in range(0, len(ids), 500):
                rows += conn.execute(sa.select(*[wh.c[c] for c in cols], wh.c.source_file, wh.c.source_sheet,
                                               wh.c.source_row)
                                     .where(wh.c[table.record_id].in_(ids[i:i + 500]))).mappings().all()
            outside = 0
            if user is not None and "village_code" in cols:
                kept = [r for r in rows if user.sees(r["village_code"])]
                outside, rows = len(rows) - len(kept), kept
            shown = [c for c in cols if any(r[c] not in (None, "") for r in rows)]
            body = [[source_label(*stamped.get((t, str(r[table.record_id])),
                                               (r["source_file"], r["source_sheet"], r["source_row"])))]
                    + [_cell(r[c], c, unmask) for c in shown] for r in rows]
            out.append(dict(table=t, title=table.title, columns=["_source", *shown],
                            headers=["来源", *[_header(table, c) for c in shown]],
                            rows=body, outside=outside, missing=len(set(ids)) - len(rows) - outside))
    return out


def source_label(file: str | None, sheet: str | None, row: int | None) -> str:
    """来源 as a reviewer finds it in the export: 城关镇/新塘村/序时账.xlsx［一月］第 12 行."""
    if not file:
        return ""
    from pathlib import Path

    name = Path(file).name if Path(file).is_absolute() else file
    return f"{name}{f'［{sheet}］' if sheet else ''} 第 {row} 行" if row else name


def _header(table, column: str) -> str:
    a = table.column(column).aliases
    return a[0] if a else column


def _cell(v, column: str, unmask: bool) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime | dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float):
        return f"{v:,.2f}"
    if column in PUBLIC_CODES:
        return str(v)  # a 12-digit village code is no account number
    if column in SENSITIVE_COLUMNS and not unmask:
        return mask(re.sub(r"[ \-\u00a0]", "", str(v)))
    return str(v) if unmask else mask_text(str(v))  # an ID in 摘要, or in a name column, is masked too


def related(engine: sa.Engine, user: User, lead) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            sa.select(L.c.lead_id, L.c.title, L.c.status, L.c.amount_at_risk, L.c.detector)
            .where(L.c.case_id == lead["case_id"], L.c.lead_id != lead["lead_id"], scope_clause(user))
            .order_by(L.c.rank)).mappings()]


def overview(engine: sa.Engine, user: User) -> dict:
    open_ = L.c.status.in_(("new", "in_review"))
    fraud = L.c.detector.not_in(sorted(quality_sources()))
    with engine.connect() as conn:
        by_township = [dict(r) for r in conn.execute(
            sa.select(L.c.township_code, sa.func.count().label("n"), sa.func.sum(L.c.amount_at_risk).label("amount"))
            .where(scope_clause(user), open_, fraud).group_by(L.c.township_code).order_by(sa.desc("amount")))
            .mappings()]
        by_detector = [dict(r) for r in conn.execute(
            sa.select(L.c.detector, sa.func.count().label("n"), sa.func.sum(L.c.amount_at_risk).label("amount"))
            .where(scope_clause(user), open_).group_by(L.c.detector).order_by(sa.desc("n"))).mappings()]
        runs = [dict(r) for r in conn.execute(sa.select(store.runs).order_by(store.runs.c.run_id.desc()).limit(10))
                .mappings()]
    from ..review import confirmed_share

    share: dict[str, list[int]] = {}
    for s in confirmed_share(engine, scope_clause(user)):  # only verdicts on leads of the user's own villages
        agg = share.setdefault(s["detector"], [0, 0])
        agg[0] += s["reviewed"]
        agg[1] += s["confirmed"]
    for r in runs:
        r["docs_visible"] = bool(r["data_docs"]) and covers_run(user, r["parameters"])
        counts = json.loads(r["counts"] or "[]")
        r["read"] = sum(c["read"] for c in counts)
        r["quarantined"] = sum(c["quarantined"] for c in counts)
    return dict(by_township=by_township, by_detector=by_detector, runs=runs,
                share=[dict(detector=d, reviewed=n, confirmed=c, share=c / n if n else 0)
                       for d, (n, c) in sorted(share.items())])


def covers_run(user: User, parameters: str | None) -> bool:
    """Whether ``user``'s scope covers every village a run read: its county, or all for a run of unknown
    county."""
    if "*" in user.scope:
        return True
    try:
        county = json.loads(parameters or "{}")["config"]["region"]["county_code"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(county) and user.sees(str(county))


def export_rows(engine: sa.Engine, user: User, f: Filters | None = None, case_id: str | None = None,
                limit: int = 5000) -> list:
    with engine.connect() as conn:
        conds = _where(user, f, conn) if f else [scope_clause(user)]
        if f and f.status:
            conds.append(L.c.status == f.status)
        if case_id:
            conds.append(L.c.case_id == case_id)
        return list(conn.execute(sa.select(L).where(*conds).order_by(L.c.rank.is_(None), L.c.rank, L.c.lead_id)
                                 .limit(limit)).mappings().all())
