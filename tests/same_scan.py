"""One comparison for a scan split across processes and the same scan in one process."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from leaktrace.scan import run


def assert_split_matches_one_process(
    tmp_path: Path,
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    in_file_order: bool = True,
    same_row_numbers: bool = False,
) -> run.ScanResult:
    """Counts, column kinds, problems and output rows agree between one process and three.

    ``in_file_order``: problems and rows come in the same order (a CSV range's ragged rows
    follow that range's own rows, so CSV compares them as sets); ``same_row_numbers``: the
    output's row numbers agree too (SQL numbers each table's rows as one process does)."""
    monkeypatch.setattr(run, "SPLIT_MIN", 1)
    one = run.scan([path], out=tmp_path / "one.parquet", processes=1)
    three = run.scan([path], out=tmp_path / "three.parquet", processes=3)
    assert one.records == three.records > 0

    def counts(result: run.ScanResult) -> dict:
        return {
            k: (s.found, s.valid, s.invalid, s.masked, s.reasons) for k, s in result.kinds.items()
        }

    assert counts(one) == counts(three)
    a, b = one.sources[0], three.sources[0]
    # the kinds agree; confidences may not, as the parts' first batches are smaller samples
    assert {t: [(c.name, c.kind) for c in cs] for t, cs in a.columns.items()} == {
        t: [(c.name, c.kind) for c in cs] for t, cs in b.columns.items()
    }
    assert a.rows_skipped == b.rows_skipped
    left = pl.read_parquet(tmp_path / "one.parquet")
    right = pl.read_parquet(tmp_path / "three.parquet")
    if not same_row_numbers:
        left, right = left.drop("row", "more"), right.drop("row", "more")
    if in_file_order:
        assert a.problems == b.problems
        assert left.equals(right)
    else:
        assert sorted(a.problems, key=str) == sorted(b.problems, key=str)
        assert left.sort(left.columns).equals(right.sort(right.columns))
    return one
