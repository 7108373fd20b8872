"""The words of the reports: every verdict, reason code, signal, field and scan reason code has
a Chinese and an English text, and reasons render as sentences whatever their parameters."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace import i18n
from leaktrace.pii import KINDS
from leaktrace.report.scan_words import FLAGS, KIND_LABELS, REASONS, code_text, counts_text
from leaktrace.report.verdict_words import LOOKS, VERDICTS, Severity, shown
from leaktrace.report.verify_words import (
    REASON_WORDS,
    SIGNAL_LABELS,
    field_label,
    reason_text,
    signal_label,
)
from leaktrace.verify.fields import LABELS as FIELD_LABELS
from leaktrace.verify.verdict import REASONS as REASON_CODES
from leaktrace.verify.verdict import Label, Reason

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Three lowercase English words in a row: a message left untranslated.
ENGLISH_RUN = re.compile(r"\b[a-z]{2,}(?:[ ,;:]+[a-z]{2,}){2,}\b")


def _both(render) -> tuple[str, str]:  # noqa: ANN001 - a callable of no arguments
    with i18n.using("en"):
        en = render()
    with i18n.using("zh"):
        zh = render()
    return en, zh


def _chinese(text: str) -> bool:
    return bool(CJK.search(text)) and not ENGLISH_RUN.search(text)


@pytest.mark.parametrize("label", list(Label))
def test_every_verdict_has_words_in_both_languages_and_is_in_the_readme(label: Label) -> None:
    assert label in VERDICTS
    date = dt.date(2023, 5, 1)
    en, zh = _both(lambda: shown(label, date))
    for part in ("title", "definition", "next_step", "severity_name"):
        e, z = getattr(en, part), getattr(zh, part)
        assert e and z and e != z and CJK.search(z) and not CJK.search(e), (label, part)
    assert not ENGLISH_RUN.search(zh.definition + zh.next_step)
    if label == Label.STALE:
        assert "2023-05-01" in en.definition and "2023-05-01" in zh.definition
    # the README's Verdicts table has a row for it with both terms
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Verdicts", 1)[1].split("\n### ", 1)[0]
    row = next(ln for ln in section.splitlines() if ln.startswith(f"| `{label.value}` |"))
    assert en.title in row and zh.title in row and f"{en.look.symbol} {en.severity_name}" in row


def test_severities_differ_in_colour_and_icon() -> None:
    looks = [LOOKS[s] for s in Severity]
    assert len({lk.colour for lk in looks}) == len(looks)
    assert len({lk.symbol for lk in looks}) == len(looks)
    assert len({lk.icon for lk in looks}) == len(looks)


_ints = st.integers(0, 10**8)
_shares = st.floats(0, 1)
_dates = st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31))
_signals = st.lists(st.sampled_from(sorted(SIGNAL_LABELS)), max_size=4)
PARAMS = {
    "linked": st.fixed_dictionaries({"matched": _ints, "records": _ints}),
    "unlinked_forged": st.fixed_dictionaries({"signals": _signals}),
    "unlinked_genuine": st.just({}),
    "unlinked_uncheckable": st.just({}),
    "forgery_signals": st.fixed_dictionaries({"signals": _signals}),
    "no_forgery_no_master": st.just({}),
    "too_few_checkable": st.just({}),
    "stale": st.fixed_dictionaries({"date": _dates, "days": _ints, "low": _dates, "high": _dates}),
    "stale_uncertain": st.fixed_dictionaries(
        {"chance": _shares, "days": _ints, "low": _dates, "high": _dates}
    ),
    "values_altered": st.fixed_dictionaries(
        {
            "altered": _ints,
            "compared": _ints,
            "share": _shares,
            "low": _shares,
            "high": _shares,
            "signals": _signals,
        }
    ),
}


def test_every_reason_code_has_a_sentence() -> None:
    assert set(REASON_CODES) == set(REASON_WORDS) == set(PARAMS)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(PARAMS)).flatmap(lambda c: PARAMS[c].map(lambda p: Reason(c, p))))
def test_reasons_render_as_sentences_in_both_languages(reason: Reason) -> None:
    en, zh = _both(lambda: reason_text(reason))
    assert en != reason.code and "{" not in en + zh
    assert not CJK.search(en) and _chinese(zh), zh
    for name in reason.params.get("signals", []):
        assert signal_label(name) in en  # the language in use is back to what it was
    for k, v in reason.params.items():
        if isinstance(v, int) and k != "days":
            assert f"{v:,}" in en and f"{v:,}" in zh
        if isinstance(v, dt.date):
            assert v.isoformat() in en and v.isoformat() in zh


@pytest.mark.parametrize("name", sorted(SIGNAL_LABELS))
def test_every_signal_label_renders_in_both_languages(name: str) -> None:
    en, zh = _both(lambda: signal_label(name))
    assert en and _chinese(zh) and "{" not in en + zh


@pytest.mark.parametrize("code", sorted(FIELD_LABELS))
def test_every_field_label_renders_in_both_languages(code: str) -> None:
    en, zh = _both(lambda: field_label(code))
    assert en == FIELD_LABELS[code] and _chinese(zh)


def _pii_codes() -> set[str]:
    """Every reason and flag code the pii validators give, read from their source."""
    codes: set[str] = set()
    for kind in KINDS.values():
        codes |= set(kind.FAST_REASONS) | set(kind.FLAGS)
    for path in (ROOT / "src" / "leaktrace" / "pii").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.findall(r"(?:Validation\.of\(\[|reasons\.append\()([^\])]*)", text):
            codes |= set(re.findall(r'"([a-z_]+)"', call))
    return codes


def test_every_scan_reason_and_flag_code_reads_as_words() -> None:
    codes = _pii_codes()
    assert {"bad_checksum", "unallocated_segment", "implausible_age"} <= codes
    assert codes <= set(REASONS) | set(FLAGS)
    for code in codes:
        en, zh = _both(lambda c=code: code_text(c))
        assert (en != code or code == "masked") and "_" not in en and _chinese(zh), code


def test_every_kind_has_a_name_in_both_languages() -> None:
    assert set(KINDS) <= set(KIND_LABELS)


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(REASONS)), st.integers(1, 10**7), min_size=1, max_size=6)
)
def test_reason_counts_read_as_sentences(counts: dict[str, int]) -> None:
    from collections import Counter

    en, zh = _both(lambda: counts_text(Counter(counts)))
    for code, n in counts.items():
        if code != "masked":
            assert f"{code_text(code)}: {n:,}" in en
            with i18n.using("zh"):
                assert f"{code_text(code)}：{n:,} 个" in zh
    assert "masked" not in en and not any(c in en + zh for c in counts if "_" in c)


def test_check_digit_reason_reads_as_the_issue_asks() -> None:
    from collections import Counter

    en, zh = _both(lambda: counts_text(Counter({"bad_checksum": 52})))
    assert en == "check digit wrong: 52" and zh == "校验码错误：52 个"


def test_region_signal_says_what_trips_it() -> None:
    """The signal flags when too many addresses lie outside the ID's province: its label says
    so, and its value is that share (high is bad, as for every decisive signal)."""
    import polars as pl

    from leaktrace.pii.resident_id import check_char
    from leaktrace.verify.forgery import forgery_signals

    ids = []
    for i in range(100):
        body = f"11010519{70 + i % 30:02d}0{1 + i % 9}{10 + i % 18:02d}{100 + i:03d}"
        ids.append(body + check_char(body))
    inside = ["北京市海淀区中关村大街1号"] * 100
    outside = ["广东省深圳市南山区科技园1号"] * 90 + inside[:10]
    good = next(
        s
        for s in forgery_signals(pl.DataFrame({"resident_id": ids, "address": inside}))
        if s.name == "region_consistency"
    )
    bad = next(
        s
        for s in forgery_signals(pl.DataFrame({"resident_id": ids, "address": outside}))
        if s.name == "region_consistency"
    )
    assert good.value == 0.0 and not good.flagged
    assert bad.value == 0.9 and bad.flagged and bad.value > bad.expected_high
    en, zh = _both(lambda: signal_label(bad))
    assert "outside" in en and "不在" in zh


def test_no_message_hides_inside_an_f_string() -> None:
    """Babel does not look inside f-strings: a ``_()`` there would never reach a catalogue."""
    hidden = []
    for path in (ROOT / "src" / "leaktrace" / "report").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                hidden += [
                    f"{path.name}:{sub.lineno}"
                    for sub in ast.walk(node)
                    if isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Name)
                    and sub.func.id in ("_", "N_", "ngettext")
                ]
    assert not hidden


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 1))
def test_a_share_short_of_all_never_reads_as_all_nor_a_share_above_none_as_none(x: float) -> None:
    from leaktrace.report.verify_words import pct

    shown = float(pct(x).removesuffix("%"))
    assert (shown == 100.0) == (x == 1.0) and (shown == 0.0) == (x == 0.0)
    assert abs(shown - 100 * x) <= 0.1 + 1e-9
