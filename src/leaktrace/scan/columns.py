"""Typing table columns by their values: headers help but lie, and may be absent or Chinese."""

from __future__ import annotations

import polars as pl

from leaktrace.pii import KINDS
from leaktrace.scan.result import ColumnReport
from leaktrace.scan.text import NEAR_MISS, find_in_lines

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


def _kind_counts(sample: pl.DataFrame, kind: str) -> dict[str, tuple[int, int, int]]:
    """Per column: how many values have the kind's shape, are valid, and are masked or fail
    only their last check (a forged list is still a list of IDs). Normalised in one pass and validated in a second (small expression graphs stay fast)."""
    k = KINDS[kind]
    cols = sample.columns
    near = [*NEAR_MISS.get(kind, ()), "masked"]
    norm = sample.select(k.normalize_expr(pl.col(c).str.strip_chars()).alias(c) for c in cols)
    reason = norm.select(k.reason_expr(pl.col(c)).alias(c) for c in cols)
    counts = pl.concat(
        [
            norm.select(pl.col(c).is_not_null().sum() for c in cols),
            reason.select((pl.col(c).is_null() & norm[c].is_not_null()).sum() for c in cols),
            reason.select(pl.col(c).is_in(near).sum() for c in cols),
        ]
    )
    return {c: tuple(counts.get_column(c).to_list()) for c in cols}  # type: ignore[misc]


def _text_share(values: pl.Series) -> float:
    """Share of values in which free-text search finds an identifier."""
    lines = pl.DataFrame({"line": range(values.len()), "text": values}).drop_nulls()
    if lines.height == 0:
        return 0.0
    found = find_in_lines(lines)
    return found.select(pl.col("line").n_unique()).item() / lines.height


def infer_columns(sample: pl.DataFrame) -> list[ColumnReport]:
    """Type each column of a sample (a few thousand rows) by the share of values of each kind.

    Score = shape share + valid share + half the near-miss share (masked, or right structure
    but wrong check digit: forged lists are still lists of IDs) + a bonus when the header
    names the kind.
    """
    reports: list[ColumnReport] = []
    if sample.width == 0:
        return reports
    present = sample.select(
        (pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "")).sum()
        for c in sample.columns
    ).row(0, named=True)
    per_kind = {kind: _kind_counts(sample, kind) for kind in KINDS}
    for col in sample.columns:
        n = present[col] or 0
        if n == 0:
            reports.append(ColumnReport(col, None, 0.0))
            continue
        hinted = header_kind(col)
        best: tuple[float, str, float] | None = None
        for kind in KINDS:
            # Names and addresses have loose shapes (any short Chinese string): only values that
            # pass their checks (a known surname, a real division) speak for them.
            n_shape, n_valid, n_near = per_kind[kind][col]
            shape = (n_shape if KINDS[kind].strong else n_valid) / n
            valid, near = n_valid / n, n_near / n
            if hinted == kind:
                if shape < MIN_SHARE_WITH_HEADER:
                    continue
            # Without a header's word, a strong kind also needs values that pass its checks:
            # a column of 18-digit customer numbers has a card's shape but passes Luhn 1 in 10.
            elif shape < MIN_SHARE or (KINDS[kind].strong and valid + near < MIN_SHARE):
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
