"""The review database's tables: warehouse tables (one per contract table), runs, quarantine, the review table
(leads, evidence, events), detector runs and carried results, places, the run lock, users, sessions, the access
log and row fingerprints. Alembic migrations (sql/migrations) create them; store.connect checks the revision."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from .contract import TABLES, Table

metadata = sa.MetaData()

_SA_TYPES = {"text": sa.Text, "code": sa.Text, "amount": sa.Float, "number": sa.Float, "date": sa.Date}


def _warehouse_table(t: Table) -> sa.Table:
    cols: list[sa.Column] = [sa.Column("row_key", sa.Text, primary_key=True)]
    cols += [sa.Column(c.name, _SA_TYPES[c.kind]()) for c in t.columns]
    cols += [sa.Column("source_file", sa.Text), sa.Column("source_row", sa.Integer),
             sa.Column("loaded_run", sa.Integer), sa.Column("source_sheet", sa.Text)]
    idx = [sa.Index(f"ix_wh_{t.name}_village", "village_code")]
    if t.record_id != t.unique_key[0] or t.key:
        idx.append(sa.Index(f"ix_wh_{t.name}_record", t.record_id))
    return sa.Table(f"wh_{t.name}", metadata, *cols, *idx)


WAREHOUSE: dict[str, sa.Table] = {name: _warehouse_table(t) for name, t in TABLES.items()}

runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.Text, nullable=False),  # running / success / partial / failed
    sa.Column("source", sa.Text),
    sa.Column("parameters", sa.Text),  # JSON: config and detector parameters used, for traceability
    sa.Column("counts", sa.Text),  # JSON: per table read / loaded / quarantined
    sa.Column("stages", sa.Text),  # JSON: seconds per stage
    sa.Column("leads_new", sa.Integer),
    sa.Column("leads_updated", sa.Integer),
    sa.Column("leads_reopened", sa.Integer),
    sa.Column("leads_resolved", sa.Integer),
    sa.Column("message", sa.Text),
    sa.Column("data_docs", sa.Text),  # index.html of the run's Data Docs (validation results)
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False, index=True),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("source_file", sa.Text),
    sa.Column("source_row", sa.Integer),
    sa.Column("raw", sa.Text),
    sa.Column("source_sheet", sa.Text),
    sa.Column("reasons", sa.Text),  # JSON list of {check, column, message, severity}
)

leads = sa.Table(
    "leads", metadata,
    sa.Column("lead_id", sa.Text, primary_key=True),
    sa.Column("detector", sa.Text, nullable=False, index=True),
    sa.Column("detector_version", sa.Text),
    sa.Column("case_id", sa.Text, index=True),
    sa.Column("village_code", sa.Text, index=True),
    sa.Column("township_code", sa.Text, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("priority", sa.Float, nullable=False),
    sa.Column("rank", sa.Integer, index=True),
    sa.Column("amount_at_risk", sa.Float),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("details", sa.Text),  # JSON: the features behind the score
    # review fields: written by people, never by the nightly run
    sa.Column("status", sa.Text, nullable=False, server_default="new"),
    sa.Column("assignee", sa.Text),
    sa.Column("first_seen_run", sa.Integer, nullable=False),
    sa.Column("last_seen_run", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

lead_evidence = sa.Table(
    "lead_evidence", metadata,
    sa.Column("lead_id", sa.Text, primary_key=True),
    sa.Column("source_table", sa.Text, primary_key=True),
    sa.Column("record_id", sa.Text, primary_key=True),
    # where the record came from when it became evidence: the export file, its sheet and row as the sheet shows it
    sa.Column("source_file", sa.Text),
    sa.Column("source_sheet", sa.Text),
    sa.Column("source_row", sa.Integer),
    sa.Index("ix_evidence_record", "source_table", "record_id"),
)

lead_events = sa.Table(
    "lead_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.Text, nullable=False, index=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),  # "pipeline" or a user name
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text),
    sa.Column("note", sa.Text),
)

# Review states as auditors read them (the lifecycle and its transitions are the review table's job).
STATUS_LABELS = {"new": "待核查", "in_review": "核查中", "confirmed": "属实", "dismissed": "不属实",
                 "referred": "已移交", "closed": "已办结", "resolved_by_data": "数据已更正"}

# One row per detector per run: which rule, at which version, with which effective parameters, how it ended, how
# many leads, how long. Which version of a rule produced a lead is part of the evidence.
run_detectors = sa.Table(
    "run_detectors", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("detector", sa.Text, primary_key=True),
    sa.Column("version", sa.Text),
    sa.Column("status", sa.Text, nullable=False),  # ran / skipped / disabled / failed
    sa.Column("leads", sa.Integer, nullable=False, server_default="0"),
    sa.Column("seconds", sa.Float),
    sa.Column("params", sa.Text),  # JSON
    sa.Column("reason", sa.Text),
    sa.Column("carried", sa.Text),  # all / "N of M villages run again" (carry.py); NULL: it ran on everything
)

# Each detector's last result and the key it was computed under (carry.py): a night whose key matches carries
# the leads over instead of running the detector again.
detector_carry = sa.Table(
    "detector_carry", metadata,
    sa.Column("detector", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, nullable=False),  # hash of code, version, parameters, configuration, tables read
    sa.Column("villages", sa.Text),  # JSON village → hash of its rows (village-scope detectors)
    sa.Column("leads", sa.Text, nullable=False),  # JSON list of leads
    sa.Column("notes", sa.Text),  # JSON list
    sa.Column("run_id", sa.Integer),  # the run that stored it
)


# What auditors read instead of codes: each village's and township's name, from the county's village directory or,
# without one, the name the books give the village (ledger village_name). Rewritten by every run that knows names.
places = sa.Table(
    "places", metadata,
    sa.Column("code", sa.Text, primary_key=True),  # 12-digit village or 9-digit township code
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("source", sa.Text),  # directory / books
)


run_lock = sa.Table(
    "run_lock", metadata,
    sa.Column("name", sa.Text, primary_key=True),  # one row while a run writes this database
    sa.Column("run_label", sa.Text),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.DateTime, nullable=False),
)


users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text),
    sa.Column("password_hash", sa.Text, nullable=False),  # scrypt, see web/auth.py
    sa.Column("role", sa.Text, nullable=False),  # auditor / supervisor / admin
    sa.Column("scope", sa.Text, nullable=False),  # JSON list of code prefixes (county 6, township 9 digits) or ["*"]
    sa.Column("can_unmask", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("password_changed_at", sa.DateTime, nullable=False),
)

# Sign-in failures per name typed, whether or not an account has that name: an unknown name is throttled and
# locked exactly like a real one, so the answers do not tell accounts apart. The counter rises before the
# password is checked, in one UPDATE, so parallel guesses cannot slip past the lock.
sign_in_failures = sa.Table(
    "sign_in_failures", metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("last_at", sa.DateTime),
)

# Server-side sessions: the cookie holds a random token, this table its keyed hash. Signing out revokes the one
# session; a password reset or disabling the account revokes all of them, and enabling it again revives none.
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, nullable=False, index=True),
    sa.Column("csrf", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
    sa.Column("client", sa.Text),
)

access_log = sa.Table(
    "access_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("username", sa.Text),
    sa.Column("action", sa.Text, nullable=False),  # login / login_failed / forbidden / unmask / export / csrf
    sa.Column("lead_id", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Column("client", sa.Text),
)

# Fingerprints (64-bit hashes of the raw values) of source rows that loaded cleanly: a nightly run skips a row
# whose fingerprint is here. Quarantined rows and rows loaded with warnings are never remembered, so they are
# looked at again every night until fixed. One row per table and run holds that run's fingerprints as a packed
# int64 array: a million fingerprints are 8 MB, written and read in milliseconds.
source_rows = sa.Table(
    "source_rows", metadata,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("hashes", sa.LargeBinary, nullable=False),
    # how the fingerprints were computed (incremental.SCHEME); NULL: pandas' hash, before revision 0018. Rows of
    # another scheme never match tonight's, so a change of scheme processes every row once again
    sa.Column("scheme", sa.Text),
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
