"""Accounts, passwords, sessions, CSRF, scope and masking for the review page.

- Passwords: scrypt (n=2^14, r=8, p=1, 16-byte salt), compared in constant time.
- Sessions: a cookie holding {user, csrf token, expiry} signed with HMAC-SHA256 under a server secret
  (SANZI_SECRET_KEY, or a file created with mode 0600 on first start). HttpOnly, SameSite=Strict.
- Sign-in throttling: after 5 consecutive failures an account is locked for 30 s, doubling per further failure
  up to 15 min; unknown names cost the same hashing time as known ones.
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


def reset_password(engine: sa.Engine, username: str, password: str) -> None:
    check_password_strength(password)
    with engine.begin() as conn:
        res = conn.execute(store.users.update().where(store.users.c.username == username).values(
            password_hash=hash_password(password), failed_logins=0, locked_until=None,
            password_changed_at=store.now()))
    if res.rowcount != 1:
        raise AuthError(f"用户 {username} 不存在")


def list_users(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(store.users).order_by(store.users.c.username)).mappings()]


def get_user(engine: sa.Engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.users).where(store.users.c.username == username,
                                                        store.users.c.disabled == sa.false())).first()
    return _user(row) if row else None


def authenticate(engine: sa.Engine, username: str, password: str, client: str = "") -> User:
    """The user, or AuthError with a message that does not reveal whether the name exists."""
    now = store.now()
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.users).where(store.users.c.username == username)).first()
    if row is None or row.disabled:
        verify_password(password, _dummy_hash())  # same cost as a real check
        log(engine, username, "login_failed", detail="unknown or disabled", client=client)
        raise AuthError("用户名或密码错误")
    if row.locked_until and row.locked_until > now:
        wait = int((row.locked_until - now).total_seconds()) + 1
        log(engine, username, "login_failed", detail="locked", client=client)
        raise AuthError(f"登录失败次数过多，请 {wait} 秒后再试")
    if not verify_password(password, row.password_hash):
        failures = row.failed_logins + 1
        locked = None
        if failures >= MAX_FAILURES:
            locked = now + dt.timedelta(seconds=min(900, 30 * 2 ** (failures - MAX_FAILURES)))
        with engine.begin() as conn:
            conn.execute(store.users.update().where(store.users.c.username == username)
                         .values(failed_logins=failures, locked_until=locked))
        log(engine, username, "login_failed", detail=f"failures={failures}", client=client)
        time.sleep(0.3)  # slows scripted guessing a little more
        raise AuthError("用户名或密码错误")
    with engine.begin() as conn:
        conn.execute(store.users.update().where(store.users.c.username == username)
                     .values(failed_logins=0, locked_until=None))
    log(engine, username, "login", client=client)
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


def sign_session(secret: bytes, username: str, hours: int = SESSION_HOURS) -> str:
    payload = {"u": username, "csrf": secrets.token_urlsafe(24), "exp": int(time.time()) + hours * 3600}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    return f"{body}.{_b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())}"


def read_session(secret: bytes, cookie: str | None) -> dict | None:
    if not cookie or "." not in cookie:
        return None
    body, sig = cookie.rsplit(".", 1)
    want = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(sig, want):
        return None
    try:
        payload = json.loads(_unb64(body))
    except ValueError:
        return None
    if payload.get("exp", 0) < time.time():
        return None
    return payload


def csrf_ok(session: dict, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(session.get("csrf", "")), str(token))


# ---- masking -------------------------------------------------------------------------------------------

SENSITIVE_COLUMNS = {"claimant_id", "person_id", "counterparty_id", "vendor_id", "related_to", "bank_account",
                     "counterparty_account", "vendor_account", "payee_id", "household_head_id"}


def mask(value) -> str:
    """3301**********1234: keep the first 4 and last 4 characters of an ID or account number."""
    if value is None:
        return ""
    s = str(value)
    if len(s) <= 8:
        return s[:1] + "*" * (len(s) - 1) if s else s
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
