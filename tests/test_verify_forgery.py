"""Forgery signals and the verdict's interval arithmetic."""

from __future__ import annotations

import polars as pl

from leaktrace.verify.forgery import forgery_signals
from leaktrace.verify.verdict import Label, decide, wilson


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
    good = {s.name: s for s in forgery_signals(pl.DataFrame({"id": ids}))}
    forged = {s.name: s for s in forgery_signals(pl.DataFrame({"id": bad}))}
    assert not good["id_checksum"].flagged and good["id_checksum"].value == 0
    assert forged["id_checksum"].flagged and forged["id_checksum"].p_value < 1e-6
    assert forged["id_checksum"].decisive


def test_ids_of_holders_over_110_trip_the_birth_signal_though_valid() -> None:
    """Valid in scan (the standard sets no age limit), still implausible here: a list where
    40 of 200 holders were born in the 1880s is fabricated or placeholder data."""
    from leaktrace.pii import validate
    from leaktrace.pii.resident_id import check_char

    old = []
    for i in range(40):
        body = f"1101051880{1 + i % 12:02d}{10 + i % 18:02d}{100 + i:03d}"
        old.append(body + check_char(body))
    assert all(validate("resident_id", v).valid for v in old)
    good = {s.name: s for s in forgery_signals(pl.DataFrame({"id": _ids()}))}
    forged = {s.name: s for s in forgery_signals(pl.DataFrame({"id": old + _ids()[40:]}))}
    assert not good["id_birth"].flagged and good["id_birth"].value == 0
    assert forged["id_birth"].value == 40 / 200 and forged["id_birth"].flagged
    assert forged["id_checksum"].value == 0 and forged["id_birth"].decisive


def test_sequences_and_masked_values() -> None:
    mobiles = [f"138{n:08d}" for n in range(10_000_000, 10_000_100)]
    s = {x.name: x for x in forgery_signals(pl.DataFrame({"mobile": mobiles}))}
    assert s["mobile_sequences"].flagged and s["mobile_sequences"].value == 1.0
    masked = {x.name: x for x in forgery_signals(pl.DataFrame({"id": ["110105********1234"] * 30}))}
    assert masked["id_checksum"].n == 0 and not masked["id_checksum"].flagged


def test_wilson_and_small_evidence() -> None:
    s = wilson(20, 20)
    assert s.value == 1.0 and 0.8 < s.low < 0.85
    v = decide(5, 0, [], None, None)
    assert v.label == Label.INCONCLUSIVE
