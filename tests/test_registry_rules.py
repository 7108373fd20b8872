"""The deadline rules table and its clocks: which rules an incident runs on, when each is due
(elapsed hours, Shanghai calendar days) whatever zone the time was typed in, table versions
that never move a past deadline, where a clock stands, and malformed tables refused."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leaktrace import i18n
from leaktrace.registry.rules import (
    DEFAULT_TABLE,
    SHANGHAI,
    STATES,
    Facts,
    clocks,
    due_at,
    load_table,
    parse_local,
    state,
    to_shanghai,
)

TABLE = load_table()
RAW = json.loads(DEFAULT_TABLE.read_text(encoding="utf-8"))
DISCOVERED = datetime(2026, 3, 10, 9, 15, tzinfo=SHANGHAI)


def facts(sector: str = "other", grade: str = "relatively_major", **kw: object) -> Facts:
    base: dict[str, object] = {"cii": False, "central_body": False, "discovered_at": DISCOVERED}
    return Facts(sector=sector, grade=grade, **(base | kw))  # type: ignore[arg-type]


def ids(fs: Facts, table=TABLE) -> list[str]:
    return [c.rule_id for c in clocks(fs, table)]


def by_id(fs: Facts, table=TABLE) -> dict:
    return {c.rule_id: c for c in clocks(fs, table)}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "deadline_rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# Each rule: an institution it applies to and one it does not.
HANDLED = DISCOVERED + timedelta(days=3)
APPLIES = {
    "cac-report-cii": (facts(cii=True), facts()),
    "cac-report-central-body": (facts(central_body=True), facts(central_body=True, cii=True)),
    "cac-report-provincial": (facts(), facts(cii=True)),
    "cac-summary": (facts(handled_at=HANDLED), facts(grade="general", handled_at=HANDLED)),
    "pboc-brief-report": (facts("bank"), facts("other")),
    "pboc-incident-report": (facts("payment"), facts("other")),
    "nfra-report": (facts("insurer"), facts("payment")),
    # GDPR's clock is a comparison shown for every incident: no institution is outside it.
    "gdpr-art33": (facts(grade="general"), None),
}


def test_every_rule_of_the_table_is_tested_here() -> None:
    assert {r.id for v in TABLE.versions for r in v.rules} == set(APPLIES)


@pytest.mark.parametrize("rule_id", sorted(APPLIES))
def test_each_rule_runs_where_it_applies_and_nowhere_else(rule_id: str) -> None:
    matching, other = APPLIES[rule_id]
    clock = by_id(matching)[rule_id]
    rule = TABLE.rule("2026-12-06", rule_id)
    start = matching.discovered_at if rule.start == "discovery" else matching.handled_at
    assert clock.due_at == due_at(rule, start)
    assert clock.due_at.tzinfo == UTC
    assert (clock.authority, clock.verified, clock.informational) == (
        rule.authority,
        rule.verified,
        rule.informational,
    )
    assert (clock.table_version, clock.start) == ("2026-12-06", rule.start)
    if other is not None:
        assert rule_id not in ids(other)


@pytest.mark.parametrize(
    ("rule_id", "kw", "hours"),
    [
        ("cac-report-cii", {"cii": True}, 1),  # 《国家网络安全事件报告管理办法》 art. 4
        ("cac-report-central-body", {"central_body": True}, 2),
        ("cac-report-provincial", {}, 4),
        ("gdpr-art33", {}, 72),  # GDPR art. 33(1)
    ],
)
def test_verified_hour_deadlines_are_the_official_figures(
    rule_id: str, kw: dict, hours: int
) -> None:
    clock = by_id(facts(**kw))[rule_id]
    assert clock.verified
    assert clock.due_at - DISCOVERED == timedelta(hours=hours)


def test_the_summary_waits_for_handling_then_runs_30_shanghai_days() -> None:
    assert by_id(facts())["cac-summary"].due_at is None
    handled = datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
    clock = by_id(facts(handled_at=handled))["cac-summary"]
    # Day 1 is 11 March; day 30 is 9 April, which ends at 24:00 Shanghai time.
    assert to_shanghai(clock.due_at) == datetime(2026, 4, 10, 0, 0, tzinfo=SHANGHAI)
    assert clock.verified


def test_a_cii_operator_runs_the_one_hour_clock_only() -> None:
    cac = [i for i in ids(facts(cii=True, central_body=True)) if i.startswith("cac-report")]
    assert cac == ["cac-report-cii"]
    assert [i for i in ids(facts(central_body=True)) if i.startswith("cac-report")] == [
        "cac-report-central-body"
    ]


def test_a_general_incident_runs_no_chinese_clock() -> None:
    assert ids(facts("bank", grade="general")) == ["gdpr-art33"]


def test_a_bank_with_a_relatively_major_leak_runs_several_clocks_at_once() -> None:
    run = by_id(facts("bank"))
    assert set(run) == {
        "cac-report-provincial",
        "cac-summary",
        "pboc-brief-report",
        "pboc-incident-report",
        "nfra-report",
        "gdpr-art33",
    }
    assert run["cac-report-provincial"].due_at - DISCOVERED == timedelta(hours=4)
    assert run["gdpr-art33"].due_at - DISCOVERED == timedelta(hours=72)
    assert run["gdpr-art33"].informational
    assert run["cac-summary"].due_at is None
    # The PBOC and NFRA figures are unconfirmed: the clocks run as the table says, shown so.
    for rule_id in ("pboc-brief-report", "pboc-incident-report", "nfra-report"):
        assert not run[rule_id].verified
        assert run[rule_id].due_at == due_at(TABLE.rule("2026-12-06", rule_id), DISCOVERED)
    dues = sorted(c.due_at for c in run.values() if c.due_at is not None)
    assert len(set(dues)) >= 3


# Times typed in other zones, across their daylight-saving changes and Shanghai's midnight.


def test_hours_are_elapsed_time_across_new_yorks_spring_forward() -> None:
    found = parse_local("2026-03-08 01:30", "America/New_York")  # EST, 06:30 UTC
    assert found == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    clock = by_id(facts(discovered_at=found))["cac-report-provincial"]
    assert clock.due_at - found == timedelta(hours=4)
    # Four hours later the New York wall clock reads 06:30 EDT, five hours on, not 05:30.
    assert clock.due_at.astimezone(ZoneInfo("America/New_York")).hour == 6
    assert to_shanghai(clock.due_at) == datetime(2026, 3, 8, 18, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("2026-03-08 02:30", "America/New_York"),
        ("2026-03-29 01:30", "Europe/London"),
        ("2026-10-04 02:30", "Australia/Sydney"),
    ],
)
def test_a_time_the_zone_skips_is_refused_naming_zone_and_time(text: str, zone: str) -> None:
    with pytest.raises(ValueError, match=zone) as err:
        parse_local(text, zone)
    assert text in str(err.value)
    with pytest.raises(ValueError):
        parse_local(text, zone, fold=1)


@pytest.mark.parametrize(
    ("text", "zone", "earlier", "later"),
    [
        ("2026-11-01 01:30", "America/New_York", datetime(2026, 11, 1, 5, 30), datetime(2026, 11, 1, 6, 30)),
        ("2026-10-25 01:30", "Europe/London", datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 1, 30)),
        ("2026-04-05 02:30", "Australia/Sydney", datetime(2026, 4, 4, 15, 30), datetime(2026, 4, 4, 16, 30)),
    ],
)  # fmt: skip
def test_a_repeated_time_is_the_earlier_instant_unless_fold_1(
    text: str, zone: str, earlier: datetime, later: datetime
) -> None:
    assert parse_local(text, zone) == earlier.replace(tzinfo=UTC)
    assert parse_local(text, zone, fold=1) == later.replace(tzinfo=UTC)


def test_days_end_at_shanghai_midnight_whatever_zone_handling_was_typed_in() -> None:
    found = parse_local("2026-06-30 15:30", "Europe/London")  # 22:30 in Shanghai
    provincial = by_id(facts(discovered_at=found))["cac-report-provincial"]
    assert to_shanghai(provincial.due_at) == datetime(2026, 7, 1, 2, 30, tzinfo=SHANGHAI)
    # Handling ends at 01:00 in Sydney, still 30 June (23:00) in Shanghai: day 1 is 1 July.
    before = parse_local("2026-07-01 01:00", "Australia/Sydney")
    summary = by_id(facts(discovered_at=found, handled_at=before))["cac-summary"]
    assert to_shanghai(summary.due_at) == datetime(2026, 7, 31, 0, 0, tzinfo=SHANGHAI)
    # An hour later it is 1 July in Shanghai too: day 1 is 2 July, a day more.
    after = parse_local("2026-07-01 02:00", "Australia/Sydney")
    summary = by_id(facts(discovered_at=found, handled_at=after))["cac-summary"]
    assert to_shanghai(summary.due_at) == datetime(2026, 8, 1, 0, 0, tzinfo=SHANGHAI)


ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Shanghai", "UTC"]


@given(
    local=st.datetimes(min_value=datetime(2025, 11, 2), max_value=datetime(2030, 12, 31)),
    zone=st.sampled_from(ZONES),
    fold=st.sampled_from([0, 1]),
)
def test_any_typed_time_gives_exact_hours_and_days_ending_at_shanghai_midnight(
    local: datetime, zone: str, fold: int
) -> None:
    try:
        found = parse_local(local.isoformat(sep=" "), zone, fold=fold)
    except ValueError:
        tz = ZoneInfo(zone)
        round_trip = local.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
        assert round_trip.replace(tzinfo=None) != local  # refused only inside a gap
        return
    assert found.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local
    run = by_id(facts(discovered_at=found, handled_at=found))
    assert run["cac-report-provincial"].due_at - found == timedelta(hours=4)
    summary = to_shanghai(run["cac-summary"].due_at)
    assert (summary.hour, summary.minute, summary.second, summary.microsecond) == (0, 0, 0, 0)
    assert timedelta(days=30) < summary - found <= timedelta(days=31)


def test_parse_local_refuses_an_unknown_zone_and_a_shapeless_text() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        parse_local("2026-03-08 10:00", "Mars/Olympus")
    with pytest.raises(ValueError, match="2026-03-08 14:30"):
        parse_local("tomorrow morning", "Asia/Shanghai")
    with i18n.using("zh"), pytest.raises(ValueError, match="时区"):
        parse_local("2026-03-08 10:00", "Mars/Olympus")


def test_a_typed_offset_is_taken_as_is() -> None:
    assert parse_local("2026-03-08T02:30-05:00", "America/New_York") == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )


# Versions: a later table never moves a past deadline.


def second_version(tmp_path: Path) -> Path:
    data = copy.deepcopy(RAW)
    later = copy.deepcopy(data["versions"][0])
    later["version"] = "2027-01-01"
    later["effective_from"] = "2026-06-01T00:00:00+08:00"
    for rule in later["rules"]:
        if rule["id"] == "cac-report-provincial":
            rule["duration"] = {"hours": 6}
        if rule["id"] == "cac-summary":
            rule["duration"] = {"days": 15}
    data["versions"].append(later)
    return write(tmp_path, data)


def test_a_later_version_leaves_earlier_discoveries_exactly_as_they_were(
    tmp_path: Path,
) -> None:
    table = load_table(second_version(tmp_path))
    last_minute = datetime(2026, 5, 31, 23, 59, 59, tzinfo=SHANGHAI)
    before = facts("bank", discovered_at=last_minute, handled_at=last_minute)
    assert clocks(before, table) == clocks(before, TABLE)
    assert {c.table_version for c in clocks(before, table)} == {"2026-12-06"}
    first_minute = datetime(2026, 6, 1, 0, 0, tzinfo=SHANGHAI)
    after = by_id(facts("bank", discovered_at=first_minute), table)
    assert after["cac-report-provincial"].due_at - first_minute == timedelta(hours=6)
    assert {c.table_version for c in after.values()} == {"2027-01-01"}


def test_a_stored_clock_is_recomputed_from_its_own_version(tmp_path: Path) -> None:
    table = load_table(second_version(tmp_path))
    stored = by_id(facts(discovered_at=DISCOVERED), table)["cac-summary"]
    assert stored.due_at is None
    handled = datetime(2026, 7, 2, 10, 0, tzinfo=SHANGHAI)  # after the new version began
    rule = table.rule(stored.table_version, stored.rule_id)
    assert to_shanghai(due_at(rule, handled)) == datetime(2026, 8, 2, 0, 0, tzinfo=SHANGHAI)
    newer = table.rule("2027-01-01", "cac-summary")
    assert to_shanghai(due_at(newer, handled)) == datetime(2026, 7, 18, 0, 0, tzinfo=SHANGHAI)


def test_no_version_before_the_first_and_no_unknown_version_or_rule() -> None:
    with pytest.raises(ValueError, match="no deadline rules were in force"):
        clocks(facts(discovered_at=datetime(2025, 10, 31, 23, 59, tzinfo=SHANGHAI)))
    with pytest.raises(ValueError, match="1999-01-01"):
        TABLE.rule("1999-01-01", "cac-summary")
    with pytest.raises(ValueError, match="cac-report-weekly"):
        TABLE.rule("2026-12-06", "cac-report-weekly")


# Where a clock stands.

DUE = datetime(2026, 3, 10, 13, 15, tzinfo=UTC)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("due", "met", "now", "expected"),
    [
        (None, None, DUE, "pending"),
        (None, DUE, DUE, "met"),  # the summary filed before handling was marked over
        (DUE, None, DUE - timedelta(hours=1) - TICK, "running"),
        (DUE, None, DUE - timedelta(hours=1), "due_soon"),
        (DUE, None, DUE, "due_soon"),  # 最迟不得超过: the due instant itself is in time
        (DUE, None, DUE + TICK, "overdue"),
        (DUE, DUE, DUE + timedelta(days=9), "met"),
        (DUE, DUE + TICK, DUE + timedelta(days=9), "met_late"),
        (DUE, DUE - timedelta(hours=3), DUE - timedelta(hours=4), "met"),
    ],
)
def test_state_at_each_boundary(
    due: datetime | None, met: datetime | None, now: datetime, expected: str
) -> None:
    assert state(due, met, now) == expected
    assert expected in STATES


def test_state_soon_is_adjustable_and_naive_times_are_refused() -> None:
    assert state(DUE, None, DUE - timedelta(hours=2), soon=timedelta(hours=2)) == "due_soon"
    assert state(DUE, None, DUE - timedelta(hours=2)) == "running"
    with pytest.raises(ValueError, match="time zone"):
        state(DUE, None, datetime(2026, 3, 10, 13, 0))


def test_facts_refuse_naive_times_unknown_sectors_and_handling_before_discovery() -> None:
    with pytest.raises(ValueError, match="discovered_at"):
        facts(discovered_at=datetime(2026, 3, 10, 9, 0))
    with pytest.raises(ValueError, match="hedge_fund"):
        facts("hedge_fund")
    with pytest.raises(ValueError, match="grade"):
        facts(grade="catastrophic")
    with pytest.raises(ValueError, match="before"):
        facts(handled_at=DISCOVERED - timedelta(minutes=1))


# Malformed tables are refused, naming the rule and the field.


def broken(change) -> dict:
    data = copy.deepcopy(RAW)
    change(data["versions"][0]["rules"])
    return data


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (lambda rules: rules[3].pop("duration"), ("cac-summary", "duration")),
        (lambda rules: rules[7].update(authority="SEC"), ("gdpr-art33", "authority")),
        (lambda rules: rules[0].update(duration={"hours": 0}), ("cac-report-cii", "duration")),
        (lambda rules: rules[0].update(duration={"weeks": 1}), ("cac-report-cii", "weeks")),
        (lambda rules: rules[1].update(duration={"hours": 2, "days": 1}), ("cac-report-central-body", "duration")),
        (lambda rules: rules[2].update(duration={"hours": "4"}), ("cac-report-provincial", "hours")),
        (lambda rules: rules[4].update(start="reported"), ("pboc-brief-report", "start")),
        (lambda rules: rules[5]["applies"].update(min_grade="huge"), ("pboc-incident-report", "min_grade")),
        (lambda rules: rules[6]["source"].pop("url"), ("nfra-report", "url")),
        (lambda rules: rules[6].update(deadline_hours=2), ("nfra-report", "deadline_hours")),
        (lambda rules: rules[6].pop("id"), ("#7", "id")),
    ],
)  # fmt: skip
def test_a_malformed_rule_is_refused_naming_it(tmp_path: Path, change, names: tuple) -> None:
    with pytest.raises(ValueError) as err:
        load_table(write(tmp_path, broken(change)))
    for name in names:
        assert name in str(err.value)
    assert "2026-12-06" in str(err.value)


def test_a_table_with_twice_the_same_rule_or_versions_out_of_order_is_refused(
    tmp_path: Path,
) -> None:
    data = broken(lambda rules: rules.append(copy.deepcopy(rules[0])))
    with pytest.raises(ValueError, match="cac-report-cii"):
        load_table(write(tmp_path, data))
    data = copy.deepcopy(RAW)
    data["versions"].append(copy.deepcopy(data["versions"][0]) | {"version": "older"})
    data["versions"][1]["effective_from"] = "2025-01-01T00:00:00+08:00"
    with pytest.raises(ValueError, match="order"):
        load_table(write(tmp_path, data))
    with pytest.raises(ValueError, match="no version"):
        load_table(write(tmp_path, {"versions": []}))
    with pytest.raises(ValueError, match="version #1"):
        load_table(write(tmp_path, {"versions": [5]}))
    (tmp_path / "deadline_rules.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not JSON"):
        load_table(tmp_path / "deadline_rules.json")


# docs/registry-rules.md describes the table: its rule table must say what the JSON says.

DOC = (Path(__file__).resolve().parents[1] / "docs" / "registry-rules.md").read_text("utf-8")
UNITS = {"hours": "hour", "minutes": "minute", "days": "day"}


def test_the_docs_rule_table_matches_the_packaged_table() -> None:
    rows = {}
    for line in DOC.split("## The rules of version `2026-12-06`", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    assert set(rows) == {r.id for r in TABLE.version("2026-12-06").rules}
    for rule in TABLE.version("2026-12-06").rules:
        _id, authority, _applies, starts, runs, verified = rows[rule.id]
        ((unit, n),) = ((k, v) for k, v in msgspec.structs.asdict(rule.duration).items() if v)
        assert runs.startswith(f"{n} {UNITS[unit]}")
        assert authority == rule.authority
        assert starts == ("discovery" if rule.start == "discovery" else "end of handling")
        assert verified == ("yes" if rule.verified else "no")
        if not rule.verified:
            section = DOC.split(rule.source.title.split("（")[0], 1)[1].split("\n### ", 1)[0]
            assert "**Not confirmed.**" in section
