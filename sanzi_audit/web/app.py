"""The review page (FastAPI + Jinja2, server-rendered). Start it with ``sanzi serve``.

Pages: 登录 /login, 线索队列 /queue, 线索详情 /leads/{id}, 总览 /overview; exports /export.xlsx and
/cases/{id}/export.xlsx; each run's Data Docs under /runs/{id}/docs/. Every POST carries the session's CSRF
token; every lead is checked against the user's scope (403, logged).
"""

from __future__ import annotations

import collections
import hmac
import io
import json
import mimetypes
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from .. import review, store
from ..review import ReviewError
from . import auth, queries
from .auth import AuthError, User

HERE = Path(__file__).parent
COOKIE = "sanzi_session"
LOGIN_COOKIE = "sanzi_login"  # binds the sign-in form to the browser that loaded it
def detector_titles() -> dict[str, str]:
    """Titles from the detector registry (web, export and run summary read the same ones)."""
    from ..registry import detector_titles as titles

    return titles()


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Forbidden(Exception):
    def __init__(self, message: str):
        self.message = message


class SearchLimiter:
    """At most ``per_minute`` searches per user in any 60 s: the search box must not be a fast oracle."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.seen: dict[str, collections.deque] = {}
        self.lock = threading.Lock()

    def allow(self, username: str) -> bool:
        now = time.monotonic()
        with self.lock:
            q = self.seen.setdefault(username, collections.deque())
            while q and q[0] <= now - 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return False
            q.append(now)
            return True


class PlaceNames:
    """Village and township names by code (store.places), re-read at most once a minute: auditors read 新塘村, not
    330599101200. A code without a name shows as itself."""

    def __init__(self, engine, ttl: float = 60.0):
        self.engine, self.ttl, self._at = engine, ttl, -1e9
        self._names: dict[str, str] = {}

    def names(self) -> dict[str, str]:
        now = time.monotonic()
        if now - self._at > self.ttl:
            self._names, self._at = store.place_names(self.engine), now
        return self._names

    def name(self, code) -> str:
        code = str(code or "")
        return self.names().get(code) or code

    def label(self, code) -> str:
        """For the export: 新塘村（330599101200）."""
        code = str(code or "")
        n = self.names().get(code)
        return f"{n}（{code}）" if n else code


def create_app(db_url: str | None = None, secret: bytes | None = None, secure_cookie: bool = False,
               searches_per_minute: int = 30) -> FastAPI:
    engine = store.connect(db_url)
    limiter = SearchLimiter(searches_per_minute)
    secret = secret or auth.load_secret()
    app = FastAPI(title="三资疑点核查", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    env = templates.env
    titles = detector_titles()
    env.globals.update(status_labels=store.STATUS_LABELS, detector_titles=titles, roles=auth.ROLES)
    env.filters["pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=2, default=str)
    env.filters["money"] = lambda v: f"{(v or 0):,.2f}"
    env.filters["dt"] = lambda v: v.strftime("%Y-%m-%d %H:%M") if v else ""
    env.globals.update(money_fmt=lambda v: f"{(v or 0):,.0f} 元", count_fmt=lambda v: f"{v or 0} 条")
    places = PlaceNames(engine)
    env.globals.update(place=places.name)

    def client(request: Request) -> str:
        return request.client.host if request.client else ""

    def current(request: Request) -> tuple[User | None, dict | None]:
        found = auth.read_session(engine, secret, request.cookies.get(COOKIE))
        return found if found else (None, None)

    def page(request: Request, name: str, user: User | None, session: dict | None, status: int = 200, **ctx):
        resp = templates.TemplateResponse(request, name, dict(user=user, csrf=(session or {}).get("csrf", ""), **ctx),
                                          status_code=status)
        resp.headers.update(SECURITY_HEADERS)
        return resp

    def to_login() -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    def require(request: Request):
        user, session = current(request)
        if user is None:
            raise _Redirect()
        return user, session

    async def require_post(request: Request):
        user, session = require(request)
        form = await request.form()
        token = form.get("csrf")
        if not auth.csrf_ok(session, token if isinstance(token, str) else None):
            auth.log(engine, user.username, "csrf", detail=str(request.url.path), client=client(request))
            raise Forbidden("表单已失效或来源不明（CSRF 校验失败），请返回页面刷新后重试")
        return user, session, form

    def visible_lead(request: Request, user: User, lead_id: str):
        lead = queries.lead_row(engine, lead_id)
        if lead is None:
            raise _NotFound()
        if not user.sees(lead["village_code"]):
            # answered exactly as a lead that does not exist: lead ids are hashes of ID numbers, so a 403 would
            # tell an out-of-scope user that a computed id is real. The refusal is logged all the same.
            auth.log(engine, user.username, "forbidden", lead_id=lead_id, detail=str(request.url.path),
                     client=client(request))
            raise _NotFound()
        return lead

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        user, session = current(request)
        return page(request, "error.html", user, session, status=403, message=exc.message)

    @app.exception_handler(_Redirect)
    async def redirect(request: Request, exc):
        return to_login()

    @app.exception_handler(_NotFound)
    async def not_found(request: Request, exc):
        user, session = current(request)
        return page(request, "error.html", user, session, status=404, message="线索不存在，或不在您的查看范围内")

    # ---- sign in -------------------------------------------------------------------------------------

    def login_page(request: Request, status: int = 200, error: str | None = None, username: str = ""):
        token = secrets.token_urlsafe(24)
        resp = page(request, "login.html", None, None, status=status, error=error, username=username,
                    login_token=token)
        resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookie, max_age=3600,
                        path="/login")
        return resp

    def same_origin(request: Request) -> bool:
        """False only for a named foreign origin. Browsers send "null" under our Referrer-Policy no-referrer (and
        an attacker's page can ask for it too): then the SameSite=Strict login cookie, which a cross-site post
        never carries, is what decides."""
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            return True
        return urlsplit(origin).netloc == request.headers.get("host", "")

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        return login_page(request)

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""), csrf: str = Form("")):
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not (cookie and csrf and hmac.compare_digest(cookie, csrf)) or not same_origin(request):
            # a form on another site posting here would sign the victim's browser in as the attacker
            auth.log(engine, None, "csrf", detail="/login", client=client(request))
            return login_page(request, status=403, error="登录表单已失效或来源不明，请重新输入后登录")
        try:
            user = auth.authenticate(engine, username.strip(), password, client(request))
        except AuthError as exc:
            return login_page(request, status=401, error=str(exc), username=username)
        resp = RedirectResponse("/queue", status_code=303)
        resp.set_cookie(COOKIE, auth.create_session(engine, secret, user.username, client(request)), httponly=True,
                        samesite="strict", secure=secure_cookie, max_age=auth.SESSION_HOURS * 3600)
        resp.delete_cookie(LOGIN_COOKIE, path="/login")
        return resp

    @app.post("/logout")
    async def logout(request: Request):
        await require_post(request)
        auth.revoke_session(engine, secret, request.cookies.get(COOKIE))
        resp = to_login()
        resp.delete_cookie(COOKIE)
        return resp

    # ---- queue ---------------------------------------------------------------------------------------

    @app.get("/")
    def home():
        return RedirectResponse("/queue", status_code=303)

    def throttle(request: Request, user: User, f: queries.Filters) -> None:
        if f.q and not limiter.allow(user.username):
            auth.log(engine, user.username, "search_throttled", detail=f.q[:100], client=client(request))
            raise Throttled()

    @app.exception_handler(Throttled)
    async def throttled(request: Request, exc):
        user, session = current(request)
        resp = page(request, "error.html", user, session, status=429,
                    message=f"搜索过于频繁（每分钟最多 {limiter.per_minute} 次），请一分钟后再试")
        resp.headers["Retry-After"] = "60"
        return resp

    @app.get("/queue", response_class=HTMLResponse)
    def queue_page(request: Request):
        user, session = require(request)
        f = queries.Filters.from_query(request.query_params)
        throttle(request, user, f)
        data = queries.queue(engine, user, f)
        return page(request, "queue.html", user, session, f=f, **data)

    @app.get("/leads/{lead_id}", response_class=HTMLResponse)
    def lead_page(request: Request, lead_id: str, unmask: int = 0, message: str = "", error: str = ""):
        user, session = require(request)
        lead = visible_lead(request, user, lead_id)
        show = bool(unmask) and user.can_unmask
        if bool(unmask) and not user.can_unmask:
            auth.log(engine, user.username, "forbidden", lead_id=lead_id, detail="unmask", client=client(request))
        if show:
            auth.log(engine, user.username, "unmask", lead_id=lead_id, client=client(request))
        ev = queries.evidence(engine, lead_id, show, user)
        text = (lambda s: s) if show else queries.mask_text
        details = json.loads(lead["details"] or "{}")
        if not show:  # 评分依据 carries accounts and IDs too (shared_accounts: "account")
            details = queries.mask_value(details)
        return page(request, "lead.html", user, session, lead=lead, evidence=ev, text=text, details=details,
                    related=queries.related(engine, user, lead), history=review.history(engine, lead_id),
                    next_states=sorted(review.TRANSITIONS.get(lead["status"], set())), unmasked=show,
                    message=message, error=error)

    def back(lead_id: str, message: str = "", error: str = "") -> RedirectResponse:
        q = f"?message={quote(message)}" if message else f"?error={quote(error)}" if error else ""
        return RedirectResponse(f"/leads/{quote(lead_id)}{q}", status_code=303)

    @app.post("/leads/{lead_id}/status")
    async def change_status(request: Request, lead_id: str):
        user, _, form = await require_post(request)
        visible_lead(request, user, lead_id)
        to = str(form.get("to") or "")
        try:
            review.transition(engine, lead_id, to, user.username, note=str(form.get("note") or "").strip() or None,
                              target=str(form.get("target") or "").strip() or None)
        except ReviewError as exc:
            return back(lead_id, error=str(exc))
        return back(lead_id, message=f"已改为“{store.STATUS_LABELS.get(to, to)}”")

    @app.post("/leads/{lead_id}/note")
    async def note(request: Request, lead_id: str):
        user, _, form = await require_post(request)
        visible_lead(request, user, lead_id)
        try:
            review.add_note(engine, lead_id, user.username, str(form.get("note") or "")[:4000])
        except ReviewError as exc:
            return back(lead_id, error=str(exc))
        return back(lead_id, message="备注已保存")

    @app.post("/leads/{lead_id}/assign")
    async def assign(request: Request, lead_id: str):
        user, _, form = await require_post(request)
        lead = visible_lead(request, user, lead_id)
        if not user.is_supervisor:
            auth.log(engine, user.username, "forbidden", lead_id=lead_id, detail="assign", client=client(request))
            raise Forbidden("只有组长可以分派线索")
        to = str(form.get("assignee") or "").strip()
        target = auth.get_user(engine, to)
        if target is None or not target.sees(lead["village_code"]):
            return back(lead_id, error=f"用户“{to}”不存在、已停用或无权查看该村")
        review.assign(engine, lead_id, to, user.username)
        return back(lead_id, message=f"已分派给 {to}")

    # ---- exports -------------------------------------------------------------------------------------

    @app.get("/export.xlsx")
    def export_queue(request: Request):
        user, _ = require(request)
        f = queries.Filters.from_query(request.query_params)
        throttle(request, user, f)
        rows = queries.export_rows(engine, user, f)
        auth.log(engine, user.username, "unmask" if user.can_unmask else "export",
                 detail=f"export queue {f.query_string()} rows={len(rows)}",
                 client=client(request))
        return _xlsx(engine, user, rows, "线索台账.xlsx", titles, places)

    @app.get("/cases/{case_id}/export.xlsx")
    def export_case(request: Request, case_id: str):
        user, _ = require(request)
        rows = queries.export_rows(engine, user, case_id=case_id)
        if not rows:
            visible_lead(request, user, case_id)  # a case id is its smallest lead id: refuses or 404s properly
        auth.log(engine, user.username, "unmask" if user.can_unmask else "export",
                 detail=f"export case {case_id} rows={len(rows)}", client=client(request))
        return _xlsx(engine, user, rows, f"线索台账-{case_id.split(':')[-1]}.xlsx", titles, places)

    # ---- accounts (admin) ------------------------------------------------------------------------------

    @app.get("/admin/users", response_class=HTMLResponse)
    def users_page(request: Request, message: str = ""):
        user, session = require(request)
        if not user.is_admin:
            auth.log(engine, user.username, "forbidden", detail="/admin/users", client=client(request))
            raise Forbidden("只有管理员可以管理账号")
        rows = [dict(u, scope=", ".join(json.loads(u["scope"]))) for u in auth.list_users(engine)]
        return page(request, "users.html", user, session, users=rows, message=message)

    @app.post("/admin/users/{username}/disabled")
    async def set_disabled(request: Request, username: str):
        user, _, form = await require_post(request)
        if not user.is_admin:
            auth.log(engine, user.username, "forbidden", detail=f"disable {username}", client=client(request))
            raise Forbidden("只有管理员可以管理账号")
        if username == user.username:
            return RedirectResponse(f"/admin/users?message={quote('不能停用自己的账号')}", status_code=303)
        disabled = form.get("disabled") == "1"
        try:
            auth.set_disabled(engine, username, disabled)
        except AuthError as exc:
            return RedirectResponse(f"/admin/users?message={quote(str(exc))}", status_code=303)
        auth.log(engine, user.username, "user_disabled" if disabled else "user_enabled", detail=username,
                 client=client(request))
        return RedirectResponse(f"/admin/users?message={quote(('已停用 ' if disabled else '已启用 ') + username)}",
                                status_code=303)

    # ---- overview and Data Docs --------------------------------------------------------------------------

    @app.get("/overview", response_class=HTMLResponse)
    def overview(request: Request):
        user, session = require(request)
        return page(request, "overview.html", user, session, **queries.overview(engine, user))

    @app.get("/runs/{run_id}/docs/{path:path}")
    def data_docs(request: Request, run_id: int, path: str = "index.html"):
        user, _ = require(request)
        with engine.connect() as conn:
            row = conn.execute(sa.select(store.runs.c.data_docs, store.runs.c.parameters)
                               .where(store.runs.c.run_id == run_id)).first()
        if not row or not row.data_docs:
            raise _NotFound()
        if not queries.covers_run(user, row.parameters):
            # Data Docs report every village's failed values: only a user who sees the whole run reads them
            auth.log(engine, user.username, "forbidden", detail=f"data docs run {run_id}", client=client(request))
            raise Forbidden("数据校验报告涉及全县各村的数据，只有可查看全县的账号可以打开")
        index = row.data_docs
        if "\x00" in path or len(path) > 500:
            raise _NotFound()
        root = Path(index).parent.resolve()
        target = (root / (path or "index.html")).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise _NotFound()
        resp = Response(target.read_bytes(), media_type=mimetypes.guess_type(target.name)[0] or "text/plain")
        resp.headers["Content-Security-Policy"] = "sandbox; default-src 'self' 'unsafe-inline'"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    return app


class _Redirect(Exception):
    pass


class _NotFound(Exception):
    pass


class Throttled(Exception):
    pass


def _xlsx(engine, user: User, rows, filename: str, titles: dict[str, str], places: PlaceNames) -> Response:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "线索台账"
    head = ["排名", "线索编号", "案件编号", "检测类型", "乡镇", "村", "状态", "分数", "涉及金额(元)", "疑点", "说明", "核查人"]
    ws.append(head)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    text = (lambda s: s or "") if user.can_unmask else queries.mask_text
    for r in rows:
        ws.append([r["rank"], r["lead_id"], r["case_id"], titles.get(r["detector"], r["detector"]),
                   places.label(str(r["village_code"])[:9]), places.label(r["village_code"]),
                   store.STATUS_LABELS.get(r["status"], r["status"]), round(r["score"], 3),
                   round(r["amount_at_risk"] or 0, 2), text(r["title"]), text(r["explanation"]), r["assignee"]])
    for c in ws[1]:
        c.font = Font(bold=True)
    for col, width in zip("ABCDEFGHIJKL", (6, 30, 30, 14, 22, 24, 8, 7, 14, 40, 80, 10), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        row[10].alignment = Alignment(wrap_text=True, vertical="top")
    ev = wb.create_sheet("证据")
    ev.append(["线索编号", "来源表", "记录"])
    for r in rows[:500]:
        for block in queries.evidence(engine, r["lead_id"], user.can_unmask, user):
            for values in block["rows"]:
                ev.append([r["lead_id"], block["title"], "；".join(f"{h}: {v}" for h, v in
                                                               zip(block["headers"], values, strict=True) if v)])
            if block["outside"]:
                ev.append([r["lead_id"], block["title"], f"另有 {block['outside']} 条记录属于查看范围以外的村，未导出"])
    buf = io.BytesIO()
    wb.save(buf)
    return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
                             **SECURITY_HEADERS})
