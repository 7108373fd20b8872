"""Text helpers shared by the kinds: width folding and one-pass character maps (separators
removed, masks unified), each with a scalar and a Polars form that give identical results."""

from __future__ import annotations

import re

import polars as pl

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold to their half-width forms.
FOLD = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
_FOLD_TABLE = str.maketrans(FOLD)

MIN_UNMASKED = 4


def fold_width(s: str) -> str:
    """Full-width ASCII letters, digits and punctuation (and U+3000) to half-width."""
    return s.translate(_FOLD_TABLE)


def fold_width_expr(e: pl.Expr) -> pl.Expr:
    """Polars version of :func:`fold_width`."""
    return e.str.replace_many(list(FOLD), list(FOLD.values()))


class CharMap:
    """Width folding followed by per-character rewrites (drop separators, unify masks, change
    case), composed into one table so both engines make a single pass."""

    def __init__(self, drop: str = "", to_star: str = "", extra: dict[str, str] | None = None):
        post = {c: "" for c in drop} | {c: "*" for c in to_star} | (extra or {})
        table = {c: post.get(h, h) for c, h in FOLD.items()} | post
        self.table = {k: v for k, v in table.items() if k != v}
        self._translate = str.maketrans(self.table)

    def apply(self, s: str) -> str:
        """Rewrite ``s``."""
        return s.translate(self._translate)

    def expr(self, e: pl.Expr) -> pl.Expr:
        """Rewrite a String expression the same way."""
        return e.str.replace_many(list(self.table), list(self.table.values()))


def upper_ascii() -> dict[str, str]:
    """a-z to A-Z (only ASCII: str.upper would also change letters such as ß)."""
    return {chr(c): chr(c - 32) for c in range(ord("a"), ord("z") + 1)}


def enough_unmasked(s: str) -> bool:
    """Whether ``s`` shows at least four characters that are not '*': a value masked further
    cannot be told apart from any other kind."""
    return len(s) - s.count("*") >= MIN_UNMASKED


def enough_unmasked_expr(e: pl.Expr) -> pl.Expr:
    """Polars version of :func:`enough_unmasked`."""
    return e.str.len_chars() - e.str.count_matches("*", literal=True) >= MIN_UNMASKED


def shaped(chars: CharMap, shape: str, raw: str) -> str | None:
    """``raw`` rewritten by ``chars``, if the result has ``shape`` (whole) and shows enough."""
    s = chars.apply(raw)
    return s if re.fullmatch(shape, s) and enough_unmasked(s) else None


def shaped_expr(chars: CharMap, shape: str, e: pl.Expr) -> pl.Expr:
    """Polars version of :func:`shaped`."""
    s = chars.expr(e)
    return pl.when(s.str.contains(f"^(?:{shape})$") & enough_unmasked_expr(s)).then(s)
