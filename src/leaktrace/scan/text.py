"""Finding identifiers in free text: candidate extraction by pattern, classification by the
kinds' own vectorised rules.

The extractors are written as regexes (:func:`extractors`); a compiled pass (``_extract.c``)
finds every extractor's matches over millions of lines at once, exactly as the regexes would (a
test holds it to them), and gives each match's character offset for :func:`find_spans`. Bulk
scanning and span finding share that pass and one classifier, so both report the same
identifiers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa

from leaktrace.pii import KINDS, _checks, fold_width
from leaktrace.pii.address import PROVINCE_SHORT_NAMES, STREET_MARKERS
from leaktrace.pii.base import Kind, Status
from leaktrace.pii.columns import FINISH_CODE, SLOW_CODE, arrow_args, check_column
from leaktrace.pii.plate import PROVINCES, SUFFIX
from leaktrace.pii.tables import surnames
from leaktrace.pii.text import FOLD
from leaktrace.scan import _extract
from leaktrace.scan.result import Span

CJK = "一-龥"  # the CJK unified ideographs that names and addresses are written in
TOKEN = r"[^\s,，、|;；/:：()（）\[\]【】\"“”'<>《》？?！!。…]+"  # a run between separators

# Invalid values are only worth reporting in prose when everything but the last check holds:
# an ID-shaped run with a real division and birth date but a wrong check digit is a forgery
# signal; a random order number is not an identifier at all.
NEAR_MISS = {
    "resident_id": frozenset({"bad_checksum"}),
    "mobile": frozenset({"unallocated_segment"}),
}

# Words that end a name standing alone ("邓莹收" on a parcel: the name is 邓莹).
_NAME_SUFFIX = "(?:收|先生|女士|小姐|同志|老师)$"
# Characters of function words and nouns that given names practically never contain: a
# candidate holding one ("车牌号", "公司座机", "全的发我") is a word, not a name.
# A compound surname (司马, 司徒) is exempt: only the rest of the name is looked at.
_NOT_NAME = "[的了是在有我你他她们这那个号码机牌卡证址话司部发和与或吗呢吧啊请说要去来到给把被从对就也还很最没无每某元条]"
# Words that end a name a context word introduced ("客户王芳的手机号是…": 王芳).
_NAME_STOP_WORDS = (
    *("的", "是", "在", "于", "和", "与", "及", "男", "女"),
    *("手机", "电话", "联系", "身份", "证件", "住址", "地址", "家住", "住在", "性别"),
    *("出生", "年龄", "卡号", "银行", "先生", "女士", "小姐", "号码"),
)
_NAME_STOP = "(?:" + "|".join(_NAME_STOP_WORDS) + ")"
# A name after a context word stops at a one-character stop word, as the suffix rule would cut
# it there anyway; so "联系您的…" is no name and the search goes on to "联系人王芳" after it.
_NAME_BREAKS = "".join(w for w in _NAME_STOP_WORDS if len(w) == 1)
NAME_MAX = 16  # characters a name after a context word may have (minority names are long)
EMAIL_MAX = 254  # characters of the longest e-mail address (RFC 5321), the longest value


@dataclass(frozen=True)
class Extractor:
    """One candidate pattern and the kinds its matches may be, tried in order."""

    name: str
    pattern: str
    kinds: tuple[str, ...]
    strip_prefix: str | None = None  # regex removed from the start of a match (context words)
    strip_suffix: str | None = None  # regex removed from the end (where the value stops)
    # Classified together with this extractor's candidates (one pass), where every failing value
    # of its own kinds is reported (invalid), not only near misses: a context word said what the
    # value is, and the other extractor's match of the same text is dropped.
    typed_with: str | None = None
    anchored: bool = False  # keep only on lines that also hold an identifier of another kind
    shape: str | None = None  # keep a match only when the whole of it has this shape


def _longest_first(words: tuple[str, ...]) -> tuple[str, ...]:
    """Context words in the order an alternation tries them: the longest first."""
    return tuple(sorted(words, key=len, reverse=True))


def _alternation(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in _longest_first(words)) + ")"


def _name_chars() -> str:
    """The characters a name after a context word is made of: the CJK ideographs and '·', but
    the one-character stop words."""
    ranges, lo = [], ord(CJK[0])
    for c in sorted(map(ord, _NAME_BREAKS)):
        if lo < c:
            ranges.append(f"{chr(lo)}-{chr(c - 1)}" if c - 1 > lo else chr(lo))
        lo = c + 1
    ranges.append(f"{chr(lo)}-{CJK[-1]}")
    return "[" + "".join(ranges) + "·]"


@cache
def _compound_surname() -> str:
    return "^(?:" + "|".join(sorted(surnames()[1])) + ")"


def _id_words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The resident ID's context words written in Chinese, and those in Latin letters."""
    words = KINDS["resident_id"].context_words
    return (
        tuple(w for w in words if not w[0].isascii()),
        tuple(w for w in words if w[0].isascii()),
    )


# An ID written 6-8-4 with separators, and any maximal run of digits (masks and a final X).
_SPACED_ID = r"[0-9]{6}[ \-][0-9]{8}[ \-][0-9]{3}[0-9Xx]"
_DIGIT_RUN = r"[0-9][0-9*]*[Xx]?"


@cache
def extractors() -> tuple[Extractor, ...]:
    """The extractors, built once from the kinds' own patterns and context words."""
    name_ctx = "(?i:" + _alternation(KINDS["person_name"].context_words) + ")"
    addr_ctx = "(?i:" + _alternation(KINDS["address"].context_words) + ")"
    id_words, id_latin = _id_words()
    # A Latin word only as a label: at the line's start or after punctuation or a Chinese
    # character (spaces between allowed), not after a word ("Order ID", "userid").
    latin = rf"(?:^\s*|[^0-9A-Za-z_\s]\s*)(?i:{_alternation(id_latin)})"
    id_ctx = f"(?:{_alternation(id_words)}|{latin})"
    sep = r"[:：=\s]*"
    digits = (
        # +86 / 0086 mobiles with separators, spaced mobiles, landlines with area code, spaced
        # cards; then any maximal run of digits (masks and a final X allowed).
        r"(?:\+86|0086|\+ 86)[ \-]?1[3-9][0-9][ \-]?[0-9*]{4}[ \-]?[0-9]{4}"
        r"|1[3-9][0-9][ \-][0-9*]{4}[ \-][0-9]{4}"
        rf"|{_SPACED_ID}"
        r"|(?:\+86[ \-]?|0086[ \-]?)?\(0?[1-9][0-9]{1,2}\)[ \-]?[0-9]{3,4}[ \-]?[0-9]{4}"
        r"|(?:\+86[ \-]?|0086[ \-]?)[1-9][0-9]{1,2}[ \-][0-9]{3,4}[ \-]?[0-9]{4}"
        r"|0[1-9][0-9]{1,2}[ \-][0-9]{3,4}[ \-]?[0-9]{4}"
        r"|[0-9]{4}(?:[ \-][0-9*]{4}){3}(?:[ \-][0-9]{1,3})?"
        rf"|{_DIGIT_RUN}"
    )
    return (
        # An ID-shaped token right after an ID context word ("身份证号：", "ID No.", "证件号为")
        # is an ID even when it fails a check: a forged sample's invalid rate shows in prose.
        Extractor(
            "id_ctx",
            rf"{id_ctx}[:：=#\s]*(?:是|为)?[:：=#\s]*(?:{_SPACED_ID}|{_DIGIT_RUN})",
            ("resident_id",),
            strip_prefix="^[^0-9]*",
            typed_with="digits",
        ),
        Extractor("digits", digits, ("resident_id", "mobile", "bank_card", "landline")),
        Extractor("email", KINDS["email"].pattern, ("email",)),
        Extractor("passport", KINDS["passport"].pattern, ("passport",)),
        Extractor("plate", KINDS["plate"].pattern, ("plate",)),
        Extractor(
            "name_ctx",
            f"{name_ctx}{sep}{_name_chars()}{{2,{NAME_MAX}}}",
            ("person_name",),
            strip_prefix=f"^{name_ctx}{sep}",
            strip_suffix=f"{_NAME_STOP}.*$",
        ),
        # A name standing alone between separators, as in pasted sample rows ("张伟 138…");
        # Chinese characters inside a longer token (an address's 单元) are not names.
        Extractor(
            "name_tok",
            TOKEN,
            ("person_name",),
            strip_prefix=f"^{name_ctx}{sep}",  # "车主王辉": the name is 王辉
            strip_suffix=_NAME_SUFFIX,
            anchored=True,
            shape=_NAME_TOKEN,
        ),
        Extractor(
            "addr_ctx",
            rf"{addr_ctx}{sep}[^\s,，。;；|、]{{4,80}}",
            ("address",),
            strip_prefix=f"^{addr_ctx}{sep}",
            strip_suffix=r"[0-9]{7,}.*$",
        ),
        Extractor("addr_tok", KINDS["address"].pattern, ("address",)),
    )


def fold_text(text: str) -> str:
    """Fold full-width digits and letters, so one pattern finds both widths, and blank out runs
    of dashes ("张伟----138…" separates fields); lengths in characters are kept. The compiled
    extractors fold each line the same way, from pii's table of folds."""
    return fold_width(text).replace("--", "  ")


STRONG = ("resident_id", "mobile", "bank_card", "email", "passport")
# A whole token that may be a name: 2-5 characters, or a minority name's parts joined by '·'.
_NAME_TOKEN = f"^(?:[{CJK}]{{2,5}}|[{CJK}]+(?:·[{CJK}]+)+)$"


@cache
def _failing_tiers(kind: str, all_failures: bool) -> tuple[dict[str, int | None], int | None]:
    """How a candidate that fails a check of ``kind`` still ranks as that kind: masked (1),
    near miss (2); other failures are not the kind at all, unless ``all_failures`` (a context
    word named the kind), where any failure but the wrong shape ranks 2. A valid candidate
    ranks 0. Returns the tiers of the reasons named and the tier of any other reason."""
    named = {Status.MASKED.value: 1, "bad_format": None}
    return named | dict.fromkeys(sorted(NEAR_MISS.get(kind, ())), 2), 2 if all_failures else None


def classify(
    cands: pl.DataFrame, kinds: tuple[str, ...], named: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Give each candidate (column ``cand``) the first kind it is valid for, else the first it is
    masked for, else the first it is a near miss of (right structure, wrong check digit).
    Candidates whose ``_ctx`` is true were named by a context word as one of ``named``: they are
    that kind whenever they have its shape, whatever check they fail.

    Kinds with ``run_lengths`` only see candidates with that many digits, so most numbers in a
    text (prices, dates, order numbers) never reach a validator. Returns the candidates that
    got a kind, with ``kind``, ``value``, ``reason`` (null when valid) and ``flag`` (a valid
    value's plausibility flag) added.
    """
    cands = cands.with_row_index("_cid")
    if "_ctx" not in cands.columns:
        named = ()
    decided = None
    if any(KINDS[k].run_lengths for k in kinds):
        decided, cands = _decided_by_codes(cands, kinds, named)
    parts = []
    for order, k in enumerate(kinds):
        kind = KINDS[k]
        sub = cands
        if kind.run_lengths:
            sub = sub.filter(pl.col("_len").is_in(sorted(kind.run_lengths)))
        checked = check_column(kind, sub.get_column("cand"))
        tier = _tier_expr(k, False)
        if k in named:  # a named candidate of its shape is this kind before any other
            tier = (
                pl.when(pl.col("_ctx") & _tier_expr(k, True).is_not_null()).then(-1).otherwise(tier)
            )
        sub = (
            sub.with_columns(checked.select("value", "reason", "flag"))
            .with_columns(kind=pl.lit(k), _rank=tier * len(kinds) + order)
            .drop_nulls("_rank")
        )
        parts.append(sub)
    best = pl.concat(parts).sort("_rank").unique("_cid", keep="first")
    best = best.drop([c for c in ("_len", "_rank", "_ctx") if c in best.columns])
    if decided is not None and decided.height:
        best = pl.concat([best, decided.select(best.columns)])
    return best.sort("_cid").drop("_cid")


def _tier_expr(kind: str, all_failures: bool) -> pl.Expr:
    """The tier (:func:`_failing_tiers`) of a checked candidate, from its ``reason``."""
    failing, other = _failing_tiers(kind, all_failures)
    return (
        pl.when(pl.col("reason").is_null())
        .then(0)
        .otherwise(
            pl.col("reason").replace_strict(
                list(failing), list(failing.values()), default=other, return_dtype=pl.Int64
            )
        )
    )


def _decided_by_codes(
    cands: pl.DataFrame, kinds: tuple[str, ...], named: tuple[str, ...]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Classify candidates by the kinds' compiled codes alone (the same ranking as
    :func:`classify`, in numpy); return those that got a kind, with ``value``, ``reason``,
    ``flag`` and ``kind``, and, with their digit count ``_len``, those left to the Polars rules
    (shapes the compiled checks leave alone, such as full-width digits)."""
    cand = cands.get_column("cand")
    arrow = cand.to_arrow()
    n_digits = np.frombuffer(_checks.count_chars(*arrow_args(arrow), b"0123456789*Xx"), np.uint8)
    size = len(n_digits)
    none = np.iinfo(np.int64).max
    best = np.full(size, none, np.int64)
    best_kind = np.zeros(size, np.int64)
    best_code = np.zeros(size, np.uint8)
    left = np.zeros(size, bool)
    values: dict[int, pa.Array] = {}
    ctx = cands.get_column("_ctx").to_numpy() if named else None
    for order, k in enumerate(kinds):
        kind = KINDS[k]
        applies = np.isin(n_digits, sorted(kind.run_lengths)) if kind.run_lengths else True
        got = kind.column_codes(arrow) if kind.FAST_REASONS else None
        if got is None:
            left |= applies
            continue
        codes, normal = got
        values[order] = arrow if normal is None else normal
        left |= applies & ((codes == SLOW_CODE) | (codes == FINISH_CODE))
        tier = np.full(size, none, np.int64)
        tier[(codes == 0) | _flag_codes(kind, codes)] = 0
        failing, other = _failing_tiers(k, False)
        failing_all, other_all = _failing_tiers(k, True)
        for i, reason in enumerate(kind.FAST_REASONS, 1):
            if (rank := failing.get(reason, other)) is not None:
                tier[codes == i] = rank
            if ctx is not None and k in named and failing_all.get(reason, other_all) is not None:
                tier[(codes == i) & ctx] = -1
        if ctx is not None and k in named:
            tier[ctx & (tier == 0)] = -1
        rank = np.where(applies & (tier < none), tier * len(kinds) + order, none)
        better = rank < best
        best = np.where(better, rank, best)
        best_kind = np.where(better, order, best_kind)
        best_code = np.where(better, codes, best_code)
    keep = ~left & (best < none)
    rows = np.flatnonzero(keep)
    chosen = best_kind[rows]
    # each decided row's normalised value, from its kind's array, back in row order
    parts = [np.flatnonzero(chosen == order) for order in range(len(kinds))]
    picked = [
        pl.Series(values[order]).gather(pl.Series(rows[p]))
        for order, p in enumerate(parts)
        if p.size
    ]
    order_back = pl.Series(np.argsort(np.concatenate(parts), kind="stable"))
    value = pl.concat(picked).gather(order_back) if picked else pl.Series([], dtype=pl.String)
    # each kind's reasons then flags, numbered as its codes are, one list over all kinds
    names = [*(r for k in kinds for r in (*KINDS[k].FAST_REASONS, *KINDS[k].FLAGS))]
    n_reasons = np.array([len(KINDS[k].FAST_REASONS) for k in kinds])
    starts = np.cumsum([0] + [len(KINDS[k].FAST_REASONS) + len(KINDS[k].FLAGS) for k in kinds])
    codes = best_code[rows].astype(np.int64)
    index = np.where(codes == 0, -1, starts[chosen] + codes - 1)
    flagged = codes > n_reasons[chosen]
    reason_index, flag_index = np.where(flagged, -1, index), np.where(flagged, index, -1)
    decided = cands.filter(pl.Series(keep)).with_columns(
        value.alias("value"),
        *(
            pl.Series(col, at).replace_strict(
                list(range(len(names))), names, default=None, return_dtype=pl.String
            )
            for col, at in (("reason", reason_index), ("flag", flag_index))
        ),
        pl.Series("kind", chosen).replace_strict(
            list(range(len(kinds))), list(kinds), return_dtype=pl.String
        ),
    )
    rest = cands.with_columns(_len=pl.Series(n_digits)).filter(pl.Series(left))
    return decided, rest


def _flag_codes(kind: Kind, codes: np.ndarray) -> np.ndarray:
    """Where the compiled ``codes`` of ``kind`` say valid with a plausibility flag."""
    first = len(kind.FAST_REASONS) + 1
    return (codes >= first) & (codes < first + len(kind.FLAGS))


def _post(ex: Extractor, e: pl.Expr) -> pl.Expr:
    if ex.strip_prefix:
        e = e.str.replace(ex.strip_prefix, "")
    if ex.strip_suffix:
        e = e.str.replace(ex.strip_suffix, "")
    return e


def status_expr(reason: pl.Expr) -> pl.Expr:
    """valid / masked / invalid from a reason column (null = valid)."""
    return (
        pl.when(reason.is_null())
        .then(pl.lit(Status.VALID.value))
        .when(reason == Status.MASKED.value)
        .then(pl.lit(Status.MASKED.value))
        .otherwise(pl.lit(Status.INVALID.value))
    )


def _resolve(cands: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Classify each extractor's candidates (``line``, ``raw``, …); anchored extractors only run
    on lines that hold an identifier of another kind (a name beside an ID, phone or address).
    Repeats of one value in one line are dropped (two extractors often find the same name),
    and a value a context word typed is not typed again as another kind."""
    done: list[pl.DataFrame] = []
    anchors: list[np.ndarray] = []  # lines with a valid or masked identifier other than a name
    cands = _with_named(cands)
    for ex in sorted(extractors(), key=lambda e: e.anchored):  # anchored ones last
        sub = cands.get(ex.name)
        if ex.typed_with or sub is None or sub.height == 0:
            continue
        if ex.anchored:
            sub = _on_lines(sub, anchors)
        if "cand" not in sub.columns:
            sub = sub.with_columns(cand=_post(ex, pl.col("raw")))
        if ex.kinds == ("person_name",):
            sub = sub.filter(
                ~pl.col("cand").str.replace(_compound_surname(), "").str.contains(_NOT_NAME)
            )
        if ex.kinds[0] in STRONG:
            named = tuple(k for e in extractors() if e.typed_with == ex.name for k in e.kinds)
            got = classify(sub, ex.kinds, named)
        else:
            # Names and addresses repeat (common names, one street for many people): classify
            # each distinct candidate once.
            kinds = classify(sub.select("cand").unique(), ex.kinds)
            got = sub.join(kinds, on="cand", how="inner", maintain_order="left")
        done.append(got)
        if "person_name" not in ex.kinds:
            shown = pl.col("reason").is_null() | (pl.col("reason") == Status.MASKED.value)
            anchors.append(got.filter(shown).get_column("line").to_numpy())
    if not done:
        return _EMPTY_FOUND
    found = _drop_repeats(pl.concat(done, how="vertical_relaxed"))
    return found.with_columns(status=status_expr(pl.col("reason")))


def _with_named(cands: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Put each context extractor's candidates (an ID after "身份证号") first among those of the
    extractor it is typed with, marked ``_ctx``, with ``cand`` set; that extractor's match of
    the same text in the same line is dropped, so the value is classified once."""
    cands = dict(cands)
    by_name = {ex.name: ex for ex in extractors()}
    for ex in extractors():
        named = cands.get(ex.name)
        if ex.typed_with is None or named is None or named.height == 0:
            continue
        named = named.with_columns(cand=_post(ex, pl.col("raw")), _ctx=pl.lit(True))
        other = cands.get(ex.typed_with)
        if other is not None and other.height:
            other = other.with_columns(
                cand=_post(by_name[ex.typed_with], pl.col("raw")), _ctx=pl.lit(False)
            )
            near = _line_mask(other, [named.get_column("line").to_numpy()])
            if near.any():  # only rows on lines with a named value can repeat one
                at = np.flatnonzero(near)
                both = pl.concat([named.select("line", "cand"), other[at].select("line", "cand")])
                first = both.select(pl.struct("line", "cand").is_first_distinct()).to_series()
                near[at] = ~first.to_numpy()[named.height :]
                other = other.filter(pl.Series(~near))
            named = pl.concat([named, other.select(named.columns)])
        cands[ex.typed_with] = named
    return cands


def _on_lines(sub: pl.DataFrame, lines: list[np.ndarray]) -> pl.DataFrame:
    """The rows of ``sub`` whose ``line`` is among ``lines``."""
    return sub.filter(pl.Series(_line_mask(sub, lines)))


def _line_mask(sub: pl.DataFrame, lines: list[np.ndarray]) -> np.ndarray:
    """Where the ``line`` of ``sub`` is among ``lines`` (line numbers of one batch, so a mask
    over their range replaces a hash join)."""
    wanted = np.concatenate(lines) if lines else np.empty(0, np.int64)
    line = sub.get_column("line").to_numpy()
    keep = np.zeros(line.size, bool)
    if wanted.size == 0:
        return keep
    lo, hi = int(wanted.min()), int(wanted.max())
    mask = np.zeros(hi - lo + 1, bool)
    mask[wanted - lo] = True
    inside = (line >= lo) & (line <= hi)
    keep[inside] = mask[line[inside] - lo]
    return keep


def _drop_repeats(found: pl.DataFrame) -> pl.DataFrame:
    """Keep the first row of each (line, kind, value). A row alone with its kind in its line is
    unique (counted over line and kind codes in numpy); only the rest are compared in full."""
    if found.height < 2:
        return found
    line = found.get_column("line").to_numpy()
    kind = found.get_column("kind").cast(pl.Enum(list(KINDS))).to_physical().to_numpy()
    lo = int(line.min())
    key = (line - lo) * len(KINDS) + kind
    maybe = np.bincount(key)[key] > 1
    if not maybe.any():
        return found
    at = np.flatnonzero(maybe)
    first = found.select("line", "kind", "value")[at].select(
        pl.struct("line", "kind", "value").is_first_distinct()
    )
    keep = ~maybe
    keep[at] = first.to_series().to_numpy()
    return found.filter(pl.Series(keep))


_EMPTY_FOUND = pl.DataFrame(
    schema={
        "line": pl.Int64,
        "raw": pl.String,
        "cand": pl.String,
        "kind": pl.String,
        "value": pl.String,
        "reason": pl.String,
        "flag": pl.String,
        "status": pl.String,
    }
)


PARALLEL_LINES = 50_000  # below this, one thread does the whole batch


@cache
def _threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="leaktrace-scan")


FOUND = ("line", "kind", "value", "status", "reason", "flag")  # the columns of what is found


def find_in_piece(piece: pl.DataFrame, own: tuple[int, int]) -> pl.DataFrame:
    """:func:`find_in_lines` for one piece of an over-long line (``piece`` holds one line) that
    overlaps its neighbours: only matches starting in its ``own`` characters ``[start, end)``
    are kept, so a value in an overlap is found once, whole, by the piece it starts in."""
    lo, hi = own
    cands = {
        name: frame.filter(pl.col("start").is_between(lo, hi, closed="left")).drop("start")
        for name, frame in candidates(piece, starts=True).items()
    }
    return _resolve(cands).select(FOUND)


def longest_match() -> int:
    """The most characters one extractor's match can span and still give an identifier: its
    pattern's widest match, each open-ended repeat (a run of digits, separators or an
    e-mail's characters) taken as at most the longest value of any kind, an e-mail address
    of 254 characters (RFC 5321, the email kind's own limit)."""
    return max(_widest(re._parser.parse(ex.pattern), EMAIL_MAX) for ex in extractors())  # type: ignore[attr-defined]


def _widest(pattern: object, open_ended: int) -> int:
    """The widest match of a parsed regex (``re._parser``), an unbounded repeat counting
    ``open_ended`` characters in all."""
    total = 0
    for op, arg in pattern:  # type: ignore[attr-defined]
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
            total += 1
        elif name == "SUBPATTERN":
            total += _widest(arg[-1], open_ended)
        elif name == "BRANCH":
            total += max(_widest(branch, open_ended) for branch in arg[1])
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _, high, item = arg
            unbounded = high == re._parser.MAXREPEAT  # type: ignore[attr-defined]
            total += open_ended if unbounded else high * _widest(item, open_ended)
        elif name == "ATOMIC_GROUP":
            total += _widest(arg, open_ended)
    return total


def find_in_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Bulk span finding. ``lines`` has ``line`` (int) and ``text``; returns one row per
    identifier with ``line, kind, value, status, reason, flag``.

    Every step works line by line, so a large batch is cut into one slice per core and the
    slices run in threads (Polars releases the GIL); the result is the same."""
    parts = pl.thread_pool_size()  # 1 in a scan worker (one per core)
    if parts == 1 or lines.height < PARALLEL_LINES:
        return _find_in_lines(lines)
    size = -(-lines.height // parts)
    slices = [lines.slice(i * size, size) for i in range(parts)]
    return pl.concat(list(_threads().map(_find_in_lines, slices)))


def _find_in_lines(lines: pl.DataFrame) -> pl.DataFrame:
    return _resolve(candidates(lines)).select(FOUND)


def candidates(lines: pl.DataFrame, starts: bool = False) -> dict[str, pl.DataFrame]:
    """Each extractor's matches in ``lines`` (``line``, ``text``) as frames of ``line`` and
    ``raw`` (the folded match), with ``start`` (its character offset in the line) if asked."""
    text = lines.get_column("text").to_arrow()
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    line = lines.get_column("line").cast(pl.Int64)
    found = _extract.extract(*arrow_args(text), *_extract_args(), starts)
    cands = {}
    for name, (rows, start, offsets, data) in zip(_extract.EXTRACTORS, found, strict=True):
        raw = pa.Array.from_buffers(
            pa.large_string(), len(rows) // 8, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
        frame = {"line": line.gather(pl.Series(np.frombuffer(rows, np.int64))), "raw": raw}
        if starts:
            frame["start"] = np.frombuffer(start, np.int64)
        cands[name] = pl.DataFrame(frame)
    return cands


@cache
def _extract_args() -> tuple[object, ...]:
    """What the compiled extractors are built from: the context words in the regexes' order
    (names', addresses', and IDs' in Chinese and in Latin letters), the province names and street markers of addresses, plate provinces and suffixes, the
    fewest digits any digit kind has (shorter runs are no digit kind's run length), the
    width folding, and what a name after a context word is made of."""
    digit_kinds = next(ex.kinds for ex in extractors() if ex.name == "digits")
    return (
        _longest_first(KINDS["person_name"].context_words),
        _longest_first(KINDS["address"].context_words),
        *map(_longest_first, _id_words()),
        PROVINCE_SHORT_NAMES,
        STREET_MARKERS,
        "".join(PROVINCES),
        SUFFIX,
        min(n for k in digit_kinds for n in KINDS[k].run_lengths),
        "".join(FOLD),
        "".join(FOLD.values()),
        _NAME_BREAKS,
        NAME_MAX,
    )


def find_spans(text: str) -> list[Span]:
    """Identifiers in one text with their character offsets, for a person or a test to read;
    :func:`find_spans_many` for many texts at once (much faster than one call a text)."""
    return find_spans_many([text])[0]


def find_spans_many(texts: Sequence[str]) -> list[list[Span]]:
    """Identifiers with their character offsets in each of ``texts``, found in one pass.

    Each line counts as one record, as in the bulk path; full-width characters are folded
    first (one character for one, so offsets hold)."""
    lines: list[str] = []
    doc: list[int] = []
    line_start: list[int] = []
    for d, text in enumerate(texts):
        at = 0
        for line in text.split("\n"):
            lines.append(line)
            doc.append(d)
            line_start.append(at)
            at += len(line) + 1
    spans: list[list[Span]] = [[] for _ in texts]
    frame = pl.DataFrame({"line": np.arange(len(lines), dtype=np.int64), "text": lines})
    found = _resolve(candidates(frame, starts=True))
    for r in found.iter_rows(named=True):
        offset = r["raw"].find(r["cand"]) if r["cand"] else 0
        start = line_start[r["line"]] + r["start"] + max(offset, 0)
        spans[doc[r["line"]]].append(
            Span(
                r["kind"],
                start,
                start + len(r["cand"]),
                r["value"],
                r["status"],
                r["reason"],
                r["flag"],
            )
        )
    for found_in in spans:
        found_in.sort(key=lambda s: (s.start, s.kind))
    return spans
