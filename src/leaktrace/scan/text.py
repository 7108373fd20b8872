"""Finding identifiers in free text: candidate extraction by regex, classification by the kinds'
own vectorised rules.

The same extractor patterns run in two engines: Polars' Rust regex over millions of lines (bulk)
and Python's ``re`` over one string when character offsets are wanted (:func:`find_spans`).
Candidates from both go through one classifier, so both engines report the same identifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import polars as pl

from leaktrace.pii import KINDS, fold_width
from leaktrace.pii.base import Status
from leaktrace.scan.result import Span

CJK = "一-龥"  # the CJK unified ideographs that names and addresses are written in

# Invalid values are only worth reporting in prose when everything but the last check holds:
# an ID-shaped run with a real division and birth date but a wrong check digit is a forgery
# signal; a random order number is not an identifier at all.
NEAR_MISS = {
    "resident_id": frozenset({"bad_checksum"}),
    "mobile": frozenset({"unallocated_segment"}),
}

# Words that end a name or an address that a context word introduced ("客户王芳的手机号是…").
_NAME_STOP = "(?:的|是|在|于|和|与|及|手机|电话|联系|身份|证件|住址|地址|家住|住在|性别|男|女|出生|年龄|卡号|银行|先生|女士|小姐|号码)"


@dataclass(frozen=True)
class Extractor:
    """One candidate pattern and the kinds its matches may be, tried in order."""

    name: str
    pattern: str
    kinds: tuple[str, ...]
    strip_prefix: str | None = None  # regex removed from the start of a match (context words)
    strip_suffix: str | None = None  # regex removed from the end (where the value stops)
    anchored: bool = False  # keep only on lines that also hold a strong identifier


def _alternation(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


@cache
def extractors() -> tuple[Extractor, ...]:
    """The extractors, built once from the kinds' own patterns and context words."""
    name_ctx = _alternation(KINDS["person_name"].context_words)
    addr_ctx = _alternation(KINDS["address"].context_words)
    sep = r"[:：=\s]*"
    digits = (
        # +86 / 0086 mobiles with separators, spaced mobiles, landlines with area code, spaced
        # cards; then any maximal run of digits (masks and a final X allowed).
        r"(?:\+86|0086|\+ 86)[ \-]?1[3-9][0-9][ \-]?[0-9*]{4}[ \-]?[0-9]{4}"
        r"|1[3-9][0-9][ \-][0-9*]{4}[ \-][0-9]{4}"
        r"|\(0[1-9][0-9]{1,2}\)[ \-]?[0-9]{7,8}|0[1-9][0-9]{1,2}-[0-9]{7,8}"
        r"|[0-9]{4}(?:[ \-][0-9*]{4}){3}(?:[ \-][0-9]{1,3})?"
        r"|[0-9][0-9*]*[Xx]?"
    )
    return (
        Extractor("digits", digits, ("resident_id", "mobile", "bank_card", "landline")),
        Extractor("email", KINDS["email"].pattern, ("email",)),
        Extractor("passport", KINDS["passport"].pattern, ("passport",)),
        Extractor("plate", KINDS["plate"].pattern, ("plate",)),
        Extractor(
            "name_ctx",
            f"{name_ctx}{sep}[{CJK}·]{{2,8}}",
            ("person_name",),
            strip_prefix=f"^{name_ctx}{sep}",
            strip_suffix=f"{_NAME_STOP}.*$",
        ),
        Extractor("name_tok", f"[{CJK}·]{{2,6}}", ("person_name",), anchored=True),
        Extractor(
            "addr_ctx",
            rf"{addr_ctx}{sep}[^\s,，。;；|、]{{4,80}}",
            ("address",),
            strip_prefix=f"^{addr_ctx}{sep}",
            strip_suffix=r"[0-9]{7,}.*$",
        ),
        Extractor(
            "addr_tok",
            rf"[{CJK}][{CJK}0-9A-Za-z\-#()（）]{{5,80}}",
            ("address",),
            strip_suffix=r"[0-9]{7,}.*$",
        ),
    )


@cache
def _fold_table() -> tuple[list[str], list[str]]:
    """Full-width characters and their half-width forms, taken from pii's own folding rule."""
    src = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
    dst = [fold_width(c) for c in src]
    pairs = [(s, d) for s, d in zip(src, dst, strict=True) if s != d]
    return [s for s, _ in pairs], [d for _, d in pairs]


def fold_expr(e: pl.Expr) -> pl.Expr:
    """Fold full-width digits and letters in a column, so one pattern finds both widths."""
    src, dst = _fold_table()
    return e.str.replace_many(src, dst)


STRONG = ("resident_id", "mobile", "bank_card", "email", "passport")


def classify(cands: pl.DataFrame, kinds: tuple[str, ...], *, prose: bool) -> pl.DataFrame:
    """Give each candidate (column ``cand``) the first kind it is valid for, else the first it is
    masked for, else (for tables, or near misses in prose) the first whose shape it has.

    Returns the frame with ``kind``, ``value`` and ``reason`` (null when valid) added; candidates
    of no kind are dropped.
    """
    norms = [KINDS[k].normalize_expr(pl.col("cand")).alias(f"_n{i}") for i, k in enumerate(kinds)]
    cands = cands.with_columns(norms)
    cands = cands.with_columns(
        KINDS[k].reason_expr(pl.col(f"_n{i}")).alias(f"_r{i}") for i, k in enumerate(kinds)
    )
    tiers: list[tuple[pl.Expr, int]] = []
    for i, _ in enumerate(kinds):
        tiers.append((pl.col(f"_n{i}").is_not_null() & pl.col(f"_r{i}").is_null(), i))
    for i, _ in enumerate(kinds):
        tiers.append((pl.col(f"_r{i}") == Status.MASKED.value, i))
    for i, k in enumerate(kinds):
        ok = pl.col(f"_n{i}").is_not_null()
        if prose:
            ok = ok & pl.col(f"_r{i}").is_in(list(NEAR_MISS.get(k, ())))
        tiers.append((ok, i))

    def pick(template: str) -> pl.Expr:
        expr = pl.when(tiers[0][0]).then(pl.col(template.format(tiers[0][1])))
        for cond, i in tiers[1:]:
            expr = expr.when(cond).then(pl.col(template.format(i)))
        return expr

    kind_expr = pl.when(tiers[0][0]).then(pl.lit(kinds[tiers[0][1]]))
    for cond, i in tiers[1:]:
        kind_expr = kind_expr.when(cond).then(pl.lit(kinds[i]))
    out = cands.with_columns(
        kind=kind_expr, value=pick("_n{}"), reason=pick("_r{}").cast(pl.String)
    ).drop([f"_n{i}" for i in range(len(kinds))] + [f"_r{i}" for i in range(len(kinds))])
    return out.filter(pl.col("kind").is_not_null())


def _post(ex: Extractor, e: pl.Expr) -> pl.Expr:
    if ex.strip_prefix:
        e = e.str.replace(ex.strip_prefix, "")
    if ex.strip_suffix:
        e = e.str.replace(ex.strip_suffix, "")
    return e


def status_expr(reason: pl.Expr) -> pl.Expr:
    return (
        pl.when(reason.is_null())
        .then(pl.lit(Status.VALID.value))
        .when(reason == Status.MASKED.value)
        .then(pl.lit(Status.MASKED.value))
        .otherwise(pl.lit(Status.INVALID.value))
    )


def _resolve(cands: pl.DataFrame) -> pl.DataFrame:
    """Classify candidates of every extractor, keep anchored ones only beside strong finds, and
    drop repeats of one value in one line (two extractors often find the same name)."""
    parts = []
    for ex in extractors():
        sub = cands.filter(pl.col("extractor") == ex.name)
        if sub.height == 0:
            continue
        sub = sub.with_columns(cand=_post(ex, pl.col("raw")))
        parts.append(classify(sub, ex.kinds, prose=True).with_columns(anchored=pl.lit(ex.anchored)))
    if not parts:
        return _EMPTY_FOUND
    found = pl.concat(parts, how="vertical_relaxed")
    strong_lines = (
        found.filter(
            pl.col("kind").is_in(STRONG)
            & (pl.col("reason").is_null() | (pl.col("reason") == "masked"))
        )
        .select("line")
        .unique()
    )
    found = pl.concat(
        [
            found.filter(~pl.col("anchored")),
            found.filter(pl.col("anchored")).join(strong_lines, on="line", how="semi"),
        ]
    )
    found = found.unique(subset=["line", "kind", "value"], keep="first", maintain_order=True)
    return found.with_columns(status=status_expr(pl.col("reason"))).drop("anchored")


_EMPTY_FOUND = pl.DataFrame(
    schema={
        "line": pl.Int64,
        "extractor": pl.String,
        "raw": pl.String,
        "cand": pl.String,
        "kind": pl.String,
        "value": pl.String,
        "reason": pl.String,
        "status": pl.String,
    }
)


def find_in_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Bulk span finding. ``lines`` has ``line`` (int) and ``text``; returns one row per
    identifier with ``line, kind, value, status, reason``."""
    folded = lines.select(pl.col("line").cast(pl.Int64), fold_expr(pl.col("text")).alias("text"))
    exs = extractors()
    wide = folded.select(
        "line", *[pl.col("text").str.extract_all(ex.pattern).alias(ex.name) for ex in exs]
    )
    cands = pl.concat(
        [
            wide.select("line", pl.col(ex.name).alias("raw"))
            .explode("raw")
            .drop_nulls("raw")
            .with_columns(extractor=pl.lit(ex.name))
            for ex in exs
        ]
    )
    found = _resolve(cands.select("line", "extractor", "raw"))
    return found.select("line", "kind", "value", "status", "reason")


@cache
def _compiled() -> tuple[tuple[Extractor, re.Pattern[str]], ...]:
    return tuple((ex, re.compile(ex.pattern)) for ex in extractors())


def find_spans(text: str) -> list[Span]:
    """Identifiers in one text with their character offsets, for a person or a test to read.

    Each line counts as one record, as in the bulk path; full-width characters are folded
    first (one character for one, so offsets hold)."""
    folded = fold_width(text)
    rows: list[tuple[int, str, str, int]] = []
    for ex, rx in _compiled():
        for m in rx.finditer(folded):
            line = folded.count("\n", 0, m.start())
            rows.append((line, ex.name, m.group(), m.start()))
    if not rows:
        return []
    cands = pl.DataFrame(
        rows, schema=["line", "extractor", "raw", "start"], orient="row"
    ).with_columns(pl.col("line").cast(pl.Int64))
    found = _resolve(cands)
    spans = []
    for r in found.iter_rows(named=True):
        offset = r["raw"].find(r["cand"]) if r["cand"] else 0
        start = r["start"] + max(offset, 0)
        spans.append(
            Span(r["kind"], start, start + len(r["cand"]), r["value"], r["status"], r["reason"])
        )
    spans.sort(key=lambda s: (s.start, s.kind))
    return spans
