"""The registry's JSON API on SQLite and PostgreSQL: filing on the clock, supplements, questions,
closing, exports, lists and their filters, through the one access policy."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from registry_world import World, make_world, report_body

from leaktrace.registry import audit


@pytest.fixture
def world(registry_engine) -> World:
    return make_world(registry_engine)


def _file(world: World, org: str = "bank", **overrides: object) -> dict:
    r = world.client(org, "reporter").post("/api/v1/reports", json=report_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


def test_a_bank_files_and_runs_several_clocks_in_shanghai_time(world: World) -> None:
    report = _file(world)
    assert report["grade"]["code"] == "relatively_major"  # 1.2 million people
    clocks = {c["rule_id"]: c for c in report["clocks"]}
    # a CII bank: the CAC's 1-hour clock only, the PBOC's and NFRA's, GDPR's for comparison
    assert "cac-report-cii" in clocks and "cac-report-provincial" not in clocks
    assert clocks["cac-report-cii"]["due_at"] == "2026-11-03T02:15:00+00:00"  # 10:15 in Shanghai
    assert clocks["gdpr-art33"]["informational"] is True
    assert {"PBOC", "NFRA"} <= {c["authority"] for c in report["clocks"]}
    # filed at 10:00 Shanghai: the initial clocks are met, the summary waits for handling
    assert clocks["cac-report-cii"]["state"] == "met"
    assert clocks["cac-summary"]["state"] == "pending"
    assert set(report["regulators"]) == {
        "某省网信办",
        "中国人民银行某分行",
        "国家金融监督管理总局某监管局",
    }
    assert report["version"]["fields"]["harm"].startswith("约120万名")


def test_a_late_filing_is_met_late(world: World) -> None:
    world.clock.now = dt.datetime(2026, 11, 3, 5, 0, tzinfo=dt.UTC)  # 13:00 Shanghai
    report = _file(world)
    states = {c["rule_id"]: c["state"] for c in report["clocks"]}
    assert states["cac-report-cii"] == "met_late"
    assert states["gdpr-art33"] == "met"


def test_supplement_keeps_every_version_and_regrades(world: World) -> None:
    report = _file(world)
    rid = report["id"]
    c = world.client("bank", "reporter")
    r = c.post(
        f"/api/v1/reports/{rid}/versions",
        json={
            "fields": {"cause": "合作方外包人员违规导出"},
            "counts": {"people_affected": 12_000_000},
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/reports/{rid}/versions/2"
    now = r.json()
    assert now["grade"]["code"] == "major"
    assert now["version"]["fields"]["harm"].startswith("约120万名")  # kept from version 1
    assert now["version"]["fields"]["cause"] == "合作方外包人员违规导出"
    first = c.get(f"/api/v1/reports/{rid}/versions/1").json()
    assert first["version"]["fields"]["cause"] is None
    assert first["version"]["counts"]["people_affected"] == 1_200_000
    assert [v["number"] for v in c.get(f"/api/v1/reports/{rid}/versions").json()["items"]] == [1, 2]


def test_override_needs_a_reason(world: World) -> None:
    c = world.client("bank", "reporter")
    r = c.post("/api/v1/reports", json=report_body(grade_override="major"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "override_reason"
    ok = c.post(
        "/api/v1/reports",
        json=report_body(
            grade_override="major", override_reason="涉及大量敏感金融账户信息，影响面广"
        ),
    )
    assert ok.status_code == 201
    assert ok.json()["grade"] | {"reasons": []} == {
        "code": "major",
        "computed": "relatively_major",
        "override": "major",
        "override_reason": "涉及大量敏感金融账户信息，影响面广",
        "reasons": [],
    }


def test_summary_after_handling_starts_and_meets_the_30_day_clock(world: World) -> None:
    rid = _file(world)["id"]
    c = world.client("bank", "reporter")
    world.clock.now = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)
    r = c.post(
        f"/api/v1/reports/{rid}/versions",
        json={"kind": "supplement", "handled_at": "2026-11-09T18:00:00+08:00"},
    )
    summary = {cl["rule_id"]: cl for cl in r.json()["clocks"]}["cac-summary"]
    assert summary["state"] == "running"
    assert summary["due_at"].startswith("2026-12-09T16:00:00")  # end of 9 Dec in Shanghai
    r = c.post(
        f"/api/v1/reports/{rid}/versions",
        json={"kind": "summary", "fields": {"remedies": "已为受影响客户更换卡片"}},
    )
    summary = {cl["rule_id"]: cl for cl in r.json()["clocks"]}["cac-summary"]
    assert summary["state"] == "met"


def test_regulator_questions_institution_answers_regulator_closes(world: World) -> None:
    rid = _file(world)["id"]
    cac = world.client("cac", "reviewer")
    r = cac.post(
        f"/api/v1/reports/{rid}/questions", json={"text": "请说明合作方名称及数据传输方式。"}
    )
    assert r.status_code == 201
    qid = r.json()["id"]
    bank = world.client("bank", "reporter")
    assert bank.get(f"/api/v1/reports/{rid}").json()["status"] == "questioned"
    assert bank.post(f"/api/v1/reports/{rid}/close").status_code == 403  # visible, not its to close
    r = bank.post(
        f"/api/v1/reports/{rid}/questions/{qid}/answer",
        json={"text": "合作方为某某科技，经SFTP传输。"},
    )
    assert r.status_code == 200
    assert cac.post(f"/api/v1/reports/{rid}/close").json()["status"] == "closed"
    r = bank.post(f"/api/v1/reports/{rid}/versions", json={"fields": {"cause": "x"}})
    assert r.status_code == 409
    assert bank.get(f"/api/v1/reports/{rid}").json()["status"] == "closed"  # never deleted


def test_other_organisations_see_nothing_of_it(world: World) -> None:
    rid = _file(world)["id"]
    shop = world.client("shop", "admin")
    assert shop.get(f"/api/v1/reports/{rid}").status_code == 404
    assert shop.get(f"/api/v1/reports/{rid}/versions/1").status_code == 404
    assert shop.get(f"/api/v1/reports/{rid}/export").status_code == 404
    assert shop.get("/api/v1/reports").json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }
    assert shop.get("/api/v1/reports", params={"q": "出售"}).json()["total"] == 0
    exported = shop.get("/api/v1/reports/export", params={"format": "json"}).json()
    assert exported == []
    # a shop's report goes to the CAC alone, not to the PBOC
    _file(world, "shop")
    pboc = world.client("pboc", "viewer").get("/api/v1/reports").json()
    assert pboc["total"] == 1 and pboc["items"][0]["id"] == rid


def test_unknown_or_malformed_filters_are_refused_not_ignored(world: World) -> None:
    _file(world)
    c = world.client("cac", "viewer")
    for params in (
        {"org_id": "1"},
        {"status": "deleted"},
        {"limit": "0"},
        {"since": "yesterday"},
        {"overdue": "maybe"},
    ):
        r = c.get("/api/v1/reports", params=params)
        assert r.status_code == 422, params
        assert r.json()["type"].endswith("/invalid")
    r = c.get("/api/v1/reports?status=open&status=closed")
    assert r.status_code == 422


def test_lists_filter_search_count_and_export(world: World) -> None:
    for i in range(3):
        _file(world, title=f"第{i}次泄露", counts={"people_affected": 10 ** (4 + i)})
    _file(world, "shop", title="订单信息泄露")
    cac = world.client("cac", "viewer")
    everything = cac.get("/api/v1/reports").json()
    assert everything["total"] == 4
    assert cac.get("/api/v1/reports", params={"q": "订单"}).json()["total"] == 1
    assert (
        cac.get("/api/v1/reports", params={"q": "%"}).json()["total"] == 0
    )  # LIKE's wildcard is text
    page = cac.get("/api/v1/reports", params={"limit": 2, "sort": "-people_affected"}).json()
    assert page["total"] == 4 and len(page["items"]) == 2
    assert page["items"][0]["people_affected"] == 1_200_000
    r = cac.get("/api/v1/reports/export", params={"format": "csv", "q": "泄露"})
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 4 and {row["institution"] for row in rows} >= {"某某电子商务有限公司"}


def test_overdue_filter_and_dashboard(world: World) -> None:
    # both filed on time; the shop's handling ends on 3 Nov, so its summary is due by the end
    # of 3 Dec (Shanghai) and is overdue on 5 Dec
    world.clock.now = dt.datetime(2026, 11, 3, 2, 0, tzinfo=dt.UTC)
    _file(world, discovered_at="2026-11-03T09:15:00+08:00")
    rid = _file(world, "shop")["id"]
    cac = world.client("cac", "viewer")
    assert cac.get("/api/v1/reports", params={"overdue": "true"}).json()["total"] == 0
    world.clock.now = dt.datetime(2026, 11, 4, 2, 0, tzinfo=dt.UTC)
    world.client("shop", "reporter").post(
        f"/api/v1/reports/{rid}/versions", json={"handled_at": "2026-11-03T12:00:00+08:00"}
    )
    world.clock.now = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)  # past the 30 days
    overdue = cac.get("/api/v1/reports", params={"overdue": "true"}).json()
    assert [i["id"] for i in overdue["items"]] == [rid]
    board = cac.get("/api/v1/dashboard").json()
    assert board["totals"]["reports"] == 2 and board["totals"]["overdue"] == 1
    assert board["due"][0]["report_id"] == rid and board["due"][0]["state"] == "overdue"
    assert sum(m["count"] for m in board["months"]) == 2
    assert world.client("bank", "admin").get("/api/v1/dashboard").status_code == 403


def test_export_html_and_attachment(world: World) -> None:
    rid = _file(world)["id"]
    bank = world.client("bank", "reporter")
    html = bank.get(f"/api/v1/reports/{rid}/export", params={"format": "html", "lang": "zh"})
    assert html.status_code == 200 and "客户信息在境外论坛被出售" in html.text
    verify_json = (
        b'{"leak": "x.csv", "records": 120, "verdict": {"label": "ours"}, "evidence": {"inputs": [{"sha256": "'
        + b"a" * 64
        + b'"}]}}'
    )
    r = bank.post(
        f"/api/v1/reports/{rid}/attachments",
        files={"file": ("../../verify.json", verify_json, "application/json")},
    )
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["filename"] == "verify.json" and att["summary"]["verdict"] == "ours"
    got = world.client("cac", "viewer").get(f"/api/v1/reports/{rid}/attachments/{att['id']}")
    assert got.content == verify_json
    assert "attachment" in got.headers["content-disposition"]
    assert "sandbox" in got.headers["content-security-policy"]
    bad = bank.post(
        f"/api/v1/reports/{rid}/attachments",
        files={"file": ("x.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert bad.status_code == 422


def test_every_change_is_in_the_audit_chain(world: World) -> None:
    rid = _file(world)["id"]
    world.client("cac", "reviewer").post(
        f"/api/v1/reports/{rid}/questions", json={"text": "请补充"}
    )
    check = audit.verify(world.engine)
    assert check.ok and check.entries >= 3
