"""Whole-column checks: normalised values and their first failing reason for a column of raw
strings, by the kinds' compiled checks (``_checks.c``) where they have them and the kinds'
Polars rules for the values those leave alone (and for kinds without them)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from . import _checks
from .base import Kind

EMPTY = "<empty>"  # reason marker for empty cells, which are neither valid nor invalid
# The compiled checks' codes beside 0 (valid) and the reasons 1..k (see pii.base.Kind):
NOT_KIND_CODE = _checks.NOT_KIND  # not of the kind's shape at all
FINISH_CODE = _checks.FINISH  # the kind's last check is left to finish_expr
EMPTY_CODE = _checks.EMPTY  # null or ""
SLOW_CODE = _checks.SLOW  # a shape left to the Polars rules


def arrow_args(arr: pa.Array) -> tuple[object, object, object, int, int, bool]:
    """The buffers of a string array as the C checks take them: offsets, data, validity,
    offset, length, and whether the offsets are 64-bit."""
    if arr.type not in (pa.string(), pa.large_string()):
        arr = arr.cast(pa.large_string())
    validity, offsets, data = arr.buffers()
    if data is None:  # all values empty or null
        data = pa.py_buffer(b"")
    return offsets, data, validity, arr.offset, len(arr), arr.type == pa.large_string()


def codes_only(codes: bytes) -> tuple[np.ndarray, None]:
    """The codes a check that keeps values as they are returns (no normalised values)."""
    return np.frombuffer(codes, np.uint8), None


def normalised(found: tuple[bytes, bytes, bytes]) -> tuple[np.ndarray, pa.Array]:
    """The codes and normalised values (as a large_string array) a normalising check returns."""
    codes, offsets, data = found
    values = pa.Array.from_buffers(
        pa.large_string(), len(codes), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return np.frombuffer(codes, np.uint8), values


def _codes(
    kind: Kind, values: pa.ChunkedArray | pa.Array
) -> tuple[np.ndarray, pl.Series | None] | None:
    """The kind's compiled codes for every value and the normalised values where the kind
    rewrites them (None when the kind has no compiled path)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    codes, normal = [], []
    for chunk in chunks:
        got = kind.column_codes(chunk)
        if got is None:
            return None
        codes.append(got[0])
        if got[1] is not None:
            normal.append(got[1])
    if not chunks:
        return np.zeros(0, np.uint8), None
    values_out = pl.Series(pa.chunked_array(normal, pa.large_string())) if normal else None
    return np.concatenate(codes), values_out


def check_column(
    kind: Kind, values: pa.ChunkedArray | pa.Array | pl.Series, raw: pl.Series | None = None
) -> pl.DataFrame:
    """``value`` (normalised, or the stripped raw value where it has no such shape),
    ``reason`` (null when valid, :data:`EMPTY` for empty cells, 'bad_format' when it has no such
    shape) and ``flag`` (a valid value's plausibility flag, else null) for each raw value, in
    order.

    Real dumps are mostly clean, so values already canonical skip normalising: the compiled
    checks take them where the kind has those, else the Polars rules run on them as they are;
    only the rest are normalised. ``raw``: the same values as a Series, when the caller has
    them (Arrow values are not converted again)."""
    if isinstance(values, pl.Series):
        raw, values = values, values.to_arrow()
    elif raw is None:
        raw = pl.Series(values, dtype=pl.String)  # type: ignore[arg-type]
    fast = _codes(kind, values) if kind.FAST_REASONS else None
    if fast is not None:
        codes, normal = fast
        reasons = len(kind.FAST_REASONS)
        code = pl.Series(codes)
        reason = code.replace_strict(
            list(range(1, reasons + 1)) + [NOT_KIND_CODE, EMPTY_CODE],
            [*kind.FAST_REASONS, "bad_format", EMPTY],
            default=None,
            return_dtype=pl.String,
        )
        # flags are rare: a column of nulls, filled in where the codes say flagged
        flag = pl.repeat(None, len(codes), dtype=pl.String, eager=True)
        is_flag = (codes > reasons) & (codes <= reasons + len(kind.FLAGS))
        if (flagged := np.flatnonzero(is_flag)).size:
            names = [kind.FLAGS[c - reasons - 1] for c in codes[flagged].tolist()]
            flag = flag.scatter(pl.Series(flagged), pl.Series(names, dtype=pl.String))
        frame = pl.DataFrame(
            {"value": raw if normal is None else normal, "reason": reason, "flag": flag}
        )
        raw_kept = (codes == EMPTY_CODE) | (codes == NOT_KIND_CODE)
        if normal is not None and (empty := np.flatnonzero(raw_kept)).size:
            idx = pl.Series(empty)
            frame = frame.with_columns(frame.get_column("value").scatter(idx, raw.gather(idx)))
        if (finish := np.flatnonzero(codes == FINISH_CODE)).size:
            idx = pl.Series(finish)
            last = _flagged(
                kind, frame[idx].select("value", kind.finish_expr(pl.col("value")).alias("reason"))
            )
            frame = frame.with_columns(
                frame.get_column(c).scatter(idx, last.get_column(c)) for c in ("reason", "flag")
            )
        rest = pl.Series(np.flatnonzero(codes == SLOW_CODE))
    elif kind.canonical:
        clean = pl.col("value").str.contains(f"^(?:{kind.canonical})$").fill_null(False)
        frame = pl.DataFrame({"value": raw}).with_columns(
            pl.when(clean).then(kind.reason_expr(pl.col("value"))).alias("reason"),
            clean.alias("_clean"),
        )
        rest = (~frame.get_column("_clean")).arg_true()
        frame = _flagged(kind, frame.drop("_clean"))
    else:
        return _slow(kind, raw)
    if rest.len() == 0:
        return frame
    fixed = _slow(kind, raw.gather(rest))
    return pl.DataFrame(
        {c: frame.get_column(c).scatter(rest, fixed.get_column(c)) for c in frame.columns}
    )


def _flagged(kind: Kind, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (``value``, ``reason``) with ``flag``: the kind's flag of each valid value."""
    return frame.with_columns(
        pl.when(pl.col("reason").is_null()).then(kind.flag_expr(pl.col("value"))).alias("flag")
    )


def _slow(kind: Kind, raw: pl.Series) -> pl.DataFrame:
    """The Polars rules: strip, normalise, validate."""
    stripped = pl.col("raw").str.strip_chars()
    norm = kind.normalize_expr(stripped)
    frame = pl.DataFrame({"raw": raw}).with_columns(stripped.alias("_s"), norm.alias("value"))
    frame = frame.with_columns(
        pl.when(pl.col("_s").is_null() | (pl.col("_s") == ""))
        .then(pl.lit(EMPTY))
        .when(pl.col("value").is_null())
        .then(pl.lit("bad_format"))
        .otherwise(kind.reason_expr(pl.col("value")))
        .alias("reason")
    )
    return _flagged(kind, frame.select(pl.coalesce("value", "_s").alias("value"), "reason"))
