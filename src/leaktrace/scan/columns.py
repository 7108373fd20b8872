"""Typing table columns by their values: headers help but lie, and may be absent or Chinese."""

from __future__ import annotations

import polars as pl

from leaktrace.pii import KINDS
from leaktrace.scan.result import ColumnReport
from leaktrace.scan.text import find_in_lines

# A column is of a kind when at least this share of its non-empty sampled values has the
# kind's shape; a header naming the kind lowers the bar (masked or messy columns).
MIN_SHARE = 0.6
MIN_SHARE_WITH_HEADER = 0.3
# Columns of no kind in which this share of sampled values holds an identifier are free text
# (remarks, "备注", pasted notes) and are searched for spans.
TEXT_MIN_SHARE = 0.01


def header_kind(header: str) -> str | None:
    """The kind a column header names (身份证号, 手机, Card No …), or None."""
    h = header.strip().lower().replace(" ", "").replace("_", "")
    best: tuple[int, str] | None = None
    for name, kind in KINDS.items():
        for word in kind.header_words:
            w = word.lower().replace(" ", "").replace("_", "")
            if w and w in h and (best is None or len(w) > best[0]):
                best = (len(w), name)
    return best[1] if best else None


def _share_exprs(col: str, kind: str) -> list[pl.Expr]:
    k = KINDS[kind]
    v = pl.col(col).str.strip_chars()
    norm = k.normalize_expr(v)
    reason = k.reason_expr(norm)
    present = v.is_not_null() & (v != "")
    return [
        (norm.is_not_null() & present).sum().alias(f"{kind}|shape"),
        (norm.is_not_null() & present & reason.is_null()).sum().alias(f"{kind}|valid"),
        (norm.is_not_null() & present & (reason == "bad_checksum")).sum().alias(f"{kind}|near"),
    ]


def _text_share(values: pl.Series) -> float:
    """Share of values in which free-text search finds an identifier."""
    lines = pl.DataFrame({"line": range(values.len()), "text": values}).drop_nulls()
    if lines.height == 0:
        return 0.0
    found = find_in_lines(lines)
    return found.select(pl.col("line").n_unique()).item() / lines.height


def infer_columns(sample: pl.DataFrame) -> list[ColumnReport]:
    """Type each column of a sample (a few thousand rows) by the share of values of each kind.

    Score = shape share + valid share + half the near-miss share (right structure, wrong check
    digit: forged lists are still lists of IDs) + a bonus when the header names the kind.
    """
    reports: list[ColumnReport] = []
    if sample.width == 0:
        return reports
    exprs: list[pl.Expr] = []
    for col in sample.columns:
        exprs.append(
            (pl.col(col).is_not_null() & (pl.col(col).str.strip_chars() != ""))
            .sum()
            .alias(f"{col}||n")
        )
        for kind in KINDS:
            exprs.extend(e.name.prefix(f"{col}||") for e in _share_exprs(col, kind))
    stats = sample.select(exprs).row(0, named=True)
    for col in sample.columns:
        n = stats[f"{col}||n"] or 0
        if n == 0:
            reports.append(ColumnReport(col, None, 0.0))
            continue
        hinted = header_kind(col)
        best: tuple[float, str, float] | None = None
        for kind in KINDS:
            # Names and addresses have loose shapes (any short Chinese string): only values that
            # pass their checks (a known surname, a real division) speak for them.
            shape = stats[f"{col}||{kind}|{'shape' if KINDS[kind].strong else 'valid'}"] / n
            valid = stats[f"{col}||{kind}|valid"] / n
            near = stats[f"{col}||{kind}|near"] / n
            bar = MIN_SHARE_WITH_HEADER if hinted == kind else MIN_SHARE
            if shape < bar:
                continue
            score = shape + valid + 0.5 * near + (0.3 if hinted == kind else 0.0)
            if best is None or score > best[0]:
                best = (score, kind, shape)
        if best is not None:
            reports.append(ColumnReport(col, best[1], round(best[2], 4)))
        elif (share := _text_share(sample.get_column(col))) >= TEXT_MIN_SHARE:
            reports.append(ColumnReport(col, "text", round(share, 4)))
        else:
            reports.append(ColumnReport(col, None, 0.0))
    return reports
