"""The registry's pages in headless Chromium (Debian's, driven by Playwright), served by uvicorn on
a SQLite file: an institution's reporter files a report in Chinese, sees its clocks, supplements
it, attaches a verify result and exports it as HTML and PDF; a regulator's reviewer finds it in
the list and on the dashboard and asks a question; the institution answers; the regulator closes
it. In Chinese and in English; no text wider than its box. With LEAKTRACE_SCREENSHOTS=1 the list,
the report and the dashboard are saved to docs/screenshots/ for the README."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_report_browser import OVERFLOW_JS, SCREENSHOTS, VIEWPORT

from leaktrace.registry import admin, db, reports, rules
from leaktrace.registry.app import create_app
from leaktrace.registry.policy import Principal
from leaktrace.registry.schemas import Counts, Fields, ReportIn
from leaktrace.registry.serve import served_in_thread
from leaktrace.report.pdf import CHROMIUM, CHROMIUM_ARGS

sync_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")

PASSWORD = "correct horse battery staple"
#: The registry's clock: a month after the incident, eight hours before its summary is due.
NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
USERS = {
    "bank_reporter": ("中原城市商业银行", "reporter"),
    "cac_reviewer": ("国家互联网信息办公室", "reviewer"),
}
WORDS = {
    "zh": {
        "file": "报送报告",
        "deadlines": "报告时限",
        "supplement": "补充报告",
        "closed": "已结案",
        "html": "可打印报告（HTML）",
    },
    "en": {
        "file": "File a report",
        "deadlines": "Reporting deadlines",
        "supplement": "Supplement the report",
        "closed": "closed",
        "html": "Printable report (HTML)",
    },
}
VERIFY_RESULT = {
    "verdict": {"label": "authentic_ours", "confidence": 0.97},
    "records": 1200,
    "linkage": {"linked": 1174},
    "evidence": {"inputs": [{"path": "客户信息.csv", "sha256": "5e" * 32}]},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The registry on a SQLite file, served by uvicorn in a thread: its base URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('registry') / 'registry.sqlite'}"
    app = create_app(url, clock=lambda: NOW)
    engine = app.state.registry.engine
    with db.transaction(engine) as session:
        bank = admin.create_org(session, "中原城市商业银行", "institution", sector="bank")
        cac = admin.create_org(session, "国家互联网信息办公室", "regulator", authority="CAC")
        orgs = {bank.name: bank.id, cac.name: cac.id}
        for name, (org, role) in USERS.items():
            admin.create_user(session, None, orgs[org], name, PASSWORD, role, name)
        _earlier_reports(session)
    with served_in_thread(app) as url:
        yield url


#: The sector of each institution that filed before.
SECTORS = {"华东保险": "insurer", "北方消费金融": "lender", "南方支付": "payment"}
#: Reports they filed: institution, title, discovered, hours to report, cause, people affected.
EARLIER = (
    ("华东保险", "理赔系统越权查询", "2026-06-12T10:00", 3.0, "insider", 52_000),
    ("华东保险", "客服外包泄露保单", "2026-09-03T15:30", 30.0, "partner", 310_000),
    ("北方消费金融", "催收库暴露公网", "2026-08-21T08:10", 1.5, "misconfiguration", 2_600_000),
    ("南方支付", "商户接口遭撞库", "2026-10-15T21:45", 6.0, "external_attack", 87_000),
)


def _earlier_reports(session: Any) -> None:
    """A few reports other institutions filed months before, for the list and the dashboard."""
    made: dict[str, int] = {}
    for name, title, discovered, hours, cause, people in EARLIER:
        if name not in made:
            made[name] = admin.create_org(session, name, "institution", sector=SECTORS[name]).id
        who = Principal(org_id=made[name], org_kind="institution", role="reporter", via="cli")
        when = dt.datetime.fromisoformat(discovered).replace(tzinfo=rules.SHANGHAI)
        data = ReportIn(
            title=title,
            discovered_at=when,
            fields=Fields(cause_category=cause, incident_type="data_leak"),
            counts=Counts(people_affected=people),
        )
        reports.file(session, who, data, when + dt.timedelta(hours=hours))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield b
        finally:
            b.close()


def _signed_in(browser: Any, base: str, user: str, lang: str) -> Any:
    """A page of a new browser context, signed in as ``user``, speaking ``lang``."""
    context = browser.new_context(
        viewport=VIEWPORT,
        base_url=base,
        accept_downloads=True,
        locale="zh-CN" if lang == "zh" else "en-GB",
    )
    page = context.new_page()
    page.goto("/login")
    page.click(f'a[href^="/language/{lang}"]')
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form[action="/login"] button[type="submit"]')
    page.wait_for_url("**/reports")
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    return page


def _fits(page: Any) -> None:
    bad = page.evaluate(OVERFLOW_JS)
    assert bad == [], f"{page.url}: {bad}"


def _screenshot(page: Any, name: str) -> None:
    """The top of the page to docs/screenshots/ when LEAKTRACE_SCREENSHOTS=1 (a plain test run
    leaves the committed files alone)."""
    if os.environ.get("LEAKTRACE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = min(page.evaluate("document.documentElement.scrollHeight"), 1800)
        clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True, clip=clip)


def _file(page: Any, lang: str, title: str) -> str:
    """File the initial report through the form; the report's URL."""
    page.click(f'nav a:has-text("{WORDS[lang]["file"]}")')
    page.wait_for_url("**/reports/new")
    _fits(page)
    page.fill('input[name="title"]', title)
    page.fill('input[name="discovered_at"]', "2026-11-05T09:00")
    page.select_option('select[name="zone"]', "Asia/Shanghai")
    page.fill('input[name="system"]', "个人网银系统（客户信息数据库）")
    page.fill('input[name="occurred_at"]', "2026-11-04T23:40")
    page.select_option('select[name="incident_type"]', "data_leak")
    page.select_option('select[name="cause_category"]', "partner")
    page.fill('textarea[name="harm"]', "约一百二十万名客户的姓名、手机号和身份证号在境外论坛出售。")
    page.fill('textarea[name="measures_taken"]', "已停用外包方账号，重置相关接口密钥。")
    page.fill('textarea[name="cause"]', "外包方测试环境调用生产接口，接口缺少调用方鉴权。")
    page.fill('textarea[name="possible_harm"]', "可能被用于电信诈骗和冒名开户。")
    page.fill('textarea[name="remedies"]', "对受影响客户加强交易监控，免费更换银行卡。")
    for category in ("name", "mobile", "resident_id"):
        page.check(f'input[name="data_categories"][value="{category}"]')
    page.fill('textarea[name="advice_to_people"]', "警惕冒充银行的来电和短信，不要透露验证码。")
    page.fill('input[name="contact"]', "信息安全部 010-5555 0100")
    page.fill('input[name="people_affected"]', "1200000")
    page.fill('input[name="records_affected"]', "1350000")
    page.click('form.report-form button[type="submit"]')
    page.wait_for_url("**/reports/*?filed=1")
    return page.url.split("?")[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_report_from_filing_to_closing(browser: Any, server: str, lang: str) -> None:
    words = WORDS[lang]
    title = f"合作方接口泄露客户信息（{lang}）"
    bank = _signed_in(browser, server, "bank_reporter", lang)
    report_url = _file(bank, lang, title)
    clocks = bank.locator("#clocks")
    assert words["deadlines"] in clocks.inner_text()
    assert clocks.locator('[data-state="met_late"]').count() >= 1  # filed a month late
    assert bank.locator(".notice.ok").count() == 1

    bank.click(f'a.button:has-text("{words["supplement"]}")')
    _fits(bank)
    assert bank.locator('input[name="people_affected"]').input_value() == "1200000"
    bank.fill('input[name="handled_at"]', "2026-11-06T18:00")
    bank.fill('textarea[name="development"]', "外包方已确认其测试环境被入侵，数据已下架。")
    bank.click('form.report-form button[type="submit"]')
    bank.wait_for_url(report_url)
    assert bank.locator("#versions li").count() == 2
    assert bank.locator('#clocks [data-state="running"]').count() >= 1  # the 30-day summary

    bank.set_input_files(
        'input[type="file"]',
        {
            "name": "verify-result.json",
            "mimeType": "application/json",
            "buffer": json.dumps(VERIFY_RESULT, ensure_ascii=False).encode(),
        },
    )
    bank.click('#evidence button[type="submit"]')
    bank.wait_for_url(report_url + "#evidence")
    assert "verify-result.json" in bank.locator("#evidence").inner_text()

    with bank.expect_popup() as popup:
        bank.click(f'a:has-text("{words["html"]}")')
    printable = popup.value
    printable.wait_for_load_state()
    assert title in printable.content()
    printable.close()
    with bank.expect_download() as download:
        bank.click('a[href*="format=pdf"]')
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"
    _fits(bank)
    _screenshot(bank, f"registry-report-{lang}.png")

    cac = _signed_in(browser, server, "cac_reviewer", lang)
    row = cac.locator("table.list tbody tr", has_text=title)
    assert row.count() == 1
    assert "中原城市商业银行" in row.inner_text()
    _fits(cac)
    _screenshot(cac, f"registry-reports-{lang}.png")
    cac.goto("/dashboard")
    due = cac.locator(f'#due a:has-text("{title}")')
    assert due.count() == 1  # the summary is due today
    assert cac.locator(".plots svg").count() == 6
    assert "北方消费金融" in cac.locator(".plots").inner_text()
    _fits(cac)
    _screenshot(cac, f"registry-dashboard-{lang}.png")

    due.click()
    cac.wait_for_url(report_url)
    cac.fill(
        'form[action$="/questions"] textarea[name="text"]', "请说明外包方接口的访问控制为何失效。"
    )
    cac.click('form[action$="/questions"] button[type="submit"]')
    cac.wait_for_url(report_url + "#questions")
    assert bank.locator("form[action$='/close']").count() == 0

    bank.reload()
    bank.fill(
        'form[action*="/answer"] textarea[name="text"]', "外包方测试环境沿用了生产密钥，已整改。"
    )
    bank.click('form[action*="/answer"] button[type="submit"]')
    bank.wait_for_url(report_url + "#questions")
    assert "已整改" in bank.locator("#questions").inner_text()

    cac.reload()
    assert "已整改" in cac.locator("#questions").inner_text()
    cac.click('form[action$="/close"] button[type="submit"]')
    cac.wait_for_url(report_url)
    assert words["closed"] in cac.locator(".subtitle").inner_text()
    _fits(cac)
    bank.reload()
    assert bank.locator(f'a:has-text("{words["supplement"]}")').count() == 0
    bank.context.close()
    cac.context.close()
