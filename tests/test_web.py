"""The review page over HTTP against a real server: sign-in, scope, CSRF, masking, actions, exports."""

import io
import re
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from sanzi_audit import store
from sanzi_audit.web import auth

from .web_helpers import PASSWORD, review_site


@pytest.fixture(scope="module")
def site(tmp_path_factory, small_county):
    yield from review_site(tmp_path_factory, small_county, "web")


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _OPEN:
        _OPEN.pop().close()


def anonymous(site) -> httpx.Client:
    c = httpx.Client(base_url=site[0].base, follow_redirects=False)
    _OPEN.append(c)
    return c


def sign_in(c: httpx.Client, user: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the form as a browser does: load it (its token and cookie), then post it."""
    token = csrf_of(c.get("/login").text)
    return c.post("/login", data={"username": user, "password": password, "csrf": token})


def client(site, user="li") -> httpx.Client:
    c = anonymous(site)
    r = sign_in(c, user)
    assert r.status_code == 303, r.text
    return c


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def lead_in(engine, township: str, detector_like: str = "%") -> str:
    with engine.connect() as c:
        return c.execute(sa.text("SELECT lead_id FROM leads WHERE village_code = :t AND detector LIKE :d "
                                 "AND detector != 'data_quality' ORDER BY rank LIMIT 1"),
                         {"t": township, "d": detector_like}).scalar()


def access_log(engine, action: str) -> list:
    with engine.connect() as c:
        return c.execute(sa.select(store.access_log).where(store.access_log.c.action == action)).all()


def test_pages_need_sign_in(site):
    c = anonymous(site)
    for path in ("/queue", "/overview", "/export.xlsx", "/leads/x"):
        assert c.get(path).headers["location"] == "/login"


def test_passwords_are_hashed_with_scrypt(site):
    engine = site[1]
    with engine.connect() as c:
        stored = c.execute(sa.select(store.users.c.password_hash)).scalars().all()
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in stored)
    assert len(set(stored)) == len(stored)  # salted


def test_queue_shows_only_the_users_scope(site):
    _, engine, townships = site
    html = client(site).get("/queue", params={"kind": "all"}).text
    shown = set(re.findall(r"<td title=\"(\d{12})\">", html))
    assert shown and all(v.startswith(townships[0]) for v in shown)


def test_lead_outside_scope_is_refused_and_logged(site):
    _, engine, townships = site
    other = lead_in(engine, townships[1])
    before = len(access_log(engine, "forbidden"))
    r = client(site).get(f"/leads/{other}")
    missing = client(site).get("/leads/split_contracts:0000000000000000")
    # the same answer as a lead that does not exist (no existence oracle), and the refusal is logged
    def page_text(resp):
        return re.sub(r'value="[^"]+"', "", resp.text)  # each session has its own CSRF token

    assert r.status_code == missing.status_code == 404 and page_text(r) == page_text(missing)
    logged = access_log(engine, "forbidden")
    assert len(logged) == before + 1 and logged[-1].username == "li" and logged[-1].lead_id == other
    # writing to it is refused too, even with a valid token
    c = client(site)
    token = csrf_of(c.get("/queue").text)
    assert c.post(f"/leads/{other}/note", data={"csrf": token, "note": "x"}).status_code == 404


def test_post_without_csrf_token_is_refused(site):
    _, engine, townships = site
    lead = lead_in(engine, townships[0])
    c = client(site)
    r = c.post(f"/leads/{lead}/note", data={"note": "没有令牌"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = c.post(f"/leads/{lead}/note", data={"note": "错误令牌", "csrf": "forged"})
    assert r.status_code == 403
    assert not any(e["note"] in ("没有令牌", "错误令牌") for e in _history(engine, lead))


def _history(engine, lead):
    from sanzi_audit import review

    return review.history(engine, lead)


def test_status_change_goes_through_the_lifecycle_with_the_user(site):
    _, engine, townships = site
    lead = lead_in(engine, townships[0])
    c = client(site)
    page = c.get(f"/leads/{lead}").text
    token = csrf_of(page)
    r = c.post(f"/leads/{lead}/status", data={"csrf": token, "to": "dismissed", "note": ""})
    assert "不能改为" in httpx.URL(r.headers["location"]).params["error"]  # must take it first
    c.post(f"/leads/{lead}/status", data={"csrf": token, "to": "in_review"})
    r = c.post(f"/leads/{lead}/status", data={"csrf": token, "to": "dismissed", "note": ""})
    assert "必须填写理由" in httpx.URL(r.headers["location"]).params["error"]
    c.post(f"/leads/{lead}/status", data={"csrf": token, "to": "dismissed", "note": "已核实为正常报销"})
    events = _history(engine, lead)
    assert [(e["actor"], e["to_status"]) for e in events if e["event"] == "status"] == [
        ("li", "in_review"), ("li", "dismissed")]
    assert "已核实为正常报销" in c.get(f"/leads/{lead}").text


def test_script_in_a_note_is_shown_as_text(site):
    _, engine, townships = site
    lead = lead_in(engine, townships[0], "split%") or lead_in(engine, townships[0])
    c = client(site)
    token = csrf_of(c.get(f"/leads/{lead}").text)
    c.post(f"/leads/{lead}/note", data={"csrf": token, "note": "<script>alert('x')</script>"})
    html = c.get(f"/leads/{lead}").text
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "script-src 'self'" in c.get(f"/leads/{lead}").headers["content-security-policy"]


def test_ids_and_accounts_are_masked_unless_allowed_and_unmasking_is_logged(site):
    _, engine, villages = site
    full = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")
    with engine.connect() as c:
        leads = [r[0] for r in c.execute(sa.text(
            "SELECT lead_id FROM leads WHERE village_code = :v ORDER BY rank"), {"v": villages[0]})]
    z = client(site, "zhao")
    # a lead whose evidence holds an ID number (a claim, or a payment to a person)
    lead = next(x for x in leads if full.search(z.get(f"/leads/{x}", params={"unmask": 1}).text))
    html = client(site).get(f"/leads/{lead}", params={"unmask": 1}).text
    assert not full.search(html) and "**********" in html  # an auditor without the right sees masks
    before = len(access_log(engine, "unmask"))
    assert full.search(z.get(f"/leads/{lead}", params={"unmask": 1}).text)
    assert len(access_log(engine, "unmask")) == before + 1
    assert not full.search(z.get(f"/leads/{lead}").text)  # masked until asked, even for zhao


def test_supervisor_assigns_auditor_cannot(site):
    _, engine, townships = site
    lead = lead_in(engine, townships[0], "dup%") or lead_in(engine, townships[0])
    c = client(site)
    token = csrf_of(c.get(f"/leads/{lead}").text)
    assert c.post(f"/leads/{lead}/assign", data={"csrf": token, "assignee": "li"}).status_code == 403
    z = client(site, "zhao")
    token = csrf_of(z.get(f"/leads/{lead}").text)
    r = z.post(f"/leads/{lead}/assign", data={"csrf": token, "assignee": "wang"})  # wang cannot see the village
    assert "无权查看" in httpx.URL(r.headers["location"]).params["error"]
    z.post(f"/leads/{lead}/assign", data={"csrf": token, "assignee": "li"})
    with engine.connect() as conn:
        assert conn.execute(sa.select(store.leads.c.assignee).where(store.leads.c.lead_id == lead)).scalar() == "li"


def test_queue_filters_and_search(site):
    _, engine, townships = site
    c = client(site, "admin")
    with engine.connect() as conn:
        det, n = conn.execute(sa.text("SELECT detector, count(*) FROM leads WHERE detector != 'data_quality' "
                                      "GROUP BY detector ORDER BY 2 DESC LIMIT 1")).one()
        voucher = conn.execute(sa.text("SELECT record_id FROM lead_evidence WHERE source_table = 'ledger' "
                                       "LIMIT 1")).scalar()
    html = c.get("/queue", params={"detector": det}).text
    assert f"共 {n} 条" in html
    assert "共 0 条" in c.get("/queue", params={"min_amount": 10**12}).text
    html = c.get("/queue", params={"q": voucher, "kind": "all"}).text
    assert re.search(r"共 [1-9]\d* 条", html)
    assert "应为数字" in c.get("/queue", params={"min_score": "abc"}).text


def test_export_xlsx_opens_with_the_filtered_leads_masked(site):
    _, engine, townships = site
    r = client(site).get("/export.xlsx", params={"village": townships[0]})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["线索台账"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    # the village column names the village, with its code: 新塘村（330599101200）
    assert rows and all(str(row[5]).endswith(f"（{townships[0]}）") and not str(row[5]).startswith("3")
                        for row in rows)
    text = " ".join(str(c) for row in wb["证据"].iter_rows(values_only=True) for c in row)
    assert not re.search(r"(?<![\d*])\d{17}[\dX](?![\d*])", text)
    assert access_log(engine, "export")


def test_overview_and_data_docs_path_is_confined(site):
    c = client(site, "admin")
    html = c.get("/overview").text
    assert "<svg" in html and "最近的运行" in html
    assert c.get("/runs/1/docs/../../../etc/passwd").status_code == 404


def test_auditors_read_village_names_not_codes(site):
    _, engine, villages = site
    names = store.place_names(engine)
    assert villages[0] in names and not names[villages[0]].isdigit()
    c = client(site, "admin")
    queue = c.get("/queue").text
    assert f'<td title="{villages[0]}">{names[villages[0]]}</td>' in queue
    lead_id = re.search(r'href="/leads/([^"]+)"', queue).group(1)
    assert "（3305" in c.get(f"/leads/{lead_id}").text  # name, then the code in brackets


def test_overview_bars_keep_their_labels_and_values_inside_the_box(site):
    """The longest bar's value label used to run past the 640-wide box and be cut off."""
    html = client(site, "admin").get("/overview").text
    for svg in re.findall(r'<svg class="bars".*?</svg>', html, re.S):
        for x, text in re.findall(r'<text x="([\d.]+)"[^>]*class="val">([^<]*)</text>', svg):
            assert float(x) + 7 * len(text) <= 640, (x, text)
        for x, text in re.findall(r'<text x="([\d.]+)"[^>]*class="lbl"[^>]*>([^<]*)</text>', svg):
            assert float(x) - 12 * len(text) >= 0, (x, text)


def test_repeated_failed_sign_ins_lock_the_account(site):
    _, engine, _ = site
    auth.add_user(engine, "victim", PASSWORD, "auditor", "330599")
    c = anonymous(site)
    for _ in range(auth.MAX_FAILURES):
        assert sign_in(c, "victim", "wrong-password-1").status_code == 401
    r = sign_in(c, "victim")  # right password, but locked
    assert r.status_code == 401 and "秒后再试" in r.text
    # an unknown name gets the same answers, lock included
    for _ in range(auth.MAX_FAILURES):
        assert "用户名或密码错误" in sign_in(c, "nobody-here", "wrong-password-1").text
    r = sign_in(c, "nobody-here", "wrong-password-1")
    assert r.status_code == 401 and "秒后再试" in r.text


def test_sign_in_takes_as_long_for_an_unknown_name_as_for_a_real_one(site):
    import statistics
    import time as _time

    _, engine, _ = site
    auth.add_user(engine, "timed", PASSWORD, "auditor", "330599")
    c = anonymous(site)

    def took(name: str) -> float:
        token = csrf_of(c.get("/login").text)
        t0 = _time.perf_counter()
        c.post("/login", data={"username": name, "password": "wrong-password-1", "csrf": token})
        return _time.perf_counter() - t0

    real, unknown = [], []
    for i in range(4):  # under the lock threshold for both names
        real.append(took("timed"))
        unknown.append(took(f"ghost{i}"))
    a, b = statistics.median(real), statistics.median(unknown)
    assert abs(a - b) < 0.35 * max(a, b), (real, unknown)  # was 392 ms against 90 ms


def test_parallel_guesses_cannot_pass_the_lock(site):
    from concurrent.futures import ThreadPoolExecutor

    _, engine, _ = site
    auth.add_user(engine, "target", PASSWORD, "auditor", "330599")

    def guess(i: int) -> int:
        with httpx.Client(base_url=site[0].base) as c:
            return sign_in(c, "target", f"wrong-guess-{i}").status_code

    with ThreadPoolExecutor(20) as pool:
        assert set(pool.map(guess, range(40))) == {401}
    with engine.connect() as conn:
        failures = conn.execute(sa.select(store.sign_in_failures.c.failures)
                                .where(store.sign_in_failures.c.username == "target")).scalar()
        checked = conn.execute(sa.select(sa.func.count()).select_from(store.access_log).where(
            store.access_log.c.username == "target", store.access_log.c.detail == "bad password")).scalar()
    assert failures == auth.MAX_FAILURES and checked == auth.MAX_FAILURES  # only 5 of the 40 were ever checked
    r = sign_in(anonymous(site), "target")  # the right password, now locked
    assert r.status_code == 401 and "秒后再试" in r.text


def test_sessions_end_at_sign_out_reset_and_disable(site):
    from sanzi_audit.web.app import COOKIE

    _, engine, _ = site
    auth.add_user(engine, "mover", PASSWORD, "auditor", "330599")

    def stolen_copy(c: httpx.Client) -> httpx.Client:
        thief = anonymous(site)
        thief.cookies.set(COOKIE, c.cookies[COOKIE])
        return thief

    c = client(site, "mover")
    copy = stolen_copy(c)
    assert copy.get("/queue").status_code == 200
    c.post("/logout", data={"csrf": csrf_of(c.get("/queue").text)})
    assert copy.get("/queue").headers.get("location") == "/login"  # signing out ends the session, copies too

    copy = stolen_copy(client(site, "mover"))
    auth.reset_password(engine, "mover", "another-pass-8")
    assert copy.get("/queue").headers.get("location") == "/login"

    copy = stolen_copy(_signed(site, "mover", "another-pass-8"))
    auth.set_disabled(engine, "mover", True)
    assert copy.get("/queue").headers.get("location") == "/login"
    auth.set_disabled(engine, "mover", False)
    assert copy.get("/queue").headers.get("location") == "/login"  # enabling again revives no old cookie


def _signed(site, user: str, password: str) -> httpx.Client:
    c = anonymous(site)
    assert sign_in(c, user, password).status_code == 303
    return c


def test_a_sign_in_form_posted_from_another_site_is_refused(site):
    c = anonymous(site)
    # no form token and no login cookie: what a cross-site form sends (SameSite=Strict keeps the cookie home)
    r = c.post("/login", data={"username": "li", "password": PASSWORD})
    assert r.status_code == 403 and "sanzi_session" not in r.headers.get("set-cookie", "")
    # the token copied into a foreign form, still without the cookie
    token = csrf_of(anonymous(site).get("/login").text)
    assert c.post("/login", data={"username": "li", "password": PASSWORD, "csrf": token}).status_code == 403
    # the right cookie and token, but from another origin
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "li", "password": PASSWORD, "csrf": token},
               headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert access_log(site[1], "csrf")


def test_scope_and_mask_rules():
    u = auth.User("u", "u", "auditor", ("330599101",), False)
    assert u.sees("330599101200") and not u.sees("330599102200") and not u.sees(None)
    assert auth.mask("330599199001011234") == "3305**********1234"
    with pytest.raises(auth.AuthError):
        auth.parse_scope("33059")
    with pytest.raises(auth.AuthError):
        auth.check_password_strength("12345678901")


def test_admin_disables_an_account_and_others_cannot(site):
    _, engine, _ = site
    auth.add_user(engine, "leaver", PASSWORD, "auditor", "330599")
    assert client(site).get("/admin/users").status_code == 403
    a = client(site, "admin")
    html = a.get("/admin/users").text
    assert "leaver" in html
    a.post("/admin/users/leaver/disabled", data={"csrf": csrf_of(html), "disabled": "1"})
    r = sign_in(anonymous(site), "leaver")
    assert r.status_code == 401


def test_bad_query_parameters_get_an_answer_not_a_500(site):
    c = client(site, "admin")
    for url in ("/queue?until=9999-12-31", "/queue?since=0001-01-01", "/queue?page=99999999999999999999",
                "/queue?min_amount=1e400", "/queue?min_score=nan", "/runs/1/docs/index.html%00.css"):
        r = c.get(url)
        assert r.status_code in (200, 400, 404), (url, r.status_code, r.text[-300:])
    assert "日期应为" in c.get("/queue?until=9999-12-31").text


def test_evidence_from_a_village_outside_the_scope_is_left_out_with_a_count(site):
    _, engine, villages = site
    lead = lead_in(engine, villages[0])
    with engine.connect() as conn:
        foreign = conn.execute(sa.text("SELECT entry_id, summary FROM wh_ledger WHERE village_code = :v "
                                       "AND summary IS NOT NULL LIMIT 1"), {"v": villages[1]}).first()
    with engine.begin() as conn:  # a case that crosses villages: one record of the other village on li's lead
        conn.execute(store.lead_evidence.insert().values(lead_id=lead, source_table="ledger",
                                                         record_id=foreign.entry_id))
    try:
        c = client(site)  # li sees villages[0] only
        html = c.get(f"/leads/{lead}").text
        assert "另有 1 条证据记录属于您查看范围以外的村" in html and villages[1] not in html
        case_id = re.search(r'/cases/([^/"]+)/export\.xlsx', html).group(1)
        wb = load_workbook(io.BytesIO(c.get(f"/cases/{case_id}/export.xlsx").content))
        cells = " ".join(str(v) for row in wb["证据"].iter_rows(values_only=True) for v in row if v)
        assert foreign.entry_id not in cells and "查看范围以外" in cells
        # a user who sees both villages gets the record
        whole = client(site, "admin").get(f"/leads/{lead}").text
        assert "范围以外" not in whole and villages[1] in whole
    finally:
        with engine.begin() as conn:
            conn.execute(store.lead_evidence.delete().where(store.lead_evidence.c.lead_id == lead,
                                                            store.lead_evidence.c.record_id == foreign.entry_id))


def test_the_confirmed_share_counts_only_verdicts_in_the_users_villages(site):
    from sanzi_audit import review
    from sanzi_audit.web import queries

    _, engine, villages = site
    other = lead_in(engine, villages[1])
    with engine.connect() as conn:
        detector = conn.execute(sa.select(store.leads.c.detector).where(store.leads.c.lead_id == other)).scalar()
    li = auth.get_user(engine, "li")
    wang = auth.get_user(engine, "wang")

    def reviewed(user) -> int:  # the module's other tests may have given verdicts of their own: count, not presence
        return sum(s["reviewed"] for s in queries.overview(engine, user)["share"] if s["detector"] == detector)

    li_before, wang_before = reviewed(li), reviewed(wang)
    review.transition(engine, other, "in_review", "wang")
    review.transition(engine, other, "dismissed", "wang", note="核实为正常分期付款")
    assert reviewed(li) == li_before  # a verdict in a village li does not cover is not counted for li
    assert reviewed(wang) == wang_before + 1


def test_a_masked_user_cannot_recover_a_number_by_searching_its_prefixes(site):
    from sanzi_audit.web.queries import _LONG_NUMBER

    _, engine, villages = site
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT lead_id, title, explanation, village_code FROM leads")).all()
    lead, number = next((r.lead_id, m.replace(" ", "").replace("-", "")) for r in rows
                        for m in _LONG_NUMBER.findall(f"{r.title} {r.explanation}") if m.isdigit() and len(m) >= 16)
    admin = client(site, "admin")  # sees every village, may not unmask

    def finds(c, q) -> bool:
        return quote(lead) in c.get("/queue", params={"q": q, "kind": "all"}).text

    # beyond the 6-digit area code (public: every village code starts with it) each digit is a secret
    assert not any(finds(admin, number[:k]) for k in (8, 10, 14, len(number) - 1))
    assert finds(admin, number)  # the whole number, compared as a whole
    assert finds(admin, number[:4])  # what the masked text shows is searchable
    # a user who may unmask searches raw text (zhao sees the first village only)
    auth.add_user(engine, "unmasker", PASSWORD, "auditor", "*", can_unmask=True)
    assert finds(client(site, "unmasker"), number[:12])


def test_search_is_rate_limited_per_user(site):
    _, engine, _ = site
    auth.add_user(engine, "searcher", PASSWORD, "auditor", "*")
    c = client(site, "searcher")
    codes = [c.get("/queue", params={"q": f"支付{i}"}).status_code for i in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429
    assert c.get("/queue").status_code == 200  # browsing without a search still works
    assert access_log(engine, "search_throttled")


def test_search_by_a_whole_number_finds_it_written_in_groups():
    from sanzi_audit.web import queries

    engine = sa.create_engine("sqlite://")
    store.metadata.create_all(engine, tables=[store.leads, store.lead_evidence])
    with engine.begin() as conn:
        conn.execute(store.leads.insert().values(
            lead_id="shared_accounts:1", detector="shared_accounts", village_code="330599101200", score=0.9,
            priority=1.0, title="一个账户多人收款", explanation="账户 6228 4800 1234 5678 901 收款 3 人", status="new",
            created_at=store.now(), updated_at=store.now(), first_seen_run=1, last_seen_run=1))
    masked = auth.User("u", "u", "auditor", ("*",), False)
    f = queries.Filters(q="6228480012345678901", kind="all")
    assert [r["lead_id"] for r in queries.queue(engine, masked, f)["items"]] == ["shared_accounts:1"]
    f = queries.Filters(q="62284800123", kind="all")
    assert queries.queue(engine, masked, f)["items"] == []


def test_data_docs_open_only_to_users_who_see_the_whole_run(site):
    _, engine, _ = site
    with engine.begin() as conn:  # a run with a Data Docs site (the helper fills the database without one)
        run_id = conn.execute(sa.select(sa.func.max(store.runs.c.run_id))).scalar()
    import json as _json
    import tempfile
    from pathlib import Path

    from sanzi_audit import pipeline
    from sanzi_audit.config import load_config

    folder = Path(tempfile.mkdtemp()) / "docs"
    folder.mkdir()
    (folder / "index.html").write_text("<html><body>校验结果</body></html>", encoding="utf-8")
    with engine.begin() as conn:
        params = pipeline.parameters_of(load_config(), "source")  # what a nightly run stores
        assert params["config"]["region"]["county_code"] == "330599"
        conn.execute(store.runs.update().where(store.runs.c.run_id == run_id)
                     .values(data_docs=str(folder / "index.html"), parameters=_json.dumps(params)))
    try:
        assert client(site, "admin").get(f"/runs/{run_id}/docs/index.html").status_code == 200
        auth.add_user(engine, "county", PASSWORD, "auditor", "330599")
        assert client(site, "county").get(f"/runs/{run_id}/docs/index.html").status_code == 200
        li = client(site)  # one village only
        assert li.get(f"/runs/{run_id}/docs/index.html").status_code == 403
        assert f"/runs/{run_id}/docs/" not in li.get("/overview").text
        assert any("data docs" in (r.detail or "") for r in access_log(engine, "forbidden"))
    finally:
        with engine.begin() as conn:
            conn.execute(store.runs.update().where(store.runs.c.run_id == run_id).values(data_docs=None))


def test_a_browser_that_sends_origin_null_signs_in_and_a_null_origin_still_needs_the_cookie(site):
    c = anonymous(site)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "li", "password": PASSWORD, "csrf": token}, headers={"Origin": "null"})
    assert r.status_code == 303  # Chromium under Referrer-Policy: no-referrer
    other = anonymous(site)  # an attacker's no-referrer page: Origin null, but no login cookie
    r = other.post("/login", data={"username": "li", "password": PASSWORD, "csrf": token}, headers={"Origin": "null"})
    assert r.status_code == 403
