"""The registry's pages through a TestClient, on SQLite and PostgreSQL: signing in and out, every
page in Chinese and English with nothing left untranslated, forms refused without their CSRF
token, hostile text shown inert on every page, another organisation's report a 404 page, and
each role shown only the forms it may use."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import FormData

from leaktrace import i18n
from leaktrace.registry import admin, db, outbox, page_forms, reports, webhooks
from leaktrace.registry.app import create_app
from leaktrace.registry.models import Organisation
from leaktrace.registry.pages import LOGIN_COOKIE, PAGE_SIZE, site_path
from leaktrace.registry.policy import Principal
from leaktrace.registry.schemas import ReportIn

PASSWORD = "correct horse battery staple"
#: The registry's clock in these tests: a month after the reports' incidents.
NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
USERS = {
    "a_reporter": ("银行甲", "reporter"),
    "a_viewer": ("银行甲", "viewer"),
    "a_admin": ("银行甲", "admin"),
    "b_reporter": ("银行乙", "reporter"),
    "cac_reviewer": ("国家网信办", "reviewer"),
    "cac_admin": ("国家网信办", "admin"),
}
HOSTILE = (
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
)
TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]*)"')
TEXT_FIELDS = (
    "system",
    "harm",
    "measures_taken",
    "development",
    "cause",
    "attack_clues",
    "planned_measures",
    "support_requested",
    "scene_preservation",
    "possible_harm",
    "remedies",
    "advice_to_people",
    "contact",
)


@dataclass
class Site:
    app: object
    engine: sa.Engine

    def client(self, user: str | None = None, lang: str = "en") -> TestClient:
        c = TestClient(self.app, follow_redirects=False)  # type: ignore[arg-type]
        c.cookies.set("lt_lang", lang)
        if user:
            sign_in(c, user)
        return c


@pytest.fixture
def site(registry_engine: sa.Engine) -> Iterator[Site]:
    with db.transaction(registry_engine) as session:
        orgs = {
            "银行甲": admin.create_org(session, "银行甲", "institution", sector="bank"),
            "银行乙": admin.create_org(session, "银行乙", "institution", sector="insurer"),
            "国家网信办": admin.create_org(session, "国家网信办", "regulator", authority="CAC"),
        }
        for name, (org, role) in USERS.items():
            admin.create_user(session, None, orgs[org].id, name, PASSWORD, role, name.upper())
    app = create_app(engine=registry_engine, migrate=False, clock=lambda: NOW)
    yield Site(app, registry_engine)


def sign_in(client: TestClient, user: str, password: str = PASSWORD) -> object:
    page = client.get("/login")
    token = LOGIN_TOKEN.search(page.text)
    assert token, "the sign-in form has no token"
    return client.post(
        "/login",
        data={"username": user, "password": password, "login_token": token.group(1)},
    )


def csrf(client: TestClient, path: str = "/reports") -> str:
    found = TOKEN.search(client.get(path).text)
    assert found, f"{path} has no CSRF token"
    return found.group(1)


def report_form(text: str = "数据库遭拖库", **extra: str) -> dict[str, object]:
    form: dict[str, object] = {
        "title": f"客户信息泄露 {text}",
        "discovered_at": "2026-11-03T09:15",
        "zone": "Asia/Shanghai",
        "occurred_at": "2026-11-02T22:00",
        "incident_type": "data_leak",
        "cause_category": "external_attack",
        "data_categories": ["name", "mobile"],
        "people_affected": "1200000",
        "records_affected": "2400000",
    }
    form.update({name: f"{name}: {text}" for name in TEXT_FIELDS})
    form.update(extra)
    return form


def file_report(client: TestClient, **form: object) -> int:
    token = csrf(client, "/reports/new")
    r = client.post("/reports/new", data={"csrf_token": token, **(form or report_form())})
    assert r.status_code == 303, r.text[:2000]
    found = re.fullmatch(r"/reports/(\d+)\?filed=1", r.headers["location"])
    assert found, r.headers["location"]
    return int(found.group(1))


def test_sign_in_sets_a_guarded_session_cookie_and_wrong_password_is_refused(site: Site) -> None:
    anonymous = site.client()
    to_login = anonymous.get("/reports")
    assert to_login.status_code == 303
    assert to_login.headers["location"].startswith("/login?next=")
    assert anonymous.get("/dashboard").headers["location"].startswith("/login")
    assert anonymous.get("/api/v1/reports").status_code == 401
    assert anonymous.get("/static/registry.css").status_code == 200

    wrong = sign_in(site.client(), "a_reporter", "not the password at all")
    assert wrong.status_code == 401  # type: ignore[attr-defined]
    assert "The user name or the password is wrong." in wrong.text  # type: ignore[attr-defined]
    assert "lt_session" not in wrong.headers.get("set-cookie", "")  # type: ignore[attr-defined]

    client = site.client()
    ok = sign_in(client, "a_reporter")
    assert ok.status_code == 303  # type: ignore[attr-defined]
    cookies = ok.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    cookie = next(c for c in cookies if c.startswith("lt_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    page = client.get("/reports")
    assert page.status_code == 200
    assert "银行甲 · reporter · a_reporter" in page.text

    out = client.post("/logout", data={"csrf_token": csrf(client)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    client.cookies.delete("lt_session")
    assert client.get("/reports").status_code == 303


def test_a_sign_in_without_its_form_token_is_refused(site: Site) -> None:
    client = site.client()
    client.get("/login")
    forged = client.post(
        "/login", data={"username": "a_reporter", "password": PASSWORD, "login_token": "forged"}
    )
    assert forged.status_code == 403
    assert "lt_session" not in forged.headers.get("set-cookie", "")
    client.cookies.delete(LOGIN_COOKIE)
    bare = client.post("/login", data={"username": "a_reporter", "password": PASSWORD})
    assert bare.status_code == 403


def test_forms_without_the_csrf_token_are_refused(site: Site) -> None:
    reporter = site.client("a_reporter")
    report_id = file_report(reporter)
    refused = [
        reporter.post("/reports/new", data=report_form()),
        reporter.post("/reports/new", data={**report_form(), "csrf_token": "x" * 43}),
        reporter.post(f"/reports/{report_id}/supplement", data=report_form()),
        reporter.post("/logout"),
    ]
    reviewer = site.client("cac_reviewer")
    refused.append(reviewer.post(f"/reports/{report_id}/questions", data={"text": "为何延迟？"}))
    refused.append(reviewer.post(f"/reports/{report_id}/close"))
    boss = site.client("a_admin")
    refused.append(boss.post("/settings/keys", data={"name": "k", "role": "viewer"}))
    for r in refused:
        assert r.status_code == 403, r.request.url
        assert "The form has expired or did not come from this site" in r.text
    with site.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM reports")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM questions")).scalar() == 0
    assert "closed" not in reporter.get(f"/reports/{report_id}").text


def _walk(site: Site, lang: str) -> dict[str, str]:
    """Every page, as the role that sees it, in ``lang``: path -> HTML."""
    reporter = site.client("a_reporter", lang)
    report_id = file_report(reporter)
    reviewer = site.client("cac_reviewer", lang)
    token = csrf(reviewer, f"/reports/{report_id}")
    reviewer.post(f"/reports/{report_id}/questions", data={"csrf_token": token, "text": "问？"})
    boss = site.client("a_admin", lang)
    assert _webhook(boss).status_code == 201
    pages = {
        "/login": site.client(lang=lang).get("/login"),
        "/reports": reporter.get("/reports"),
        "/reports?status=open&grade=relatively_major&overdue=false&q=泄露": reporter.get(
            "/reports?status=open&grade=relatively_major&overdue=false&q=泄露"
        ),
        "/reports/new": reporter.get("/reports/new"),
        "/reports/{id}": reporter.get(f"/reports/{report_id}?filed=1"),
        "/reports/{id} (regulator)": reviewer.get(f"/reports/{report_id}"),
        "/reports/{id}/versions/1": reporter.get(f"/reports/{report_id}/versions/1"),
        "/reports/{id}/supplement": reporter.get(f"/reports/{report_id}/supplement"),
        "/dashboard": reviewer.get("/dashboard"),
        "/settings": boss.get("/settings"),
        "/settings/webhooks/1": boss.get("/settings/webhooks/1"),
        "404": reporter.get("/reports/999999"),
        "422": reporter.get("/reports?colour=red"),
        "403": reporter.get("/dashboard"),
        "form errors": reporter.post(
            "/reports/new",
            data={**report_form(), "csrf_token": csrf(reporter), "people_affected": "many"},
        ),
    }
    expected = {"404": 404, "422": 422, "403": 403, "form errors": 422}
    for path, r in pages.items():
        assert r.status_code == expected.get(path, 200), path
    return {path: r.text for path, r in pages.items()}


def _webhook(admin_client: TestClient) -> object:
    """Add a webhook of ``report.filed`` to a closed local port through the settings page."""
    return admin_client.post(
        "/settings/webhooks",
        data={
            "csrf_token": csrf(admin_client, "/settings"),
            "url": "http://127.0.0.1:9/leaktrace",
            "events": ["report.filed"],
        },
    )


@pytest.fixture
def private_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhooks may point at this machine (the tests' receivers are local)."""
    monkeypatch.setenv(webhooks.ALLOW_PRIVATE_ENV, "1")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.usefixtures("private_webhooks")
def test_every_page_speaks_the_language_chosen(site: Site, lang: str) -> None:
    before = i18n.misses(lang)
    pages = _walk(site, lang)
    assert i18n.misses(lang) - before == set()
    tag = "zh-CN" if lang == "zh" else "en"
    for path, text in pages.items():
        assert f'<html lang="{tag}">' in text, path
        assert "中文" in text and "English" in text, path
    if lang == "zh":
        assert "报告时限" in pages["/reports/{id}"]
        assert "较大" in pages["/reports/{id}"]  # 1.2 million people: relatively major
        assert "Reporting deadlines" not in pages["/reports/{id}"]
    else:
        assert "Reporting deadlines" in pages["/reports/{id}"]
        assert "<strong>relatively major</strong>" in pages["/reports/{id}"]


def test_the_language_switch_sets_its_cookie_and_stays_on_the_site(site: Site) -> None:
    client = site.client()
    r = client.get("/language/zh", params={"next": "/reports?status=open"})
    assert r.status_code == 303 and r.headers["location"] == "/reports?status=open"
    assert "lt_lang=zh" in r.headers["set-cookie"]
    for away in (
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:x",
    ):
        assert client.get("/language/en", params={"next": away}).headers["location"] == "/reports"


def test_hostile_text_is_shown_inert_on_every_page(site: Site) -> None:
    reporter = site.client("a_reporter")
    payload = " ".join(HOSTILE)
    form = report_form(
        payload,
        title=payload,
        override_reason=payload,
        grade_override="major",
    )
    report_id = file_report(reporter, **form)
    token = csrf(reporter, f"/reports/{report_id}")
    supplemented = reporter.post(
        f"/reports/{report_id}/supplement",
        data={**report_form(payload + " 2"), "csrf_token": token, "kind": "supplement"},
    )
    assert supplemented.status_code == 303
    reviewer = site.client("cac_reviewer")
    token = csrf(reviewer, f"/reports/{report_id}")
    reviewer.post(f"/reports/{report_id}/questions", data={"csrf_token": token, "text": payload})
    page = reporter.get(f"/reports/{report_id}").text
    question_id = re.search(r"/questions/(\d+)/answer", page).group(1)  # type: ignore[union-attr]
    reporter.post(
        f"/reports/{report_id}/questions/{question_id}/answer",
        data={"csrf_token": csrf(reporter, f"/reports/{report_id}"), "text": payload},
    )
    attached = reporter.post(
        f"/reports/{report_id}/attachments",
        data={"csrf_token": csrf(reporter, f"/reports/{report_id}")},
        files={"file": (f"{HOSTILE[0]}.json", b'{"verdict": {"label": "x"}}', "application/json")},
    )
    assert attached.status_code == 303
    shown = {
        "list": reporter.get("/reports").text,
        "search": reporter.get("/reports", params={"q": HOSTILE[0]}).text,
        "report": reporter.get(f"/reports/{report_id}").text,
        "version 1": reporter.get(f"/reports/{report_id}/versions/1").text,
        "supplement": reporter.get(f"/reports/{report_id}/supplement").text,
        "regulator's report": reviewer.get(f"/reports/{report_id}").text,
        "dashboard": reviewer.get("/dashboard").text,
        "regulator's list": reviewer.get("/reports").text,
        "refused form": reporter.post(
            "/reports/new",
            data={**form, "csrf_token": csrf(reporter), "discovered_at": payload},
        ).text,
        "login": site.client().get("/login", params={"next": "javascript:alert(1)"}).text,
    }
    for where, text in shown.items():
        assert "<script>alert" not in text, where
        assert "<svg onload" not in text, where
        assert 'href="javascript:' not in text and 'src="javascript:' not in text, where
    for where in ("list", "search", "report", "supplement", "refused form"):
        assert html.escape(HOSTILE[0], quote=False) in shown[where], where
    # title, every text field, the override's reason, the question, its answer, the file's name
    assert shown["report"].count("&lt;script&gt;alert(1)&lt;/script&gt;") >= len(TEXT_FIELDS) + 5
    assert 'name="next" value="/reports"' in shown["login"]


def test_another_organisations_report_is_a_404_page(site: Site) -> None:
    report_id = file_report(site.client("a_reporter"))
    other = site.client("b_reporter")
    token = csrf(other)
    for r in (
        other.get(f"/reports/{report_id}"),
        other.get(f"/reports/{report_id}/versions/1"),
        other.get(f"/reports/{report_id}/supplement"),
        other.post(f"/reports/{report_id}/supplement", data={**report_form(), "csrf_token": token}),
        other.post(
            f"/reports/{report_id}/attachments",
            data={"csrf_token": token},
            files={"file": ("v.json", b"{}", "application/json")},
        ),
    ):
        assert r.status_code == 404, r.request.url
        assert r.headers["content-type"].startswith("text/html")
        assert f"No report {report_id}." in r.text
        assert "银行乙 · reporter · b_reporter" in r.text  # the error page keeps the header
        assert "客户信息泄露" not in r.text
    assert "客户信息泄露" not in other.get("/reports").text
    assert "0 reports" in other.get("/reports").text


def test_each_role_sees_only_the_forms_it_may_use(site: Site) -> None:
    reporter = site.client("a_reporter")
    report_id = file_report(reporter)
    viewer = site.client("a_viewer")
    listed = viewer.get("/reports").text
    assert "客户信息泄露" in listed and 'href="/reports/new"' not in listed
    assert viewer.get("/reports/new").status_code == 403
    seen = viewer.get(f"/reports/{report_id}").text
    for form in ("/supplement", "/attachments", "/questions", "/close", 'type="file"'):
        assert form not in seen, form
    assert "/export?format=pdf" in seen

    mine = reporter.get(f"/reports/{report_id}").text
    assert f'href="/reports/{report_id}/supplement"' in mine and 'type="file"' in mine
    assert f'action="/reports/{report_id}/questions"' not in mine and "/close" not in mine

    reviewer = site.client("cac_reviewer")
    theirs = reviewer.get(f"/reports/{report_id}").text
    assert f'action="/reports/{report_id}/questions"' in theirs and "/close" in theirs
    assert "/supplement" not in theirs and 'type="file"' not in theirs
    assert 'href="/reports/new"' not in reviewer.get("/reports").text
    assert 'href="/settings"' not in theirs and 'href="/dashboard"' in theirs
    assert reviewer.get("/settings").status_code == 403


def test_unknown_or_malformed_filters_are_a_422_page(site: Site) -> None:
    client = site.client("a_reporter")
    for query in ("colour=red", "status=deleted", "overdue=maybe", "offset=-1"):
        r = client.get(f"/reports?{query}")
        assert r.status_code == 422, query
        assert r.headers["content-type"].startswith("text/html")


def test_a_refused_form_is_shown_again_with_the_input_kept(site: Site) -> None:
    client = site.client("a_reporter")
    form = report_form(
        "<b>保留</b>",
        title="",
        people_affected="很多",
        discovered_at="2026-03-08T02:30",
        zone="America/New_York",
        grade_override="major",
        override_reason="",
    )
    r = client.post("/reports/new", data={**form, "csrf_token": csrf(client)})
    assert r.status_code == 422
    page = r.text
    assert re.search(r'id="error-people_affected">Expected a whole number\.<', page)
    assert re.search(r'id="error-discovered_at">[^<]*does not exist in America/New_York', page)
    assert "harm: &lt;b&gt;保留&lt;/b&gt;" in page
    assert 'value="很多"' in page
    assert '<option value="America/New_York" selected>' in page
    assert 'value="mobile" checked' in page
    assert page.count('name="cause"') == 1  # a field both the CAC and PIPL ask for, asked once

    form.update(people_affected="5", discovered_at="2026-11-03T09:15", title="标题")
    r = client.post("/reports/new", data={**form, "csrf_token": csrf(client)})
    assert r.status_code == 422
    assert 'id="error-override_reason"' in r.text
    with site.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM reports")).scalar() == 0


def test_the_whole_story_through_the_pages(site: Site) -> None:
    reporter = site.client("a_reporter")
    report_id = file_report(reporter)
    filed = reporter.get(f"/reports/{report_id}?filed=1").text
    assert "Grade computed from the counts: relatively major." in filed
    assert "2026-11-03 09:15 (UTC+8)" in filed  # discovery, shown in Shanghai time

    token = csrf(reporter, f"/reports/{report_id}/supplement")
    prefilled = reporter.get(f"/reports/{report_id}/supplement").text
    assert 'value="1200000"' in prefilled and 'value="2026-11-02T22:00"' in prefilled
    r = reporter.post(
        f"/reports/{report_id}/supplement",
        data={
            **report_form(),
            "csrf_token": token,
            "kind": "supplement",
            "handled_at": "2026-11-04T10:00",
            "harm": "已确认泄露范围",
            "people_affected": "12000000",
        },
    )
    assert r.status_code == 303
    page = reporter.get(f"/reports/{report_id}").text
    assert "<strong>major</strong>" in page and "已确认泄露范围" in page
    # the 30-day summary ran from the end of handling, 2026-11-04, and is not in
    assert 'data-state="overdue"' in page.split('id="clocks"')[1].split("</section>")[0]
    assert f'href="/reports/{report_id}/versions/2"' in page
    assert "Harm caused" in page.split("Changed:")[1]
    old = reporter.get(f"/reports/{report_id}/versions/1").text
    assert "This is version 1 of 2." in old and "harm: 数据库遭拖库" in old

    evidence = json.dumps({"verdict": {"label": "authentic_ours"}, "records": 5}).encode()
    r = reporter.post(
        f"/reports/{report_id}/attachments",
        data={"csrf_token": token},
        files={"file": ("verify.json", evidence, "application/json")},
    )
    assert r.status_code == 303
    page = reporter.get(f"/reports/{report_id}").text
    assert "verify.json" in page
    download = re.search(r'href="(/api/v1/reports/\d+/attachments/\d+)"', page).group(1)  # type: ignore[union-attr]
    assert reporter.get(download).content == evidence
    refused = reporter.post(
        f"/reports/{report_id}/attachments",
        data={"csrf_token": token},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert refused.status_code == 422 and "leaktrace verify" in refused.text

    reviewer = site.client("cac_reviewer")
    assert "客户信息泄露" in reviewer.get("/reports").text
    board = reviewer.get("/dashboard").text
    assert f'<a href="/reports/{report_id}">' in board.split('id="due"')[1]
    assert "<svg" in board and "Reports by institution" in board
    assert "1 reports" in reviewer.get("/reports?overdue=true").text
    token_r = csrf(reviewer, f"/reports/{report_id}")
    reviewer.post(
        f"/reports/{report_id}/questions", data={"csrf_token": token_r, "text": "请说明原因"}
    )
    assert "questioned by the regulator" in reviewer.get(f"/reports/{report_id}").text
    page = reporter.get(f"/reports/{report_id}").text
    question_id = re.search(r"/questions/(\d+)/answer", page).group(1)  # type: ignore[union-attr]
    reporter.post(
        f"/reports/{report_id}/questions/{question_id}/answer",
        data={"csrf_token": token, "text": "外部攻击所致"},
    )
    assert "外部攻击所致" in reviewer.get(f"/reports/{report_id}").text
    closing = reviewer.post(f"/reports/{report_id}/close", data={"csrf_token": token_r})
    assert closing.status_code == 303
    closed = reporter.get(f"/reports/{report_id}").text
    assert "closed" in closed and f"/reports/{report_id}/supplement" not in closed
    assert reporter.get(f"/reports/{report_id}/supplement").status_code == 409
    again = reviewer.post(f"/reports/{report_id}/close", data={"csrf_token": token_r})
    assert again.status_code == 409 and "The report is closed." in again.text
    closed_list = reviewer.get("/reports?status=closed").text
    assert "1 reports" in closed_list and "none running" in closed_list


def _me(site: Site, key: str) -> int:
    """The status of ``/api/v1/me`` asked with API key ``key``."""
    return site.client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code


def test_settings_show_a_new_key_once_and_revoke_it(site: Site) -> None:
    boss = site.client("a_admin")
    token = csrf(boss, "/settings")
    made = boss.post(
        "/settings/keys", data={"csrf_token": token, "name": "报送系统", "role": "reporter"}
    )
    assert made.status_code == 201
    key = re.search(r"<code>(lt_[^<]+)</code>", made.text).group(1)  # type: ignore[union-attr]
    assert _me(site, key) == 200
    again = boss.get("/settings").text
    assert key not in again and "报送系统" in again
    key_id = re.search(r"/settings/keys/(\d+)/revoke", again).group(1)  # type: ignore[union-attr]
    revoked = boss.post(f"/settings/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert _me(site, key) == 401

    added = boss.post(
        "/settings/users",
        data={"csrf_token": token, "username": "a_new", "password": "short", "role": "viewer"},
    )
    assert added.status_code == 422 and 'value="a_new"' in added.text
    added = boss.post(
        "/settings/users",
        data={"csrf_token": token, "username": "a_new", "password": PASSWORD, "role": "viewer"},
    )
    assert added.status_code == 303
    assert sign_in(site.client(), "a_new").status_code == 303  # type: ignore[attr-defined]


@pytest.mark.usefixtures("private_webhooks")
def test_settings_show_a_webhooks_secret_once_and_its_delivery_log(site: Site) -> None:
    boss = site.client("cac_admin")
    made = _webhook(boss)
    assert made.status_code == 201  # type: ignore[attr-defined]
    secret = re.search(r"<code>([^<]+)</code>", made.text).group(1)  # type: ignore[attr-defined,union-attr]
    listed = boss.get("/settings").text
    assert secret not in listed and "http://127.0.0.1:9/leaktrace" in listed
    hook_id = re.search(r'href="/settings/webhooks/(\d+)"', listed).group(1)  # type: ignore[union-attr]

    file_report(site.client("a_reporter"))
    outbox.dispatch(site.engine, NOW)
    with httpx.Client(timeout=2) as client:
        assert outbox.deliver_due(site.engine, client, NOW, allow_private=True) == 1
    log = boss.get(f"/settings/webhooks/{hook_id}").text
    assert "2026-12-06 16:00 (UTC+8)" in log and "next attempt:" in log

    assert site.client("a_admin").get(f"/settings/webhooks/{hook_id}").status_code == 404
    token = csrf(boss, "/settings")
    assert (
        boss.post(f"/settings/webhooks/{hook_id}/disable", data={"csrf_token": token}).status_code
        == 303
    )
    assert "disabled" in boss.get("/settings").text


@given(st.text(max_size=60))
def test_a_page_sends_a_browser_back_only_within_the_site(path: str) -> None:
    kept = site_path(path)
    joined = urlsplit(urljoin("https://registry.example/reports", kept))
    assert joined.scheme == "https" and joined.netloc == "registry.example"
    assert kept in (path, "/reports")


FORM_NAMES = (
    "title",
    "discovered_at",
    "zone",
    "occurred_at",
    "incident_type",
    "cause_category",
    "data_categories",
    "grade_override",
    "override_reason",
    *TEXT_FIELDS,
    *page_forms.COUNT_FIELDS,
)


@given(st.dictionaries(st.sampled_from(FORM_NAMES), st.text(max_size=40), max_size=12))
def test_any_filing_form_is_read_or_refused_field_by_field(given_form: dict[str, str]) -> None:
    form = FormData(list(given_form.items()))
    try:
        data = page_forms.report_in(form)
    except page_forms.FormErrors as err:
        assert err.errors and set(err.errors) <= {*FORM_NAMES, "form"}
    else:
        assert data.title == given_form["title"].strip()
        assert data.discovered_at.tzinfo is not None


def test_the_list_pages_through_every_report_under_its_filter(site: Site) -> None:
    with db.transaction(site.engine) as session:
        org = session.scalar(sa.select(Organisation).where(Organisation.name == "银行甲"))
        who = Principal(org_id=org.id, org_kind="institution", role="reporter", via="cli")
        for i in range(PAGE_SIZE + 3):
            data = ReportIn(title=f"第{i}号事件", discovered_at=NOW - dt.timedelta(days=1, hours=i))
            reports.file(session, who, data, NOW)
    client = site.client("a_reporter")
    first = client.get("/reports", params={"status": "open", "sort": "-discovered_at"}).text
    assert first.count('<tr>\n    <td><a href="/reports/') == PAGE_SIZE
    assert f"{PAGE_SIZE + 3} reports" in first and "第0号事件" in first
    following = re.search(rf'href="(/reports\?[^"]*offset={PAGE_SIZE})"', first).group(1)  # type: ignore[union-attr]
    second = client.get(html.unescape(following)).text
    assert second.count('<tr>\n    <td><a href="/reports/') == 3
    assert f"第{PAGE_SIZE + 2}号事件" in second and "第0号事件" not in second
    assert f"{PAGE_SIZE + 1}–{PAGE_SIZE + 3} of {PAGE_SIZE + 3}" in second
    assert "Next page" not in second and "Previous page" in second
