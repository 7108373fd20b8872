"""An alert arriving, in headless Chromium (Debian's chromium through Playwright): a bank enrols
its customers through the registry's API, a bank user signed in sees no alert, a leak holding
some of them is ingested through the key process, and on reload the alerts page names the leak
and the count, in Chinese and in English. With LEAKTRACE_SCREENSHOTS=1 it is saved to
docs/screenshots/."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright import sync_api
from registry_leak_world import make_leak_world
from test_report_browser import OVERFLOW_JS, SCREENSHOTS, VIEWPORT

from bench.registry_keyd import key_process
from leaktrace.registry import admin, db, enrol, enrolments, leaks
from leaktrace.registry.app import create_app
from leaktrace.registry.serve import served_in_thread
from leaktrace.report.pdf import CHROMIUM, CHROMIUM_ARGS

PASSWORD = "correct horse battery staple"
WORDS = {
    "zh": ("暂无告警", "某暗网论坛", "其中贵机构登记的标识数"),
    "en": ("No alert", "某暗网论坛", "Your enrolled identifiers in it"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_ingested_leak_alerts_the_bank_on_its_page(tmp_path: Path, lang: str) -> None:
    data = make_leak_world(tmp_path / "world")
    with key_process(tmp_path / "keyd") as keyd:
        app = create_app(f"sqlite:///{tmp_path / 'registry.sqlite'}")
        app.state.keys = keyd.client()
        engine = app.state.registry.engine
        with db.transaction(engine) as session:
            bank = admin.create_org(session, "中原城市商业银行", "institution", sector="bank")
            enrolments.declare(session, bank.id, data.bank_customers)
            admin.create_user(session, None, bank.id, "bank.viewer", PASSWORD, "viewer")
            _key, secret = admin.create_key(session, None, bank.id, "enrol", "admin")
        with served_in_thread(app) as url, sync_api.sync_playwright() as pw:
            with enrol.client(url, secret) as http:
                enrol.enrol(data.bank_master, http, tmp_path / "map.parquet")
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
            )
            page = browser.new_context(viewport=VIEWPORT, base_url=url).new_page()
            page.goto(f"/login?lang={lang}")
            page.fill('input[name="username"]', "bank.viewer")
            page.fill('input[name="password"]', PASSWORD)
            page.click('form[action="/login"] button[type="submit"]')
            page.wait_for_url("**/reports")
            page.goto(f"/alerts?lang={lang}")
            assert WORDS[lang][0] in page.inner_text("main")
            info = leaks.LeakInfo("某暗网论坛", dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
            leaks.ingest(engine, [data.leak], info, keyd.client())
            page.reload()
            shown = page.inner_text("main")
            assert WORDS[lang][1] in shown and WORDS[lang][2] in shown
            assert f"{len(data.matched):,}" in page.inner_text("td.num")
            assert page.evaluate(OVERFLOW_JS) == []
            if os.environ.get("LEAKTRACE_SCREENSHOTS") == "1":
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"registry-alerts-{lang}.png"))
            browser.close()
