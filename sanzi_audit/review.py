"""Review actions on leads: validated status transitions, assignment and notes, each an append-only event.

The review page and the CLI use these functions; the nightly run never writes review fields except through
the system transitions in ``pipeline.publish`` (reopen, resolved by data), which are recorded the same way.

    待核查 new ──take──▶ 核查中 in_review ──▶ 属实 confirmed / 不属实 dismissed / 已移交 referred ──▶ 已办结 closed
                         in_review ──release──▶ new              confirmed ──▶ referred
"""

from __future__ import annotations

import sqlalchemy as sa

from . import store

# Transitions a person may make. The pipeline's own (reopen, resolved_by_data) are in SYSTEM_TRANSITIONS.
TRANSITIONS: dict[str, set[str]] = {
    "new": {"in_review"},
    "in_review": {"new", "confirmed", "dismissed", "referred"},
    "confirmed": {"referred", "closed"},
    "referred": {"closed"},
    "dismissed": {"closed"},
    "closed": set(),
    "resolved_by_data": set(),
}
OPEN = ("new", "in_review")
# The pipeline's own moves (pipeline.publish uses these): which states each may leave.
SYSTEM_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reopen": ("dismissed", "closed", "resolved_by_data"),  # → new, when the evidence grows materially
    "resolved_by_data": OPEN,  # → resolved_by_data, when the anomaly is gone from the source
}
NEEDS_REASON = {"confirmed", "dismissed"}
NEEDS_TARGET = {"referred"}
PIPELINE = "pipeline"


class ReviewError(ValueError):
    """A review action that is not allowed; the message is for the auditor."""


def label(status: str) -> str:
    return store.STATUS_LABELS.get(status, status)


def transition(engine: sa.Engine, lead_id: str, to_status: str, actor: str, note: str | None = None,
               target: str | None = None) -> None:
    """Move a lead to ``to_status`` if the lifecycle allows it; the check and the write are one statement,
    so two reviewers acting at once cannot both succeed from the same state."""
    if actor == PIPELINE:
        raise ReviewError("系统操作不能通过人工状态变更接口执行")
    with engine.begin() as conn:
        current = conn.execute(sa.select(store.leads.c.status).where(store.leads.c.lead_id == lead_id)).scalar()
        if current is None:
            raise ReviewError(f"线索 {lead_id} 不存在")
        if to_status not in TRANSITIONS.get(current, set()):
            raise ReviewError(f"线索当前为“{label(current)}”，不能改为“{label(to_status)}”")
        if to_status in NEEDS_REASON and not (note or "").strip():
            raise ReviewError(f"改为“{label(to_status)}”必须填写理由")
        if to_status in NEEDS_TARGET and not (target or "").strip():
            raise ReviewError("移交必须填写移交对象")
        ts = store.now()
        values = dict(status=to_status, updated_at=ts)
        if to_status == "in_review":
            values["assignee"] = actor
        res = conn.execute(store.leads.update()
                           .where(store.leads.c.lead_id == lead_id, store.leads.c.status == current).values(**values))
        if res.rowcount != 1:
            raise ReviewError("线索状态已被他人修改，请刷新后重试")
        text = "；".join(x for x in (note, f"移交至 {target}" if target else None) if x)
        conn.execute(store.lead_events.insert().values(lead_id=lead_id, at=ts, actor=actor, event="status",
                                                       from_status=current, to_status=to_status, note=text or None))


def assign(engine: sa.Engine, lead_id: str, assignee: str, actor: str, note: str | None = None) -> None:
    """(Re)assign a lead; status is unchanged."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(store.leads.c.status, store.leads.c.assignee)
                           .where(store.leads.c.lead_id == lead_id)).first()
        if row is None:
            raise ReviewError(f"线索 {lead_id} 不存在")
        ts = store.now()
        conn.execute(store.leads.update().where(store.leads.c.lead_id == lead_id).values(assignee=assignee, updated_at=ts))
        conn.execute(store.lead_events.insert().values(
            lead_id=lead_id, at=ts, actor=actor, event="assigned", from_status=row.status, to_status=row.status,
            note=f"{row.assignee or '（无）'} → {assignee}" + (f"；{note}" if note else "")))


def add_note(engine: sa.Engine, lead_id: str, actor: str, note: str) -> None:
    if not note.strip():
        raise ReviewError("备注不能为空")
    with engine.begin() as conn:
        status = conn.execute(sa.select(store.leads.c.status).where(store.leads.c.lead_id == lead_id)).scalar()
        if status is None:
            raise ReviewError(f"线索 {lead_id} 不存在")
        conn.execute(store.lead_events.insert().values(lead_id=lead_id, at=store.now(), actor=actor, event="note",
                                                       from_status=status, to_status=status, note=note))


def history(engine: sa.Engine, lead_id: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(store.lead_events).where(store.lead_events.c.lead_id == lead_id)
                            .order_by(store.lead_events.c.id)).mappings().all()
    return [dict(r) for r in rows]


def confirmed_share(engine: sa.Engine, where=None) -> list[dict]:
    """Per detector and township: leads given a verdict, and the share whose latest verdict is 属实 or 已移交.

    This is precision in practice; a detector's ranking weight may be tuned from it (docs/ranking.md).
    ``where`` restricts the leads counted (the review page passes the user's scope on village codes).
    """
    ev, ld = store.lead_events, store.leads
    verdict = ("confirmed", "dismissed", "referred")
    last = (sa.select(ev.c.lead_id, sa.func.max(ev.c.id).label("id"))
            .where(ev.c.event == "status", ev.c.to_status.in_(verdict)).group_by(ev.c.lead_id).subquery())
    q = (sa.select(ld.c.detector, ld.c.township_code, sa.func.count().label("reviewed"),
                   sa.func.sum(sa.case((ev.c.to_status.in_(("confirmed", "referred")), 1), else_=0)).label("confirmed"))
         .select_from(last.join(ev, ev.c.id == last.c.id).join(ld, ld.c.lead_id == last.c.lead_id))
         .where(where if where is not None else sa.true())
         .group_by(ld.c.detector, ld.c.township_code).order_by(ld.c.detector, ld.c.township_code))
    with engine.connect() as conn:
        return [dict(detector=r.detector, township_code=r.township_code, reviewed=int(r.reviewed),
                     confirmed=int(r.confirmed or 0), share=(r.confirmed or 0) / r.reviewed)
                for r in conn.execute(q)]
