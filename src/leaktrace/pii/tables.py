"""Reference tables from ``data/`` (sources in data/SOURCES.md), each read once at first use."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


def _rows(name: str) -> list[dict[str, str]]:
    text = (
        resources.files("leaktrace.pii").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )
    return list(csv.DictReader(text.splitlines()))


@dataclass(frozen=True)
class DivisionName:
    """One name a division code carried, with its first and last year in force (None = open)."""

    name: str
    start: int | None
    end: int | None
    level: str


@cache
def divisions() -> dict[str, tuple[DivisionName, ...]]:
    """GB/T 2260 code -> its names over time."""
    out: dict[str, list[DivisionName]] = {}
    for r in _rows("divisions.csv"):
        start = int(r["start_year"]) if r["start_year"] else None
        end = int(r["end_year"]) if r["end_year"] else None
        out.setdefault(r["code"], []).append(DivisionName(r["name"], start, end, r["level"]))
    return {code: tuple(names) for code, names in out.items()}


@cache
def division_last_year() -> dict[str, int]:
    """Codes retired for good -> the last year they were in force (open codes are absent)."""
    out = {}
    for code, names in divisions().items():
        ends = [n.end for n in names]
        if None not in ends:
            out[code] = max(e for e in ends if e is not None)
    return out


def division_name(code: str, year: int | None = None) -> str | None:
    """Name of ``code`` in ``year`` (the latest name when no year is given or none was in force)."""
    names = divisions().get(code)
    if not names:
        return None
    if year is not None:
        for n in names:
            if (n.start is None or n.start <= year) and (n.end is None or year <= n.end):
                return n.name
    return names[-1].name


@cache
def mobile_segments() -> dict[str, tuple[str, str]]:
    """Mobile prefix (3-5 digits) -> (carrier_en, carrier_zh); empty strings when unnamed."""
    return {r["prefix"]: (r["carrier_en"], r["carrier_zh"]) for r in _rows("mobile_segments.csv")}


@cache
def area_codes() -> dict[str, tuple[frozenset[int], str, str]]:
    """Area code with its 0 ('010') -> (accepted local lengths, region_zh, region_en)."""
    return {
        r["area_code"]: (
            frozenset(int(n) for n in r["local_lengths"].split("|")),
            r["region_zh"],
            r["region_en"],
        )
        for r in _rows("area_codes.csv")
    }


@cache
def card_bins() -> dict[str, tuple[str, str, str]]:
    """Issuer prefix (5-6 digits) -> (bank_zh, bank_en, card_type)."""
    return {r["bin"]: (r["bank_zh"], r["bank_en"], r["card_type"]) for r in _rows("card_bins.csv")}


@cache
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single-character surnames, compound surnames)."""
    rows = _rows("surnames.csv")
    single = frozenset(r["surname"] for r in rows if r["kind"] == "single")
    return single, frozenset(r["surname"] for r in rows if r["kind"] == "compound")


def by_length(keys: frozenset[str] | set[str] | dict) -> list[tuple[int, list[str]]]:
    """Keys grouped by length, longest first: for longest-prefix lookups."""
    groups: dict[int, list[str]] = {}
    for k in keys:
        groups.setdefault(len(k), []).append(k)
    return sorted(((n, sorted(ks)) for n, ks in groups.items()), reverse=True)
