"""Forgery signals, tampering of our own records and the verdict's interval arithmetic."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from rich.console import Console

from leaktrace.report.verify_html import render_html
from leaktrace.report.verify_terminal import render_verify
from leaktrace.synth.leaks import Leak, _corrupt_check, make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import VerifyReport, verify
from leaktrace.verify.forgery import forgery_signals
from leaktrace.verify.verdict import Label, decide, wilson

TAMPER_COLUMNS = ["name", "resident_id", "mobile", "address"]


def _ids() -> list[str]:
    from leaktrace.pii.resident_id import check_char

    out = []
    for i in range(200):
        body = f"11010519{70 + i % 30:02d}0{1 + i % 9}{10 + i % 18:02d}{100 + i:03d}"
        out.append(body + check_char(body))
    return out


def test_checksum_signal_flags_bad_check_digits() -> None:
    ids = _ids()
    bad = [v[:-1] + ("0" if v[-1] != "0" else "1") for v in ids[:60]] + ids[60:]
    good = {s.name: s for s in forgery_signals(pl.DataFrame({"resident_id": ids}))}
    forged = {s.name: s for s in forgery_signals(pl.DataFrame({"resident_id": bad}))}
    assert not good["id_checksum"].flagged and good["id_checksum"].value == 0
    assert forged["id_checksum"].flagged and forged["id_checksum"].p_value < 1e-6
    assert forged["id_checksum"].decisive


def test_ids_of_holders_over_110_trip_the_birth_signal_though_valid() -> None:
    """Valid in scan (the standard sets no age limit), still implausible here: a list where
    40 of 200 holders were born in the 1880s is fabricated or filler data."""
    from leaktrace.pii import validate
    from leaktrace.pii.resident_id import check_char

    old = []
    for i in range(40):
        body = f"1101051880{1 + i % 12:02d}{10 + i % 18:02d}{100 + i:03d}"
        old.append(body + check_char(body))
    assert all(validate("resident_id", v).valid for v in old)
    good = {s.name: s for s in forgery_signals(pl.DataFrame({"resident_id": _ids()}))}
    forged = {s.name: s for s in forgery_signals(pl.DataFrame({"resident_id": old + _ids()[40:]}))}
    assert not good["id_birth"].flagged and good["id_birth"].value == 0
    assert forged["id_birth"].value == 40 / 200 and forged["id_birth"].flagged
    assert forged["id_checksum"].value == 0 and forged["id_birth"].decisive


def test_sequences_and_masked_values() -> None:
    mobiles = [f"138{n:08d}" for n in range(10_000_000, 10_000_100)]
    s = {x.name: x for x in forgery_signals(pl.DataFrame({"mobile": mobiles}))}
    assert s["mobile_sequences"].flagged and s["mobile_sequences"].value == 1.0
    masked = {
        x.name: x
        for x in forgery_signals(pl.DataFrame({"resident_id": ["110105********1234"] * 30}))
    }
    assert masked["id_checksum"].n == 0 and not masked["id_checksum"].flagged


def test_wilson_and_small_evidence() -> None:
    s = wilson(20, 20)
    assert s.value == 1.0 and 0.8 < s.low < 0.85
    v = decide(5, 0, [], None, None)
    assert v.label == Label.INCONCLUSIVE


# --- tampering: the linked records' values against ours -----------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(6000, seed=17, out=tmp_path_factory.mktemp("tamper") / "world")


@pytest.fixture(scope="module")
def ours(world: World) -> Leak:
    """A whole share of our customers with IDs, mobiles and addresses, as it left the bank."""
    return make_leak(world, "share", seed=5, size=1.0, columns=TAMPER_COLUMNS)


def _verify(world: World, leak: Leak, rows: pl.DataFrame, tmp: Path) -> VerifyReport:
    return verify(write_leak(replace(leak, rows=rows), tmp / "leak.csv", "csv"), world.path)


def _flagged(report: VerifyReport) -> set[str]:
    return {s.name for s in report.tamper_signals if s.flagged}


def _broken(rows: pl.DataFrame, share: float, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """``rows`` with about ``share`` of the resident IDs given a wrong check character."""
    hit = np.random.default_rng(seed).random(rows.height) < share
    ids = pl.when(pl.Series(hit)).then(_corrupt_check(rows["resident_id"]))
    return rows.with_columns(ids.otherwise(pl.col("resident_id")).alias("resident_id")), hit


def test_sequential_mobiles_and_broken_ids_are_called_out_with_their_share(
    world: World, ours: Leak, tmp_path: Path
) -> None:
    """The issue's case: every mobile replaced by a sequence, 44% of the IDs given a wrong
    check character. The records still link to our customers; the leak is not just 'ours'."""
    rows, hit = _broken(ours.rows, 0.44, seed=3)
    seq = pl.Series("mobile", [str(13912340000 + i) for i in range(rows.height)])
    report = _verify(world, ours, rows.with_columns(seq), tmp_path)
    v = report.verdict
    assert v.label == Label.TAMPERED and v.shares["ours"].value > 0.8
    assert {"linked_mobile_sequences", "linked_resident_id_invalid"} <= _flagged(report)
    ids = next(s for s in report.tamper_signals if s.name == "linked_resident_id_invalid")
    assert ids.value is not None and abs(ids.value - hit.mean()) < 0.05
    assert v.tampered is not None and v.tampered.value > 0.95  # every mobile was replaced
    assert v.tampered.low <= v.tampered.value <= v.tampered.high < 1.0 + 1e-9
    altered = next(r for r in v.reasons if r.code == "values_altered")
    assert altered.params["altered"] == v.tampered.records
    assert {"linked_mobile_sequences", "linked_resident_id_invalid"} <= set(
        altered.params["signals"]
    )
    assert report.to_dict()["verdict"]["tampered"]["records"] == v.tampered.records
    for lang, words in (
        ("en", ("altered values", "Tampering: linked records against our values")),
        ("zh", ("值被篡改", "篡改：已关联记录与本行数据比对")),
    ):
        buf = io.StringIO()
        render_verify(report, Console(file=buf, width=140), lang)
        for shown in (buf.getvalue(), render_html(report, lang)):
            assert "tampered" in shown and f"{100 * v.tampered.value:.1f}%" in shown
            assert all(w in shown for w in words)
            assert rows["resident_id"][0] not in shown  # counts only, no personal values


def test_reports_of_an_untampered_leak_say_nothing_of_tampering(world: World, ours: Leak) -> None:
    report = verify(write_leak(ours, world.path.parent / "ours.csv", "csv"), world.path)
    for lang in ("en", "zh"):
        buf = io.StringIO()
        render_verify(report, Console(file=buf, width=140), lang)
        assert "altered" not in buf.getvalue() and "篡改" not in buf.getvalue()
    html = render_html(report, "en")
    assert "altered values" not in html and "Tampering: linked records" in html  # unflagged
    assert "值被篡改" not in render_html(report, "zh")


def test_broken_check_characters_alone_are_called_out(
    world: World, ours: Leak, tmp_path: Path
) -> None:
    rows, hit = _broken(ours.rows, 0.3, seed=4)
    report = _verify(world, ours, rows, tmp_path)
    assert report.verdict.label == Label.TAMPERED
    assert _flagged(report) == {"linked_resident_id_invalid"}
    t = report.verdict.tampered
    assert t is not None and t.low <= hit.mean() <= t.high


def test_mobiles_shuffled_between_customers_are_called_out(
    world: World, ours: Leak, tmp_path: Path
) -> None:
    """Each record keeps its name, ID and address but holds another customer's mobile."""
    n = ours.rows.height
    moved = np.random.default_rng(5).random(n) < 0.5
    idx = np.arange(n)
    idx[moved] = np.roll(idx[moved], 1)  # the chosen records pass their mobiles on
    rows = ours.rows.with_columns(pl.col("mobile").gather(idx))
    report = _verify(world, ours, rows, tmp_path)
    assert report.verdict.label == Label.TAMPERED
    assert "linked_moved" in _flagged(report)
    t = report.verdict.tampered
    assert t is not None and t.low <= moved.mean() <= t.high


def test_an_authentic_leak_with_a_few_typed_ids_is_not_called_tampered(
    world: World, ours: Leak, tmp_path: Path
) -> None:
    """A genuine list: 2% of its IDs mistyped, and its mobiles as they were three years back
    (customers change numbers). Neither is tampering."""
    old = make_leak(world, "stale", seed=5, size=1.0, columns=TAMPER_COLUMNS)
    rows, _ = _broken(old.rows, 0.02, seed=6)
    report = _verify(world, old, rows, tmp_path)
    assert report.verdict.label == Label.STALE and report.verdict.tampered is None
    assert not _flagged(report) and report.tamper_signals
    assert "values_altered" not in {r.code for r in report.verdict.reasons}
    clean = _verify(world, ours, ours.rows, tmp_path)
    assert clean.verdict.label in (Label.AUTHENTIC_OURS, Label.STALE) and not _flagged(clean)
