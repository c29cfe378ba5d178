"""The review page in a real headless Chromium (Playwright): what an auditor does in a morning.

Screenshots of the main pages are written to docs/screenshots/ (linked from the README).
"""

import os
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from .web_helpers import PASSWORD, review_site

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = os.environ.get("SANZI_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory, small_county):
    yield from review_site(tmp_path_factory, small_county, "browser")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium fonts-wqy-microhei); "
                    "scripts/test.sh does this")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    ctx = browser.new_context(base_url=site[0].base, accept_downloads=True, locale="zh-CN",
                              viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def sign_in(page, user="li"):
    page.goto("/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")


def test_auditor_morning(page, site, tmp_path):
    _, engine, villages = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/login")
    page.screenshot(path=str(SHOTS / "login.png"))
    sign_in(page)
    assert page.locator("h1").inner_text() == "线索队列"
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)

    # filter the queue by status: only 待核查 rows remain
    page.select_option("select[name=status]", "new")
    page.click("form#filters button[type=submit]")
    page.wait_for_url(re.compile(r".*status=new.*"))
    statuses = page.locator("table.queue tbody td:nth-child(7)").all_inner_texts()
    assert statuses and set(statuses) == {"待核查"}

    # open the top lead: explanation, evidence tables, history
    page.locator("table.queue tbody a").first.click()
    page.wait_for_url(re.compile(r".*/leads/.*"))
    lead_url = page.url
    assert page.locator("h2", has_text="证据记录").count() == 1
    assert page.locator("table.evidence tbody tr").count() > 0
    assert "**********" in page.content()  # IDs masked for an auditor
    page.screenshot(path=str(SHOTS / "lead.png"), full_page=True)

    # take it, then dismiss it with a reason; it shows in the history with the user's name
    page.select_option("#to", "in_review")
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("p.ok")
    page.select_option("#to", "dismissed")
    page.click("#status-form button[type=submit]")
    assert "必须填写理由" in page.locator("p.error").inner_text()
    page.select_option("#to", "dismissed")
    page.fill("#reason", "经核实为正常的村务支出，附件齐全")
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("p.ok")
    assert page.locator("#status").inner_text() == "不属实"
    history = page.locator("#history").inner_text()
    assert "经核实为正常的村务支出，附件齐全" in history and "li" in history and "不属实" in history

    # script in a note is shown as text and never runs
    page.fill("#note", "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector("p.ok")
    assert page.evaluate("window.__xss") is None
    assert "<script>window.__xss=2</script>" in page.locator("#history").inner_text()

    # a form posted without the CSRF token is refused
    lead_path = lead_url.split(site[0].base)[1]
    status = page.evaluate("""async (path) => {
        const r = await fetch(path + '/note', {method: 'POST', body: new URLSearchParams({note: '伪造'})});
        return r.status; }""", lead_path)
    assert status == 403

    # export the queue to XLSX and open it
    page.goto("/queue")
    with page.expect_download() as dl:
        page.click("text=导出线索台账 (XLSX)")
    path = tmp_path / "export.xlsx"
    dl.value.save_as(path)
    ws = load_workbook(path)["线索台账"]
    assert ws.max_row > 1 and ws.cell(1, 10).value == "疑点" and ws.cell(1, 6).value == "村"

    # a lead of a village outside the user's scope is refused
    with engine.connect() as c:
        other = c.execute(sa.text("SELECT lead_id FROM leads WHERE village_code = :v LIMIT 1"),
                          {"v": villages[1]}).scalar()
    resp = page.goto(f"/leads/{other}")  # answered as a lead that does not exist (no existence oracle)
    assert resp.status == 404 and "不在您的查看范围" in page.content()

    page.goto("/overview")
    assert page.locator("svg.bars rect").count() > 0
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
