"""Words the verify reports (terminal and HTML) share: the tampering call-out, in English and
Chinese, so a bank's team reads the same sentence in either report."""

from __future__ import annotations

from leaktrace.verify.verdict import Share


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def tampered_lines(s: Share) -> tuple[str, str]:
    """The altered share of the linked records with its interval, in English and Chinese."""
    ci = f"{_pct(s.low)}–{_pct(s.high)}"
    return (
        f"altered values: {_pct(s.value)} of linked records (95% CI {ci}, {s.records:,} records)",
        f"值被篡改：已关联记录中 {_pct(s.value)}（95% 置信区间 {ci}，{s.records:,} 条）的值被改动",
    )
