"""A person's own check in headless Chromium (Debian's, driven by Playwright) against uvicorn and a
real key process: a check that hits shows the leak (when, which kind of institution, which data),
one that misses says so, and once the network's limit is reached the page says that too; in
Chinese and in English. Every request the browser sends is recorded: none carries the identifier
in any form, two checks of one identifier send different blinded elements, and every bucket's
answer has the same length. With LEAKTRACE_SCREENSHOTS=1 a hit is saved to docs/screenshots/."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from registry_leak_world import make_leak_world
from test_report_browser import SCREENSHOTS, VIEWPORT

from bench.registry_keyd import key_process
from leaktrace.registry import admin, db, leaks
from leaktrace.registry.app import create_app
from leaktrace.registry.identifiers import oprf_input
from leaktrace.registry.serve import served_in_thread
from leaktrace.report.pdf import CHROMIUM, CHROMIUM_ARGS

sync_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")

FIRST_SEEN = dt.datetime(2026, 10, 20, 3, 0, tzinfo=dt.UTC)
#: Evaluations a network may ask for before the key process refuses (refilled one an hour).
BURST = 6
WORDS = {
    "zh": {"bank": "银行", "kind": "居民身份证号", "date": "2026/10/20"},
    "en": {"bank": "bank", "kind": "Resident ID", "date": "20/10/2026"},
}


@dataclass
class Site:
    url: str
    mobile: str  # a mobile of the leak
    resident_id: str  # a resident ID of the leak
    absent: str  # a mobile in no leak
    requests: list[Any] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)
    buckets: list[tuple[str, int]] = field(default_factory=list)  # url, length of the body


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A leak ingested into a SQLite registry, served by uvicorn in a thread, with a key process
    whose person limit is :data:`BURST` evaluations per network."""
    data = make_leak_world(tmp_path_factory.mktemp("leakworld"))
    limits = ("--person-net-burst", str(BURST), "--person-net-per-hour", "1")
    with key_process(tmp_path_factory.mktemp("keyd"), *limits) as keyd:
        app = create_app(f"sqlite:///{tmp_path_factory.mktemp('registry') / 'registry.sqlite'}")
        engine = app.state.registry.engine
        with db.transaction(engine) as session:
            bank = admin.create_org(session, "中原城市商业银行", "institution", sector="bank").id
        info = leaks.LeakInfo("某暗网论坛", FIRST_SEEN, bank)
        leaks.ingest(engine, [data.leak], info, keyd.client())
        app.state.keys = keyd.client()
        mobiles = data.leaked["mobile"]
        with served_in_thread(app) as url:
            yield Site(
                url,
                sorted(mobiles)[0],
                sorted(data.leaked["resident_id"])[0],
                next(m for m in (f"139{n:08d}" for n in range(10**8)) if m not in mobiles),
            )


@pytest.fixture(scope="module")
def page(site: Site) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        p = browser.new_page(viewport=VIEWPORT)
        p.on("request", lambda r: site.requests.append(r))
        p.on("response", lambda r: site.responses.append(r))
        yield p
        browser.close()


def _check(page: Any, site: Site, lang: str, typed: str) -> str:
    """Types ``typed`` on the page in ``lang``, checks it and returns the outcome shown (with
    the length of the bucket fetched, read before the page is left)."""
    page.goto(f"{site.url}/check?lang={lang}")
    page.wait_for_selector("#check-form[data-ready='true']")
    page.fill("#check-identifier", typed)
    start = len(site.responses)
    page.click("#check-submit")
    shown = page.wait_for_selector(
        "#check-result [data-outcome]:not([hidden]):not([data-outcome='checking'])"
    )
    site.buckets += [
        (r.url, len(r.body()))
        for r in site.responses[start:]
        if "/api/v1/check/buckets/" in r.url and r.status == 200
    ]
    return shown.get_attribute("data-outcome")


def _forms(value: str, kind: str, typed: str) -> list[bytes]:
    """The ways an identifier could be carried: plain, as typed, hex or base64 of its UTF-8,
    and the OPRF input itself."""
    raw = value.encode()
    forms = [raw, typed.encode(), raw.hex().encode(), base64.b64encode(raw).rstrip(b"=")]
    return forms + [oprf_input(kind, value), oprf_input(kind, value).hex().encode()]


def _spaced(mobile: str) -> str:
    return f"+86 {mobile[:3]} {mobile[3:7]}-{mobile[7:]}"


def test_a_person_checks_in_both_languages_until_the_limit(page: Any, site: Site) -> None:
    typed = {
        "mobile": _spaced(site.mobile),
        "resident_id": " ".join([site.resident_id[:6], site.resident_id[6:14], site.resident_id[14:]]).lower(),
        "absent": _spaced(site.absent),
    }  # fmt: skip
    shown = []
    for lang in ("en", "zh"):
        assert _check(page, site, lang, typed["mobile"]) == "hit"
        row = page.inner_text("#check-leaks tr")
        for word in WORDS[lang].values():
            assert word in row
        if os.environ.get("LEAKTRACE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"registry-check-{lang}.png"), full_page=True)
        shown.append(_check(page, site, lang, typed["resident_id"]))
        shown.append(_check(page, site, lang, typed["absent"]))
    assert shown == ["hit", "miss", "hit", "miss"]  # six evaluations: the network's burst
    assert _check(page, site, "en", "12345") == "invalid"  # refused on the page, never sent
    assert _check(page, site, "en", typed["mobile"]) == "limited"
    assert "try again later" in page.inner_text("[data-outcome='limited']")
    assert _check(page, site, "zh", typed["absent"]) == "limited"
    assert "稍后再试" in page.inner_text("[data-outcome='limited']")

    evaluations = [r for r in site.requests if r.url.endswith("/api/v1/check/evaluate")]
    assert len(evaluations) == BURST + 2
    blinded = [json.loads(r.post_data)["blinded"] for r in evaluations]
    assert len(set(blinded)) == len(blinded)  # the same mobile, blinded afresh each time
    carried = [r.url.encode() + (r.post_data_buffer or b"") for r in site.requests]
    assert len(carried) > 3 * BURST
    for kind, value, key in (
        ("mobile", site.mobile, "mobile"),
        ("resident_id", site.resident_id, "resident_id"),
        ("mobile", site.absent, "absent"),
    ):
        for form in _forms(value, kind, typed[key]):
            assert not any(form in c or form.lower() in c.lower() for c in carried)
    assert len(site.buckets) == BURST
    assert {length for _url, length in site.buckets} == {2048 * 20}
    assert len({url for url, _length in site.buckets}) >= 3  # different buckets, one length
