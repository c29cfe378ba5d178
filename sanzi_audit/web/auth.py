"""Accounts, passwords, sessions, CSRF, scope and masking for the review page.

- Passwords: scrypt (n=2^14, r=8, p=1, 16-byte salt), compared in constant time.
- Sessions are kept server-side (table ``sessions``): the cookie holds a random token and the table its HMAC
  under the server secret (SANZI_SECRET_KEY, or a file created with mode 0600 on first start). Signing out revokes
  that session; a password reset or disabling the account revokes every session of it. HttpOnly, SameSite=Strict.
- Sign-in: the form carries a token bound to a cookie set with it (no login CSRF). Failures are counted per name
  typed, real or not (table ``sign_in_failures``), and counted *before* the password is checked in one UPDATE
  that refuses while the name is locked, so parallel guesses cannot slip past the lock. After 5 failures a name is
  locked for 30 s, doubling per further failure up to 15 min. Unknown names, disabled accounts and real ones cost
  the same hashing time and the same answers.
- Scope: an account lists code prefixes (a 6-digit county, a 9-digit township, a 12-digit village) or "*";
  a lead is visible when its village code starts with one of them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from .. import store
from ..masking import SENSITIVE_COLUMNS, mask  # noqa: F401  (re-exported for the web layer)

ROLES = {"auditor": "核查员", "supervisor": "组长", "admin": "管理员"}
MAX_FAILURES = 5
SESSION_HOURS = 10
_SCRYPT = dict(n=2**14, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)


class AuthError(ValueError):
    """A user-management or sign-in problem; the message is for the person at the keyboard."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, key = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=_SCRYPT["maxmem"], dklen=len(_unb64(key)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(key))


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_hex(8)))
    return _DUMMY[0]


def check_password_strength(password: str) -> None:
    if len(password) < 10:
        raise AuthError("密码至少 10 位")
    if password.isdigit() or password.isalpha():
        raise AuthError("密码须同时包含字母和数字或符号")


# ---- accounts --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    scope: tuple[str, ...]
    can_unmask: bool

    def sees(self, village_code: str | None) -> bool:
        if "*" in self.scope:
            return True
        return bool(village_code) and any(str(village_code).startswith(p) for p in self.scope)

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _user(row) -> User:
    return User(row.username, row.display_name or row.username, row.role, tuple(json.loads(row.scope)),
                bool(row.can_unmask))


def parse_scope(scope: str) -> list[str]:
    parts = [p.strip() for p in scope.replace("，", ",").split(",") if p.strip()]
    if not parts:
        raise AuthError("须指定可查看范围：县（6 位）、乡镇（9 位）或村（12 位）代码，多个用逗号分隔；全部用 *")
    for p in parts:
        if p != "*" and not (p.isdigit() and len(p) in (6, 9, 12)):
            raise AuthError(f"范围“{p}”无效：应为 6 位县代码、9 位乡镇代码、12 位村代码或 *")
    return parts


def add_user(engine: sa.Engine, username: str, password: str, role: str, scope: str, display_name: str | None = None,
             can_unmask: bool = False) -> None:
    if role not in ROLES:
        raise AuthError(f"角色应为 {', '.join(ROLES)} 之一")
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        raise AuthError("用户名只能包含字母、数字、下划线和点")
    check_password_strength(password)
    ts = store.now()
    with engine.begin() as conn:
        if conn.execute(sa.select(store.users.c.username).where(store.users.c.username == username)).first():
            raise AuthError(f"用户 {username} 已存在")
        conn.execute(store.users.insert().values(
            username=username, display_name=display_name or username, password_hash=hash_password(password),
            role=role, scope=json.dumps(parse_scope(scope)), can_unmask=can_unmask, disabled=False, failed_logins=0,
            created_at=ts, password_changed_at=ts))


def set_disabled(engine: sa.Engine, username: str, disabled: bool = True) -> None:
    with engine.begin() as conn:
        res = conn.execute(store.users.update().where(store.users.c.username == username).values(disabled=disabled))
    if res.rowcount != 1:
        raise AuthError(f"用户 {username} 不存在")
    if disabled:
        revoke_all(engine, username)


def reset_password(engine: sa.Engine, username: str, password: str) -> None:
    check_password_strength(password)
    with engine.begin() as conn:
        res = conn.execute(store.users.update().where(store.users.c.username == username).values(
            password_hash=hash_password(password), password_changed_at=store.now()))
        conn.execute(store.sign_in_failures.delete().where(store.sign_in_failures.c.username == username))
    if res.rowcount != 1:
        raise AuthError(f"用户 {username} 不存在")
    revoke_all(engine, username)


def list_users(engine: sa.Engine) -> list[dict]:
    u, f = store.users, store.sign_in_failures
    with engine.connect() as conn:
        rows = conn.execute(sa.select(u, sa.func.coalesce(f.c.failures, 0).label("failures"))
                            .outerjoin(f, f.c.username == u.c.username).order_by(u.c.username)).mappings()
        return [dict(r, failed_logins=r["failures"]) for r in rows]


def get_user(engine: sa.Engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.users).where(store.users.c.username == username,
                                                        store.users.c.disabled == sa.false())).first()
    return _user(row) if row else None


FAIL_DELAY = 0.3  # seconds added to every failed sign-in, real name or not


def _lock_for(failures: int) -> int:
    return min(900, 30 * 2 ** (failures - MAX_FAILURES))


def _reserve_attempt(engine: sa.Engine, name: str, now: dt.datetime) -> bool:
    """Count one attempt for ``name`` unless it is locked; False when locked. The check and the count are one
    UPDATE, so of any number of parallel attempts only those before the lock are let through."""
    t = store.sign_in_failures
    n = t.c.failures + 1
    lock = sa.case((n < MAX_FAILURES, sa.null()),
                   *((n == k, sa.literal(now + dt.timedelta(seconds=_lock_for(k)), sa.DateTime))
                     for k in range(MAX_FAILURES, MAX_FAILURES + 6)),
                   else_=sa.literal(now + dt.timedelta(seconds=900), sa.DateTime))
    stmt = (t.update().where(t.c.username == name, sa.or_(t.c.locked_until.is_(None), t.c.locked_until <= now))
            .values(failures=n, locked_until=lock, last_at=now))
    for _ in range(2):
        with engine.begin() as conn:
            if conn.execute(stmt).rowcount == 1:
                return True
            if conn.execute(sa.select(t.c.username).where(t.c.username == name)).first():
                return False
        try:
            with engine.begin() as conn:
                conn.execute(t.insert().values(username=name, failures=0, last_at=now))
        except sa.exc.IntegrityError:
            pass  # a parallel attempt created it: count on it
    return False


def _locked_message(engine: sa.Engine, name: str, now: dt.datetime) -> str:
    with engine.connect() as conn:
        until = conn.execute(sa.select(store.sign_in_failures.c.locked_until)
                             .where(store.sign_in_failures.c.username == name)).scalar()
    wait = int((until - now).total_seconds()) + 1 if until else 1
    return f"登录失败次数过多，请 {max(wait, 1)} 秒后再试"


def authenticate(engine: sa.Engine, username: str, password: str, client: str = "") -> User:
    """The user, or AuthError with a message that does not reveal whether the name exists: an unknown or
    disabled name is hashed, counted, locked and delayed exactly like a real one."""
    now = store.now()
    name = username[:150]
    allowed = _reserve_attempt(engine, name, now)
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.users).where(store.users.c.username == name)).first()
    real = row is not None and not row.disabled
    ok = verify_password(password, row.password_hash if real and row is not None else _dummy_hash())  # same cost either way
    if not allowed:
        log(engine, name, "login_failed", detail="locked", client=client)
        time.sleep(FAIL_DELAY)
        raise AuthError(_locked_message(engine, name, now))
    if not (real and ok):
        log(engine, name, "login_failed", detail="bad password" if real else "unknown or disabled", client=client)
        time.sleep(FAIL_DELAY)  # slows scripted guessing, and the same for every name
        raise AuthError("用户名或密码错误")
    with engine.begin() as conn:
        conn.execute(store.sign_in_failures.update().where(store.sign_in_failures.c.username == name)
                     .values(failures=0, locked_until=None))
    log(engine, name, "login", client=client)
    return _user(row)


def log(engine: sa.Engine, username: str | None, action: str, lead_id: str | None = None, detail: str | None = None,
        client: str = "") -> None:
    with engine.begin() as conn:
        conn.execute(store.access_log.insert().values(at=store.now(), username=username, action=action,
                                                      lead_id=lead_id, detail=detail, client=client or None))


# ---- sessions and CSRF ---------------------------------------------------------------------------------

def load_secret() -> bytes:
    """SANZI_SECRET_KEY, else a random key kept in SANZI_SECRET_FILE (default ~/.config/sanzi-audit/secret)."""
    env = os.environ.get("SANZI_SECRET_KEY")
    if env:
        if len(env) < 32:
            raise AuthError("SANZI_SECRET_KEY 至少 32 个字符")
        return env.encode("utf-8")
    path = Path(os.environ.get("SANZI_SECRET_FILE", Path.home() / ".config" / "sanzi-audit" / "secret"))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def _token_hash(secret: bytes, token: str) -> str:
    return hmac.new(secret, token.encode("utf-8"), hashlib.sha256).hexdigest()


def create_session(engine: sa.Engine, secret: bytes, username: str, client: str = "",
                   hours: int = SESSION_HOURS) -> str:
    """A new session for ``username``; returns the cookie value (a random token)."""
    token = secrets.token_urlsafe(32)
    now = store.now()
    with engine.begin() as conn:
        conn.execute(store.sessions.insert().values(
            token_hash=_token_hash(secret, token), username=username, csrf=secrets.token_urlsafe(24),
            created_at=now, expires_at=now + dt.timedelta(hours=hours), client=client or None))
        conn.execute(store.sessions.delete().where(store.sessions.c.expires_at < now))  # keep the table small
    return token


def read_session(engine: sa.Engine, secret: bytes, token: str | None) -> tuple[User, dict] | None:
    """(user, session) for a live session of an enabled account, else None."""
    if not token or len(token) > 200:
        return None
    s, u = store.sessions, store.users
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(u, s.c.csrf.label("session_csrf"), s.c.token_hash)
            .join(s, s.c.username == u.c.username)
            .where(s.c.token_hash == _token_hash(secret, token), s.c.revoked_at.is_(None),
                   s.c.expires_at > store.now(), u.c.disabled == sa.false())).first()
    if row is None:
        return None
    return _user(row), {"u": row.username, "csrf": row.session_csrf, "token_hash": row.token_hash}


def revoke_session(engine: sa.Engine, secret: bytes, token: str | None) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(store.sessions.update().where(store.sessions.c.token_hash == _token_hash(secret, token))
                         .values(revoked_at=store.now()))


def revoke_all(engine: sa.Engine, username: str) -> int:
    """Revoke every live session of ``username``; the number revoked."""
    with engine.begin() as conn:
        return conn.execute(store.sessions.update().where(store.sessions.c.username == username,
                                                          store.sessions.c.revoked_at.is_(None))
                            .values(revoked_at=store.now())).rowcount


def csrf_ok(session: dict, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(session.get("csrf", "")), str(token))


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
