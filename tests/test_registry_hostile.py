"""Hostile input to the registry's API, on SQLite and PostgreSQL: SQL injection and script in every
text field (stored as given, inert, read back byte for byte, escaped in the printable export),
in the search, the filters and the path; bodies too large, malformed, of the wrong type or
encoding, holding NUL or unpaired surrogates, huge numbers or deep nesting. Each gets a clear
RFC 9457 problem that never repeats the hostile value, and never a server error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from registry_world import World, make_world, report_body

from leaktrace.registry import audit, db
from leaktrace.registry.app import MAX_BODY, create_app
from leaktrace.registry.models import Report
from leaktrace.registry.schemas import Fields

API = "/api/v1"
SQL = (
    "' OR '1'='1",
    "'; DROP TABLE reports; --",
    "1; DELETE FROM audit_log",
    '" OR ""="',
    "') UNION SELECT id, title, org_id FROM reports --",
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(0); --",
    "$$; DROP TABLE organisations; $$",
    "admin'/*",
)
SCRIPT = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(document.cookie)",
    '\'><a href="javascript:alert(1)" onmouseover=alert(1)>x</a>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "</span></td></tr></table><script>alert(document.domain)</script>",
    "<style>body{background:url(javascript:alert(1))}</style>",
)
#: The report's free-text fields (the coded ones, times and lists are checked by their shape).
TEXT_FIELDS = sorted(
    name
    for name, spec in Fields.model_json_schema()["properties"].items()
    if {"type": "string", "maxLength": 20_000} in spec.get("anyOf", [])
)


@pytest.fixture
def world(registry_engine: sa.Engine) -> World:
    return make_world(registry_engine)


def _ok(r: Any, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def assert_problem(r: Any, status: int | tuple[int, ...], *hostile: str) -> None:
    """``r`` is an RFC 9457 problem of ``status`` that repeats none of ``hostile``."""
    statuses = (status,) if isinstance(status, int) else status
    assert r.status_code in statuses, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == r.status_code and body["type"].startswith("https://")
    for value in hostile:
        assert value not in r.text and json.dumps(value)[1:-1] not in r.text


def _file_everywhere(world: World, text: str) -> int:
    """A bank report with ``text`` in its title, every text field and the override's reason; a
    supplement, a question and an answer with it too. Returns the report's id."""
    bank, cac = world.client("bank", "reporter"), world.client("cac", "reviewer")
    body = report_body(
        title=text,
        grade_override="major",
        override_reason=text * 2,  # a reason needs 10 characters
        fields={**report_body()["fields"], **dict.fromkeys(TEXT_FIELDS, text)},
    )
    rid = _ok(bank.post(f"{API}/reports", json=body), 201)["id"]
    _ok(bank.post(f"{API}/reports/{rid}/versions", json={"fields": {"cause": text}}), 201)
    qid = _ok(cac.post(f"{API}/reports/{rid}/questions", json={"text": text}), 201)["id"]
    _ok(bank.post(f"{API}/reports/{rid}/questions/{qid}/answer", json={"text": text}))
    return rid


def _assert_stored_as_given(world: World, rid: int, text: str) -> None:
    r = world.client("bank", "viewer").get(f"{API}/reports/{rid}")
    assert r.headers["content-type"] == "application/json"
    view = _ok(r)
    assert view["title"] == text and view["grade"]["override_reason"] == text * 2
    assert all(view["version"]["fields"][name] == text for name in TEXT_FIELDS)
    (question,) = view["questions"]
    assert question["text"] == text and question["answer"] == text
    first = _ok(world.client("bank", "viewer").get(f"{API}/reports/{rid}/versions/1"))
    assert (
        first["version"]["fields"]["harm"] == text and first["version"]["fields"]["cause"] == text
    )


def test_the_text_fields_are_the_reports(world: World) -> None:
    assert len(TEXT_FIELDS) >= 13 and {"harm", "cause", "contact", "remedies"} <= set(TEXT_FIELDS)


def test_sql_in_every_text_field_is_stored_inert(world: World) -> None:
    shop_rid = _ok(
        world.client("shop", "reporter").post(f"{API}/reports", json=report_body(title="乙商城")),
        201,
    )["id"]
    for text in SQL:
        rid = _file_everywhere(world, text)
        _assert_stored_as_given(world, rid, text)
    admin = world.client("bank", "admin")
    for text in SQL:
        _ok(admin.post(f"{API}/keys", json={"name": text, "role": "viewer"}), 201)
        user = {"username": f"u{len(text)}x{SQL.index(text)}", "password": "p" * 12}
        _ok(admin.post(f"{API}/users", json={**user, "role": "viewer", "display_name": text}), 201)
    assert set(SQL) <= {k["name"] for k in _ok(admin.get(f"{API}/keys"))["items"]}
    assert set(SQL) <= {u["display_name"] for u in _ok(admin.get(f"{API}/users"))["items"]}
    with db.transaction(world.engine) as s:  # every table is still there, every row too
        assert s.scalar(sa.select(sa.func.count()).select_from(Report)) == len(SQL) + 1
    assert audit.verify(world.engine).ok
    bank = world.client("bank", "viewer")
    for text in SQL:
        found = _ok(bank.get(f"{API}/reports", params={"q": text}))
        assert shop_rid not in {i["id"] for i in found["items"]}
        assert found["total"] >= 1 and found["total"] == len(found["items"])
        assert _ok(world.client("shop", "viewer").get(f"{API}/reports", params={"q": text})) == {
            "items": [],
            "total": 0,
            "limit": 50,
            "offset": 0,
        }
        rows = _ok(bank.get(f"{API}/reports/export", params={"format": "json", "q": text}))
        assert shop_rid not in {row["id"] for row in rows}


@pytest.mark.parametrize("text", SQL)
def test_sql_in_filters_and_path_ids_is_refused(world: World, text: str) -> None:
    c = world.client("cac", "viewer")
    for name in ("status", "grade", "org", "overdue", "since", "until", "sort", "limit", "offset"):
        assert_problem(c.get(f"{API}/reports", params={name: text}), 422, text)
        assert_problem(c.get(f"{API}/reports/export", params={name: text}), 422, text)
    assert_problem(c.get(f"{API}/reports", params={text: "1"}), 422)
    for path in ("/reports/{}", "/reports/1/versions/{}", "/reports/1/attachments/{}"):
        r = c.get(API + path.format(quote(text, safe="")))
        assert_problem(r, (404, 422), text)  # 404 where the text's "/" makes another path
    assert_problem(c.get(f"{API}/reports/1/export", params={"version": text}), 422, text)
    key = f"lt_{(text * 2)[:12]}_{text}"  # shaped like a key, with the injection in its parts
    anonymous = TestClient(world.app, raise_server_exceptions=False)
    r = anonymous.get(f"{API}/me", headers={"Authorization": f"Bearer {key}"})
    assert_problem(r, 401, text)


class _Page(HTMLParser):
    """The elements, attributes and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(c: TestClient, rid: int, lang: str) -> tuple[_Page, str]:
    r = c.get(f"{API}/reports/{rid}/export", params={"format": "html", "lang": lang})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = _Page()
    page.feed(r.text)
    return page, r.text


def test_script_in_every_text_field_is_text_in_json_and_in_the_export(world: World) -> None:
    bank = world.client("bank", "reporter")
    plain = _file_everywhere(world, "合作方外包人员违规导出客户信息")
    files = {"file": ("verify.json", b'{"verdict": {"label": "ours"}}')}
    _ok(bank.post(f"{API}/reports/{plain}/attachments", files=files), 201)
    baseline = {lang: _page(bank, plain, lang)[0] for lang in ("zh", "en")}
    assert not {"script", "img", "svg", "iframe", "a"} & set(baseline["en"].tags)
    for text in SCRIPT:
        rid = _file_everywhere(world, text)
        _assert_stored_as_given(world, rid, text)
        files = {"file": ("<img src=x onerror=alert(1)>.json", b'{"verdict": {"label": "ours"}}')}
        attached = _ok(bank.post(f"{API}/reports/{rid}/attachments", files=files), 201)
        assert attached["filename"] == "<img src=x onerror=alert(1)>.json"
        for lang in ("zh", "en"):
            page, html = _page(bank, rid, lang)
            # no element or attribute but the page's own: the input made none
            assert set(page.tags) <= set(baseline[lang].tags)
            assert page.tags.count("style") == baseline[lang].tags.count("style")
            assert set(page.attributes) <= set(baseline[lang].attributes)
            assert text in "".join(page.text)
            if escape(text) != text:
                assert text not in html  # it is there, but only escaped


def test_a_body_over_the_limit_is_refused(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    client = TestClient(app, raise_server_exceptions=False)
    huge = b'{"title": "' + b"x" * (MAX_BODY + 1) + b'"}'
    declared = client.post(
        f"{API}/reports", content=huge, headers={"Content-Type": "application/json"}
    )
    assert_problem(declared, 413)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(huge), 1 << 20):
            yield huge[start : start + (1 << 20)]

    streamed = client.post(
        f"{API}/reports", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert_problem(streamed, 413)
    lying = client.post(
        f"{API}/reports",
        content=huge[:100],
        headers={"Content-Type": "application/json", "Content-Length": "-1"},
    )
    assert_problem(lying, 413)


def _raw(c: TestClient, path: str, body: bytes, media: str = "application/json") -> Any:
    return c.post(f"{API}{path}", content=body, headers={"Content-Type": media})


def test_malformed_bodies_get_problems_never_server_errors(world: World) -> None:
    c = world.client("bank", "reporter")
    rid = _ok(c.post(f"{API}/reports", json=report_body()), 201)["id"]
    valid = json.dumps(report_body(title="HOSTILE-TITLE"), ensure_ascii=False)
    cases: list[tuple[str, bytes, str, str, int]] = [
        # malformed JSON: a shape problem, the place named, the text not repeated
        ("/reports", b'{"title": "HOSTILE-1",', "application/json", "HOSTILE-1", 422),
        ("/reports", b'{"title": "HOSTILE-2"} trailing', "application/json", "HOSTILE-2", 422),
        ("/reports", b"\xef\xbb\xbf{\"title\": 'HOSTILE-3'}", "application/json", "HOSTILE-3", 422),
        # the wrong media type: the body is not taken for JSON
        ("/reports", valid.encode(), "text/plain", "HOSTILE-TITLE", 422),
        ("/reports", b"title=HOSTILE-4", "application/x-www-form-urlencoded", "HOSTILE-4", 422),
        ("/reports", valid.encode(), "application/xml", "HOSTILE-TITLE", 422),
        # not UTF-8 (stray bytes, GBK, an encoded surrogate, an overlong form)
        ("/reports", b'{"title": "HOSTILE-5\xff\xfe\x80"}', "application/json", "HOSTILE-5", 400),
        ("/reports", valid.replace("HOSTILE", "客户").encode("gbk"), "application/json", "客户", 400),
        ("/reports", b'{"title": "HOSTILE-6\xed\xa0\x80"}', "application/json", "HOSTILE-6", 422),
        (f"/reports/{rid}/questions", b'{"text": "\xc0\xaf"}', "application/json", "\xc0", 400),
    ]  # fmt: skip
    for path, body, media, hostile, status in cases:
        r = _raw(c, path, body, media)
        assert_problem(r, status, hostile)
        if status == 400:
            assert "UTF-8" in r.json()["detail"]


def test_nul_and_unpaired_surrogates_are_refused_before_the_database(world: World) -> None:
    bank = world.client("bank", "reporter")
    rid = _ok(bank.post(f"{API}/reports", json=report_body()), 201)["id"]
    cac = world.client("cac", "reviewer")
    for bad in ("HOSTILE\\u0000NUL", "HOSTILE\\ud800LONE", "HOSTILE\\udfffLONE"):
        for path, body in (
            ("/reports", '{"title": "VALUE", "discovered_at": "2026-11-03T09:15:00+08:00"}'),
            ("/reports", '{"title": "t", "discovered_at": "2026-11-03T09:15:00+08:00", '
             '"fields": {"harm": "VALUE"}}'),
            (f"/reports/{rid}/versions", '{"fields": {"cause": "VALUE"}}'),
        ):  # fmt: skip
            assert_problem(
                _raw(bank, path, body.replace("VALUE", bad).encode()), 422, bad, "HOSTILE"
            )
        r = _raw(
            cac, f"/reports/{rid}/questions", '{"text": "VALUE"}'.replace("VALUE", bad).encode()
        )
        assert_problem(r, 422, bad, "HOSTILE")
        admin = world.client("bank", "admin")
        for path, body in (
            ("/keys", '{"name": "VALUE", "role": "viewer"}'),
            ("/webhooks", '{"url": "https://example.com/VALUE", "events": ["report.filed"]}'),
            ("/users", '{"username": "abc", "password": "VALUE123456789012", "role": "viewer"}'),
        ):
            assert_problem(
                _raw(admin, path, body.replace("VALUE", bad).encode()), 422, bad, "HOSTILE"
            )
    for q in ("HOSTILE\x00NUL", "\x00"):
        assert_problem(world.client("cac", "viewer").get(f"{API}/reports", params={"q": q}), 422)
    assert _ok(bank.get(f"{API}/reports/{rid}"))["latest_version"] == 1


def test_huge_numbers_and_deep_nesting_are_refused(world: World) -> None:
    c = world.client("bank", "reporter")
    rid = _ok(c.post(f"{API}/reports", json=report_body()), 201)["id"]
    big = "9" * 40
    for counts in (
        '{"people_affected": VALUE}'.replace("VALUE", big),
        '{"records_affected": -VALUE}'.replace("VALUE", big),
        '{"direct_loss_yuan": 1e400}',
        '{"cii_outage_hours": 1e400}',
        '{"people_affected": VALUE}'.replace("VALUE", "7" * 5000),
    ):
        body = json.dumps(report_body(counts={})).replace('"counts": {}', f'"counts": {counts}')
        # beyond Python's 4300 digits the JSON itself cannot be read: 400, not a shape error
        assert_problem(_raw(c, "/reports", body.encode()), (400, 422), big, "7" * 50)
    for path in (f"/reports/{big}", f"/reports/{rid}/versions/{big}", f"/reports/-{big}"):
        assert_problem(c.get(API + path), 422, big)
    for params in ({"version": big}, {"version": str(2**63)}, {"version": "0"}):
        assert_problem(c.get(f"{API}/reports/{rid}/export", params=params), 422, big)
    for name in ("org", "limit", "offset"):
        assert_problem(c.get(f"{API}/reports", params={name: big}), 422, big)
    for depth in (1_000, 100_000):
        nested = b'{"title": "t", "fields": ' + b"[" * depth + b"]" * depth + b"}"
        assert_problem(_raw(c, "/reports", nested), (400, 422))
        nested = b'{"text": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"
        assert_problem(_raw(c, f"/reports/{rid}/questions/1/answer", nested), (400, 422))
