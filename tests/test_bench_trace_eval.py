"""The trace evaluation harness on a small world: it finds a one-leaker leak's source, counts a
coalition's members as guilty and the others as innocent, and its innocent leaks accuse no one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import trace_eval as E


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> E.Bench:
    return E.build(3_000, 100, 0, tmp_path_factory.mktemp("eval"), seed=5)


def test_one_leaker_is_found_and_no_innocent_accused(bench: E.Bench) -> None:
    tally = E.single_leaker(bench, 40, trials=6, allowed=6, seed=1)
    assert tally.trials == 6
    assert tally.detected >= 5
    assert tally.innocents_accused == 0
    assert tally.innocents_tested == 6 * (len(bench.world.shares) - 1)


def test_coalitions_come_from_one_segment(bench: E.Bench) -> None:
    groups = E.coalitions(bench, 2)
    assert groups and all(a.segment == b.segment for a, b in groups)
    common = E._eligible(groups[0], "intersection")
    assert set(common) <= set(groups[0][0].customers) & set(groups[0][1].customers)
    tally = E.collusion(bench, 2, "union", 40, trials=3, allowed=3, seed=2)
    assert tally.trials == 3 and tally.innocents_accused == 0


def test_innocent_leaks_accuse_no_one(bench: E.Bench) -> None:
    tallies = E.innocents(bench, 10, seed=3)
    assert sum(t.trials for t in tallies.values()) == 10
    assert all(m > E.EPSILON for t in tallies.values() for m in t.innocent_min)


def test_end_to_end_trace_finds_the_leaker(bench: E.Bench, tmp_path: Path) -> None:
    tally = E.end_to_end(bench, 40, 1, tmp_path, seed=4)
    assert tally.trials == 1 and tally.innocents_accused == 0
    assert tally.detected == 1
