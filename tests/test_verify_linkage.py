"""verify on synth worlds: record precision/recall, verdict and snapshot date per leak kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.verify_bench import expected
from leaktrace.synth.leaks import Leak, make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import Label, verify


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(8000, seed=11, out=tmp_path_factory.mktemp("verify") / "world")


def precision_recall(leak: Leak, matches: dict[int, int]) -> tuple[float, float]:
    truth = leak.truth.customer_ids
    tp = sum(1 for r, m in matches.items() if truth[r] == m)
    pos = sum(c is not None for c in truth)
    return (tp / len(matches) if matches else 1.0), (tp / pos if pos else 1.0)


@pytest.mark.parametrize(
    "kind, opts, fmt",
    [
        ("share", {"size": 0.8}, "csv"),
        ("employee", {}, "xlsx"),
        ("union", {"n_sources": 3}, "jsonl"),
        ("stale", {"reformat": True, "size": 0.9}, "csv"),
        ("reformatted", {"size": 0.9}, "postgres"),
        ("padded", {}, "mysql"),
        ("fabricated", {}, "json"),
        ("fabricated", {"invalid": 0.3}, "csv"),
    ],
)
def test_leak_kinds(world: World, tmp_path: Path, kind: str, opts: dict, fmt: str) -> None:
    leak = make_leak(world, kind, seed=3, **opts)
    path = write_leak(leak, tmp_path / f"leak.{fmt}", fmt)
    report = verify(path, world.path)
    assert report.matches is not None
    got = dict(report.matches.select("rid", "mid").iter_rows())
    p, r = precision_recall(leak, got)
    assert p >= 0.995 and r >= 0.98, (p, r)
    assert report.verdict.label == expected(leak, world.as_of)
    if kind != "fabricated" and report.snapshot is not None and report.snapshot.bounded:
        assert abs((report.snapshot.date - leak.truth.snapshot).days) <= 90
    assert set(report.customers) == {c for c in leak.truth.customer_ids if c is not None}
    d = report.to_dict()
    assert d["verdict"]["label"] == report.verdict.label.value


def test_stale_snapshot_dated(world: World, tmp_path: Path) -> None:
    leak = make_leak(world, "stale", seed=8, size=1.0)
    report = verify(write_leak(leak, tmp_path / "old.csv", "csv"), world.path)
    assert report.verdict.label == Label.STALE
    assert report.snapshot is not None and report.snapshot.bounded
    assert abs((report.snapshot.date - leak.truth.snapshot).days) <= 90
    hist = {f.field: f.historical for f in report.fields}
    assert sum(hist.values()) > 0


def test_other_institution(world: World, tmp_path: Path) -> None:
    """Real people of another bank: nothing links, nothing looks forged."""
    other = make_world(3000, seed=99)
    leak = make_leak(
        other, "share", seed=1, size=1.0, columns=["name", "resident_id", "mobile", "address"]
    )
    report = verify(write_leak(leak, tmp_path / "other.csv", "csv"), world.path)
    assert report.verdict.label == Label.AUTHENTIC_NOT_OURS
    assert report.verdict.shares["ours"].value <= 0.01


def test_forgery_only_without_master(world: World, tmp_path: Path) -> None:
    fake = make_leak(world, "fabricated", seed=2, size=300)
    real = make_leak(
        world, "share", seed=2, size=1.0, columns=["name", "resident_id", "mobile", "address"]
    )
    assert verify(write_leak(fake, tmp_path / "f.csv", "csv")).verdict.label == Label.FABRICATED
    assert verify(write_leak(real, tmp_path / "r.csv", "csv")).verdict.label == Label.PLAUSIBLE
