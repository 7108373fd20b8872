"""The regulators' deadlines as a versioned table (``data/deadline_rules.json``) and the clocks
they start: which rules an incident runs on, when each is due, and where a clock stands.

A report takes the table version in force when the incident was discovered and keeps that
version's id and the rule's id with each clock, so a later table never moves a past deadline.
Hours (and minutes) are elapsed time; days are calendar days in Asia/Shanghai, the period
starting the day after its start event and ending at 24:00 of its last day
(``docs/registry-rules.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from leaktrace.i18n import _
from leaktrace.registry.grade import Grade, rank

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_TABLE = Path(__file__).with_name("data") / "deadline_rules.json"

Sector = Literal["bank", "insurer", "lender", "payment", "other"]
SECTORS: tuple[str, ...] = get_args(Sector)
Authority = Literal["CAC", "PBOC", "NFRA", "GDPR"]
Start = Literal["discovery", "handled"]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class _Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The table's records: immutable, and a field the code does not know is an error."""


class Duration(_Struct):
    """How long a clock runs: exactly one of hours, minutes (elapsed) or days (calendar)."""

    hours: int | None = None
    minutes: int | None = None
    days: int | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.hours, self.minutes, self.days) if v is not None]
        if len(given) != 1 or given[0] <= 0:
            raise ValueError(_("give exactly one of hours, minutes or days, above zero"))


class Applies(_Struct):
    """Which incidents a rule covers: graded at least ``min_grade``; and, where given, one of
    ``sectors`` and the institution's CII and central-body status."""

    min_grade: Grade
    sectors: tuple[Sector, ...] | None = None
    cii: bool | None = None
    central_body: bool | None = None


class Source(_Struct):
    """Where the rule is written."""

    title: NonEmpty
    issuer: NonEmpty
    date: NonEmpty
    article: NonEmpty
    url: NonEmpty


class Rule(_Struct):
    """One deadline. Rules sharing a ``group`` are exclusive alternatives: of those that
    apply, only the first in table order runs (CAC: CII 1 h, else central body 2 h, else 4 h)."""

    id: NonEmpty
    authority: Authority
    applies: Applies
    start: Start
    duration: Duration
    label_zh: NonEmpty
    label_en: NonEmpty
    informational: bool
    verified: bool
    source: Source
    group: str | None = None
    note: str = ""

    def covers(self, facts: Facts) -> bool:
        """Whether this rule applies to the institution and incident in ``facts``."""
        a = self.applies
        return (
            rank(facts.grade) >= rank(a.min_grade)
            and (a.sectors is None or facts.sector in a.sectors)
            and (a.cii is None or facts.cii == a.cii)
            and (a.central_body is None or facts.central_body == a.central_body)
        )


class RulesVersion(_Struct):
    """The rules in force from ``effective_from`` until the next version's."""

    version: NonEmpty
    effective_from: AwareDatetime
    rules: tuple[Rule, ...]


class _TableFile(_Struct):
    versions: tuple[RulesVersion, ...]


@dataclass(frozen=True)
class RulesTable:
    """Every version of the rules, oldest first."""

    versions: tuple[RulesVersion, ...]

    def version_at(self, when: datetime) -> RulesVersion:
        """The version in force at ``when`` (the latest one effective by then)."""
        _aware(when, "when")
        in_force = [v for v in self.versions if v.effective_from <= when]
        if not in_force:
            raise ValueError(
                _("no deadline rules were in force at {when}").format(when=when.isoformat())
            )
        return in_force[-1]

    def version(self, version_id: str) -> RulesVersion:
        """The version named ``version_id`` (as stored with a clock)."""
        for v in self.versions:
            if v.version == version_id:
                return v
        raise ValueError(_("no deadline rules version {version}").format(version=version_id))

    def rule(self, version: str | RulesVersion, rule_id: str) -> Rule:
        """Rule ``rule_id`` of ``version`` (a version or its id): the rule a stored clock ran
        on, to recompute it when its start event arrives."""
        v = self.version(version) if isinstance(version, str) else version
        for r in v.rules:
            if r.id == rule_id:
                return r
        raise ValueError(
            _("no rule {rule} in deadline rules version {version}").format(
                rule=rule_id, version=v.version
            )
        )


@dataclass(frozen=True)
class Facts:
    """What the clocks depend on: the institution, the incident's grade and its events."""

    sector: str
    cii: bool
    central_body: bool
    grade: str
    discovered_at: datetime
    handled_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.sector not in SECTORS:
            raise ValueError(
                _("unknown sector '{sector}'; expected one of {sectors}").format(
                    sector=self.sector, sectors=", ".join(SECTORS)
                )
            )
        rank(self.grade)
        _aware(self.discovered_at, "discovered_at")
        if self.handled_at is not None:
            _aware(self.handled_at, "handled_at")
            if self.handled_at < self.discovered_at:
                raise ValueError(_("handling cannot end before the incident was discovered"))


@dataclass(frozen=True)
class Clock:
    """One deadline an incident runs on, with the table version and rule it came from."""

    rule_id: str
    table_version: str
    authority: str
    label_zh: str
    label_en: str
    start: str
    due_at: datetime | None  # aware UTC; None until the start event has happened
    informational: bool
    verified: bool


def _aware(dt: datetime, name: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(_("{name} needs a time zone").format(name=name))
    return dt


_WHERE = re.compile(r"`\$\.versions\[(\d+)\](?:\.rules\[(\d+)\])?\.?([^`]*)`")


def _named(items: list[Any], i: int, key: str) -> str:
    """The ``key`` (id) of the ``i``-th item of a raw list, or its place (``#3``) if it has none."""
    item = items[i]
    return str(item[key]) if isinstance(item, dict) and key in item else f"#{i + 1}"


def _refusal(table: Path, raw: Any, err: msgspec.ValidationError) -> ValueError:
    """A ValueError naming the table, the version, the rule (by id) and the field at fault."""
    problem, _sep, where = str(err).partition(" - at ")
    m = _WHERE.fullmatch(where)
    version = rule = "-"
    field = where or "-"
    if m:
        v = int(m.group(1))
        version = _named(raw["versions"], v, "version")
        field = m.group(3) or "-"
        if m.group(2) is not None:
            rule = _named(raw["versions"][v]["rules"], int(m.group(2)), "id")
    return ValueError(
        _(
            "deadline rules table {table}: version {version}, rule {rule}, field {field}: {problem}"
        ).format(table=table.name, version=version, rule=rule, field=field, problem=problem)
    )


def _checked(table: Path, versions: tuple[RulesVersion, ...]) -> RulesTable:
    """The table once its versions are in order and its ids unique."""
    if not versions:
        raise ValueError(_("deadline rules table {table} has no version").format(table=table.name))
    ids = [v.version for v in versions]
    starts = [v.effective_from for v in versions]
    if len(set(ids)) != len(ids) or starts != sorted(set(starts)):
        raise ValueError(
            _(
                "deadline rules table {table}: versions must have distinct ids and come in "
                "order of effective_from"
            ).format(table=table.name)
        )
    for v in versions:
        seen: set[str] = set()
        for r in v.rules:
            if r.id in seen:
                raise ValueError(
                    _(
                        "deadline rules table {table}: version {version}, rule {rule} appears twice"
                    ).format(table=table.name, version=v.version, rule=r.id)
                )
            seen.add(r.id)
    return RulesTable(versions)


def _read(path: Path) -> RulesTable:
    try:
        raw = msgspec.json.decode(path.read_bytes())
    except msgspec.DecodeError as err:
        raise ValueError(
            _("deadline rules table {table} is not JSON: {problem}").format(
                table=path.name, problem=str(err)
            )
        ) from err
    try:
        parsed = msgspec.convert(raw, _TableFile)
    except msgspec.ValidationError as err:
        raise _refusal(path, raw, err) from err
    return _checked(path, parsed.versions)


@cache
def _default_table() -> RulesTable:
    return _read(DEFAULT_TABLE)


def load_table(path: Path | None = None) -> RulesTable:
    """The rules table at ``path`` (the packaged one, read once, when None); ValueError
    naming the version, rule and field when it is malformed."""
    return _default_table() if path is None else _read(path)


def _end_of_day(day: date) -> datetime:
    """24:00 of ``day`` in Shanghai (the next day's 00:00), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)


def due_at(clock_rule: Rule, start: datetime) -> datetime:
    """When ``clock_rule``'s clock, started at ``start``, is due (aware UTC): hours and
    minutes are elapsed time; N days end at 24:00 (Shanghai) of the Nth day after the start
    day (the start day does not count)."""
    start = _aware(start, "start").astimezone(UTC)
    d = clock_rule.duration
    if d.days is not None:
        return _end_of_day(start.astimezone(SHANGHAI).date() + timedelta(days=d.days))
    return start + timedelta(hours=d.hours or 0, minutes=d.minutes or 0)


def clocks(facts: Facts, table: RulesTable | None = None) -> list[Clock]:
    """The clocks ``facts`` runs on under the version in force at its discovery, in table
    order; a clock whose start event has not happened has no due time yet."""
    version = (table or load_table()).version_at(facts.discovered_at)
    started = {"discovery": facts.discovered_at, "handled": facts.handled_at}
    taken: set[str] = set()
    out = []
    for r in version.rules:
        if not r.covers(facts) or (r.group is not None and r.group in taken):
            continue
        if r.group is not None:
            taken.add(r.group)
        start = started[r.start]
        out.append(
            Clock(
                rule_id=r.id,
                table_version=version.version,
                authority=r.authority,
                label_zh=r.label_zh,
                label_en=r.label_en,
                start=r.start,
                due_at=None if start is None else due_at(r, start),
                informational=r.informational,
                verified=r.verified,
            )
        )
    return out


STATES = ("pending", "running", "due_soon", "overdue", "met", "met_late")


def state(
    due_at: datetime | None,
    met_at: datetime | None,
    now: datetime,
    soon: timedelta = timedelta(hours=1),
) -> str:
    """Where a clock stands at ``now``: ``pending`` (not started), ``running``, ``due_soon``
    (due within ``soon``, the due instant included), ``overdue`` (past it, unmet), ``met``
    (done by the due instant, or before the clock started) or ``met_late``."""
    _aware(now, "now")
    if met_at is not None:
        _aware(met_at, "met_at")
        return "met" if due_at is None or met_at <= due_at else "met_late"
    if due_at is None:
        return "pending"
    _aware(due_at, "due_at")
    if now > due_at:
        return "overdue"
    return "due_soon" if due_at - now <= soon else "running"


def parse_local(text: str, zone: str, fold: int = 0) -> datetime:
    """A wall-clock time typed in IANA zone ``zone`` (``2026-03-08 02:30``, ISO 8601) as aware
    UTC. A time the zone skips (spring forward) is refused; a time it repeats (fall back) is
    the earlier instant, or the later with ``fold=1``. A typed UTC offset is taken as is."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(_("unknown time zone {zone}").format(zone=zone)) from err
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise ValueError(
            _(
                "expected a date and time like 2026-03-08 14:30 (ISO 8601); "
                "the {n} characters given are not one"
            ).format(n=len(text))
        ) from err
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    aware = local.replace(tzinfo=tz, fold=fold)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local:
        raise ValueError(
            _("{time} does not exist in {zone}: the clocks skip it").format(
                time=local.isoformat(sep=" "), zone=zone
            )
        )
    return instant


def to_shanghai(dt: datetime) -> datetime:
    """``dt`` (aware) as Asia/Shanghai wall-clock time, for showing."""
    return _aware(dt, "dt").astimezone(SHANGHAI)
