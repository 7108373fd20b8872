"""docs/trace.md against the code it describes: the slot table, the names and tests it cites,
and its claims about how a marked value differs from the master's."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from leaktrace import pii
from leaktrace.synth.people import draw_people
from leaktrace.trace import code, variants

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "trace.md").read_text(encoding="utf-8")
TRACE_MODULES = {"accuse", "canary", "code", "variants"}


def _slot_rows() -> list[tuple[str, str, str, str]]:
    """(column, slot, symbol 0, symbol 1) of each row of the doc's slot table."""
    section = DOC.split("### 1.1", 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`"):
            rows.append((cells[0].strip("`"), cells[1].strip("`"), cells[2], cells[3]))
    return rows


def test_slot_table_lists_exactly_the_slots_the_code_defines() -> None:
    rows = _slot_rows()
    defined = [
        (s.column, s.name, *s.writings) for column in variants.SLOTS.values() for s in column
    ]
    assert len(rows) == len(set(rows)), "a slot is listed twice"
    assert sorted(rows) == sorted(defined)


def _resolve(name: str) -> object:
    """The object a dotted name cited in the doc refers to (``code.bias``, ``pii.normalize``)."""
    parts = name.split(".")
    base = ["leaktrace", "trace"] if parts[0] in TRACE_MODULES else ["leaktrace"]
    parts = parts[1:] if parts[0] == "leaktrace" else parts
    for cut in range(len(parts), -1, -1):
        try:
            obj: object = importlib.import_module(".".join(base + parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(f"{name} names nothing")


def test_every_cited_name_and_test_exists() -> None:
    names = set(
        re.findall(r"`((?:leaktrace|pii|synth|" + "|".join(TRACE_MODULES) + r")\.[\w.]+)`", DOC)
    )
    assert len(names) > 20
    for name in sorted(names):
        assert _resolve(name) is not None, name
    tests = set(re.findall(r"`(?:[\w/.]+::)?(test_\w+)`", DOC))
    assert tests
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    for name in sorted(tests):
        assert f"def {name}(" in sources, name


def test_constants_quoted_match_the_code() -> None:
    quoted = dict(re.findall(r"`code\.([A-Z_]+)` = ([0-9/]+)", DOC))
    assert set(quoted) == {"DEFAULT_CUTOFF", "MIN_KEY_BYTES"}
    for name, value in quoted.items():
        assert Fraction(value) == Fraction(getattr(code, name)).limit_denominator(10_000), name


COLUMNS = {"address": "address", "resident_id": "resident_id", "card_no": "bank_card"}
COLUMNS |= {"mobile": "mobile"}


@pytest.mark.parametrize("pattern", ["zeros", "ones", "alternate"])
def test_marked_values_keep_their_meaning_and_survive_gbk(pattern: str) -> None:
    """The doc's "what never changes": normalised IDs, cards and mobiles and the divisions an
    address names are the master's; every marked value is printable and GBK round-trips."""
    people = draw_people(np.random.default_rng(16), 300, dt.date(2025, 6, 30))
    for row in people.select(list(COLUMNS)).iter_rows(named=True):
        for col, kind in COLUMNS.items():
            value = row[col]
            offered = variants.slots(kind, value)
            bits = {
                "zeros": [0] * len(offered),
                "ones": [1] * len(offered),
                "alternate": [i % 2 for i in range(len(offered))],
            }[pattern]
            out = variants.apply(kind, value, dict(zip(offered, bits, strict=True)))
            found = variants.read(kind, out)
            assert [found[name] for name in offered] == bits  # the marks are written
            assert out.isprintable()  # no zero-width characters, no NBSP
            assert out.encode("gbk").decode("gbk") == out
            if kind == "address":
                assert pii.derive(kind, out) == pii.derive(kind, value)
            else:
                assert pii.normalize(kind, out) == pii.normalize(kind, value)
            assert variants.slots(kind, out) == offered
