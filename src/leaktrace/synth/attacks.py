"""What leakers do to a copy before it surfaces: every attack of ``docs/trace.md`` §3, each a pure
function of a :class:`Leak` and a seeded numpy Generator returning a new :class:`Leak` whose
``truth`` says, row by row, which customer it is and whose copy it came from.

The attacks work on the text as written, as a leaker's spreadsheet or script would: they never
look at the marks or the secret, except :func:`rewrite_slots`, the leaker who has read the slot
list (it is public) and rewrites every slot it finds. Every attack takes the Generator, whether
it draws from it or not, so that any of them can be one hand of :func:`resale`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from leaktrace import pii
from leaktrace.report.files import write_atomic
from leaktrace.synth.people import draw_people
from leaktrace.trace import variants

#: Truth columns: the customer a row is (null for canaries and fabricated people), the shares
#: whose copies it came from (empty for padding and master rows) and what it is.
TRUTH_SCHEMA = {"customer": pl.Int64, "sources": pl.List(pl.String), "origin": pl.String}
ORIGINS = ("copy", "canary", "master", "other", "fabricated")
#: Headers other systems give each kind, for :func:`rename_headers`.
OTHER_HEADERS = {
    "person_name": ("客户姓名", "户名", "name", "XM", "联系人"),
    "resident_id": ("证件号码", "身份证", "sfzh", "ID_NO", "证件号"),
    "sex": ("性别", "xb", "gender"),
    "birth_date": ("出生年月", "生日", "csrq", "birthday"),
    "mobile": ("手机", "联系电话", "sjhm", "phone", "电话"),
    "bank_card": ("卡号", "账号", "card", "银行账号", "kh"),
    "address": ("地址", "住址", "家庭住址", "addr", "通讯地址"),
}
#: Fields of synth.people by kind, for fabricated records.
PEOPLE_FIELDS = {
    "person_name": "name",
    "resident_id": "resident_id",
    "sex": "sex",
    "birth_date": "birth_date",
    "mobile": "mobile",
    "bank_card": "card_no",
    "address": "address",
}
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class Leak:
    """A leaked list (text columns), its truth row by row, each column's kind, the encoding
    it is written in and the attacks applied so far."""

    frame: pl.DataFrame
    truth: pl.DataFrame
    kinds: dict[str, str]
    encoding: str = "utf-8"
    steps: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.frame.height != self.truth.height:
            raise ValueError("a leak's truth must have one row per leaked row")
        if set(self.kinds) != set(self.frame.columns):
            raise ValueError("a leak names the kind of each of its columns")

    @property
    def height(self) -> int:
        return self.frame.height

    def _with(self, frame: pl.DataFrame, truth: pl.DataFrame, step: str, **kw: object) -> Leak:
        kinds = {c: self.kinds[c] for c in frame.columns} if "kinds" not in kw else kw.pop("kinds")
        return replace(self, frame=frame, truth=truth, kinds=kinds, steps=(*self.steps, step), **kw)

    def records(self) -> pl.DataFrame:
        """The leak as ``trace.attribute`` takes it with links from the ground truth: the
        customer number (null where none) and the raw strings in columns named by kind."""
        return (
            self.frame.rename(self.kinds)
            .with_columns(self.truth["customer"])
            .select("customer", *self.kinds.values())
        )

    def sources(self) -> set[str]:
        """Every share id some row of the leak came from."""
        return set(self.truth["sources"].explode().drop_nulls().to_list())

    def write(self, path: str | Path) -> None:
        """Write the leak as a CSV file in its encoding (atomically)."""
        write_atomic(path, self.frame.write_csv().encode(self.encoding))


def _truth(
    customers: Sequence[int | None], sources: Sequence[list[str]], origin: Sequence[str]
) -> pl.DataFrame:
    return pl.DataFrame(
        {"customer": customers, "sources": sources, "origin": origin}, schema=TRUTH_SCHEMA
    )


def from_copy(copy: pl.DataFrame, share_id: str, roles: Mapping[str, str]) -> Leak:
    """A recipient's whole copy (text columns and ``customer``, null on canary rows, as
    ``TraceWorld.copy`` gives it) as a leak; ``roles`` names the kind of the copy's columns."""
    customers = copy["customer"].to_list()
    columns = [c for c in copy.columns if c != "customer"]
    truth = _truth(
        customers,
        [[share_id]] * copy.height,
        ["copy" if c is not None else "canary" for c in customers],
    )
    return Leak(copy.select(columns), truth, {c: roles[c] for c in columns})


def from_master(
    master: pl.DataFrame,
    customer_column: str,
    roles: Mapping[str, str],
    customers: Sequence[int],
    origin: str = "master",
) -> Leak:
    """The ``customers``' rows as the master writes them (an insider's export, or another
    source's records of the same people): no share's marks."""
    if origin not in ("master", "other"):
        raise ValueError("master rows are a master export or other real records")
    rows = master.filter(pl.col(customer_column).is_in(list(customers)))
    columns = [c for c in master.columns if c in roles]
    truth = _truth(rows[customer_column].to_list(), [[]] * rows.height, [origin] * rows.height)
    frame = rows.select(pl.col(c).cast(pl.String) for c in columns)
    return Leak(frame, truth, {c: roles[c] for c in columns})


def fabricated(rng: np.random.Generator, n: int, kinds: Collection[str], as_of: dt.date) -> Leak:
    """``n`` made-up people (synth.people, drawn apart from any master) with columns named by
    kind: the filler of fabricated lists and of padding."""
    people = draw_people(rng, n, as_of).with_columns(
        pl.col("sex").replace_strict({"M": "男", "F": "女"}),
        pl.col("birth_date").dt.to_string("%Y-%m-%d"),
    )
    columns = [k for k in PEOPLE_FIELDS if k in kinds]
    frame = people.select(pl.col(PEOPLE_FIELDS[k]).cast(pl.String).alias(k) for k in columns)
    truth = _truth([None] * n, [[]] * n, ["fabricated"] * n)
    return Leak(frame, truth, {k: k for k in columns}, steps=("fabricated",))


def _take(leak: Leak, rows: np.ndarray, step: str) -> Leak:
    idx = pl.Series(rows, dtype=pl.Int64)
    return leak._with(leak.frame[idx], leak.truth[idx], step)


def subset(leak: Leak, rng: np.random.Generator, n: int) -> Leak:
    """A random sample of ``n`` records (all of them, shuffled, if there are fewer)."""
    rows = rng.permutation(leak.height)[: max(0, n)]
    return _take(leak, rows, f"subset {rows.size}")


def shuffle(leak: Leak, rng: np.random.Generator) -> Leak:
    """The records in another order."""
    return _take(leak, rng.permutation(leak.height), "shuffle")


def drop_columns(
    leak: Leak, rng: np.random.Generator, kinds: Collection[str] | None = None, count: int = 1
) -> Leak:
    """Without the columns of ``kinds``, or, when None, of ``count`` kinds drawn at random
    (one column always stays)."""
    if kinds is None:
        present = sorted(leak.kinds.values())
        kinds = set(rng.choice(present, size=min(count, len(present) - 1), replace=False).tolist())
    keep = [c for c in leak.frame.columns if leak.kinds[c] not in kinds]
    if not keep:
        raise ValueError("dropping every column leaves no leak")
    return leak._with(leak.frame.select(keep), leak.truth, f"drop {','.join(sorted(kinds))}")


def rename_headers(leak: Leak, rng: np.random.Generator) -> Leak:
    """Other headers (another system's, Chinese, pinyin initials or English) in another
    column order."""
    new = {}
    for column in leak.frame.columns:
        options = [h for h in OTHER_HEADERS[leak.kinds[column]] if h not in new.values()]
        new[column] = str(rng.choice(options))
    order = [leak.frame.columns[i] for i in rng.permutation(leak.frame.width)]
    frame = leak.frame.select(order).rename(new)
    kinds = {new[c]: leak.kinds[c] for c in order}
    return leak._with(frame, leak.truth, "rename headers", kinds=kinds)


def _map_kind(leak: Leak, kind: str, f: Callable[[str], str]) -> pl.DataFrame:
    """The frame with ``f`` applied to every value of the columns of ``kind``."""
    return leak.frame.with_columns(
        pl.col(c).map_elements(f, return_dtype=pl.String)
        for c in leak.frame.columns
        if leak.kinds[c] == kind
    )


def _regroup_mobile(value: str) -> str:
    normal = pii.normalize("mobile", value)
    return value if normal is None else f"{normal[:3]}-{normal[3:7]}-{normal[7:]}"


def _regroup_card(value: str) -> str:
    normal = pii.normalize("bank_card", value)
    return value if normal is None else f"{normal[:6]} {normal[6:]}"


def _plain(kind: str) -> Callable[[str], str]:
    def plain(value: str) -> str:
        return pii.normalize(kind, value) or value

    return plain


def reformat(
    leak: Leak, rng: np.random.Generator, ids: str = "upper", digits: str = "plain"
) -> Leak:
    """IDs upper- or lower-cased (``ids``: upper, lower or keep) and cards and mobiles written as
    plain digits or regrouped (``digits``: plain, regroup or keep; regrouped is 3-4-4 with
    dashes for mobiles and 6+rest for cards, neither writing a share uses)."""
    out = leak
    case = {"upper": str.upper, "lower": str.lower}.get(ids)
    if case is not None:
        out = out._with(_map_kind(out, "resident_id", case), out.truth, f"ids {ids}")
    if digits != "keep":
        for kind, regroup in (("mobile", _regroup_mobile), ("bank_card", _regroup_card)):
            f = _plain(kind) if digits == "plain" else regroup
            out = out._with(_map_kind(out, kind, f), out.truth, f"{kind} {digits}")
    return out


def _mask_digits(value: str, keep_head: int, keep_tail: int, total: int | None) -> str:
    """``value`` with the characters between the first ``keep_head`` and last ``keep_tail`` of
    its last ``total`` digits (an ID's X counting as one; all of them when None) replaced by *,
    separators kept. A value with fewer such characters is left as it is."""
    places = [m.start() for m in re.finditer(r"[0-9Xx]", value)]
    places = places[-total:] if total else places
    if len(places) < (total or keep_head + keep_tail + 1):
        return value
    chars = list(value)
    for i in places[keep_head : len(places) - keep_tail]:
        chars[i] = "*"
    return "".join(chars)


#: (kept at the start, kept at the end, length: the ID's 18, the mobile's 11 after any +86,
#: every digit of a card) of each kind's masking, as Chinese apps mask.
MASKS: dict[str, tuple[int, int, int | None]] = {
    "resident_id": (6, 4, 18),
    "mobile": (3, 4, 11),
    "bank_card": (4, 4, None),
}


def mask(
    leak: Leak,
    rng: np.random.Generator,
    kinds: Collection[str] = ("resident_id", "mobile"),
    fraction: float = 1.0,
) -> Leak:
    """IDs, mobiles or cards masked as apps show them (110105********002X, 138****8000,
    6222 **** **** 1234: separators kept), in a ``fraction`` of the rows."""
    chosen = pl.Series(rng.random(leak.height) < fraction)
    frame = leak.frame
    for column in frame.columns:
        kind = leak.kinds[column]
        if kind in kinds and kind in MASKS:
            head, tail, total = MASKS[kind]
            masked = frame[column].map_elements(
                lambda v, h=head, t=tail, n=total: _mask_digits(v, h, t, n),
                return_dtype=pl.String,
            )
            frame = frame.with_columns(
                pl.when(chosen).then(masked).otherwise(pl.col(column)).alias(column)
            )
    return leak._with(frame, leak.truth, f"mask {','.join(sorted(kinds))} {fraction:g}")


def _canonical_address(value: str, haolou: bool) -> str:
    offered = variants.slots("address", value)
    written = variants.apply("address", value, dict.fromkeys(offered, 0))
    return re.sub("[栋幢]", "号楼", written) if haolou else written


def canonicalise_addresses(leak: Leak, rng: np.random.Generator, haolou: bool = False) -> Leak:
    """Addresses through a standardising geocoder: full province and city names, 栋, 单元, 室
    and 号 everywhere (every slot one fixed writing); with ``haolou`` buildings as 号楼."""
    frame = _map_kind(leak, "address", lambda v: _canonical_address(v, haolou))
    return leak._with(frame, leak.truth, "canonicalise addresses" + (" 号楼" if haolou else ""))


def reencode(leak: Leak, rng: np.random.Generator, encoding: str = "gbk") -> Leak:
    """The leak saved and read back in ``encoding`` (GBK, GB18030, UTF-8): what a round trip
    keeps; ValueError if a value cannot be written in it."""
    try:
        data = leak.frame.write_csv().encode(encoding)
    except UnicodeEncodeError:
        raise ValueError(f"the leak has a character {encoding} cannot hold") from None
    frame = pl.read_csv(io.BytesIO(data.decode(encoding).encode()), infer_schema=False)
    frame = frame.select(pl.col(c).cast(pl.String) for c in frame.columns)
    return leak._with(frame, leak.truth, f"re-encode {encoding}", encoding=encoding)


def fullwidth(leak: Leak, rng: np.random.Generator, fraction: float = 0.3) -> Leak:
    """Digits turned full-width (０-９) in a ``fraction`` of the values, as some input methods
    type them."""
    table = str.maketrans("0123456789", "０１２３４５６７８９")
    frame = leak.frame
    for column in frame.columns:
        chosen = pl.Series(rng.random(leak.height) < fraction)
        wide = frame[column].map_elements(lambda v: v.translate(table), return_dtype=pl.String)
        frame = frame.with_columns(
            pl.when(chosen).then(wide).otherwise(pl.col(column)).alias(column)
        )
    return leak._with(frame, leak.truth, f"full-width {fraction:g}")


def excel_numbers(leak: Leak, rng: np.random.Generator) -> Leak:
    """Card and ID columns opened in Excel and saved: plain digit strings of 16 or more become
    numbers, shown as 6.22209E+18 (unreadable), and an ID's last digits as zeros."""

    def as_number(value: str) -> str:
        if not value.isdigit() or len(value) < 12:
            return value
        return f"{float(value):.5E}"

    out = leak
    for kind in ("bank_card", "resident_id"):
        out = out._with(_map_kind(out, kind, as_number), out.truth, f"excel {kind}")
    return out


def rewrite_slots(leak: Leak, rng: np.random.Generator, constant: int | None = None) -> Leak:
    """The leaker who knows the slot list: every slot a value offers rewritten at random (or to
    ``constant``), erasing the code but accusing no one."""

    def rewrite(kind: str) -> Callable[[str], str]:
        def f(value: str) -> str:
            offered = variants.slots(kind, value)
            if not offered:
                return value
            bits = (
                rng.integers(0, 2, len(offered)) if constant is None else [constant] * len(offered)
            )
            return variants.apply(kind, value, dict(zip(offered, map(int, bits), strict=True)))

        return f

    out = leak
    for kind in variants.SLOTS:
        out = out._with(_map_kind(out, kind, rewrite(kind)), out.truth, f"rewrite {kind} slots")
    return out


def _holders(leaks: Sequence[Leak]) -> pl.DataFrame:
    """Every copy row with a customer: leak index, row, customer and sources."""
    return pl.concat(
        leak.truth.with_row_index("row")
        .with_columns(pl.lit(i, dtype=pl.Int64).alias("leak"))
        .filter(pl.col("customer").is_not_null())
        for i, leak in enumerate(leaks)
    )


def combine(leaks: Sequence[Leak], rng: np.random.Generator, how: str = "union") -> Leak:
    """Colluders' lists merged by customer: ``union`` (every customer any of them had),
    ``intersection`` (those all had) or ``majority`` (those most had). Each value of a customer
    two or more had is one holder's at random (union, intersection) or the most common writing
    (majority, ties at random), among the holders whose list has that column. The result has
    every kind any list has (empty where no holder had it), in order of first appearance."""
    if how not in ("union", "intersection", "majority"):
        raise ValueError("colluders combine by union, intersection or majority")
    if len(leaks) < 2:
        raise ValueError("a coalition has at least two lists")
    kinds = list(dict.fromkeys(k for leak in leaks for k in leak.kinds.values()))
    by_kind = [{k: c for c, k in leak.kinds.items()} for leak in leaks]
    rows = _holders(leaks)
    held = rows.group_by("customer").agg("leak", "row", pl.col("sources").explode())
    need = {"union": 1, "intersection": len(leaks), "majority": len(leaks) // 2 + 1}[how]
    held = held.filter(pl.col("leak").list.len() >= need).sort("customer")
    values: dict[str, list[str | None]] = {k: [] for k in kinds}
    for holders, at in zip(held["leak"].to_list(), held["row"].to_list(), strict=True):
        for k in kinds:
            written = [
                leaks[i].frame[by_kind[i][k]][r]
                for i, r in zip(holders, at, strict=True)
                if k in by_kind[i]
            ]
            values[k].append(_choose(written, rng, how == "majority") if written else None)
    frame = pl.DataFrame(values, schema=dict.fromkeys(kinds, pl.String))
    sources = [sorted(set(s)) for s in held["sources"].to_list()]
    truth = _truth(held["customer"].to_list(), sources, ["copy"] * held.height)
    merged = Leak(frame, truth, {k: k for k in kinds}, steps=(f"{how} of {len(leaks)}",))
    return shuffle(merged, rng)


def _choose(written: list[str | None], rng: np.random.Generator, majority: bool) -> str | None:
    """One holder's writing at random, or the most common one (ties at random)."""
    if not majority:
        return written[int(rng.integers(len(written)))]
    counts = Counter(written)
    top = max(counts.values())
    best = [w for w, k in counts.items() if k == top]
    return best[int(rng.integers(len(best)))]


def pad(leak: Leak, rng: np.random.Generator, other: Leak, fraction: float = 0.3) -> Leak:
    """The leak padded with ``fraction`` × its size of ``other``'s records (fabricated people,
    or other real records), matched by kind, then shuffled."""
    n = min(other.height, round(fraction * leak.height))
    picked = pl.Series(rng.choice(other.height, size=n, replace=False), dtype=pl.Int64)
    rows = other.frame[picked]
    by_kind = {k: c for c, k in other.kinds.items()}
    filler = pl.DataFrame(
        {c: rows[by_kind[k]] if k in by_kind else [None] * n for c, k in leak.kinds.items()},
        schema=dict.fromkeys(leak.frame.columns, pl.String),
    )
    origin = other.truth["origin"][0] if other.height else "other"
    padded = leak._with(
        pl.concat([leak.frame, filler]),
        pl.concat([leak.truth, other.truth[picked]]),
        f"pad {n} {origin}",
    )
    return _take(padded, rng.permutation(padded.height), "shuffle")


@dataclass(frozen=True)
class NameIdCheck:
    """A paid 二要素 service: answers whether a name and a resident ID are a real pair (here,
    a pair of ``people``: a frame with columns person_name and resident_id)."""

    pairs: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, people: pl.DataFrame) -> NameIdCheck:
        ids = people["resident_id"].map_elements(
            lambda v: pii.normalize("resident_id", v), return_dtype=pl.String
        )
        return cls(frozenset(zip(people["person_name"].to_list(), ids.to_list(), strict=True)))

    def answers(self, name: str | None, resident_id: str | None) -> bool | None:
        """True for a real pair, False for none, None when it cannot be asked (a masked or
        missing ID or name)."""
        normal = pii.normalize("resident_id", resident_id) if resident_id else None
        if not name or normal is None or "*" in normal:
            return None
        return (name.strip(), normal) in self.pairs


def canary_filter(leak: Leak, rng: np.random.Generator, check: NameIdCheck) -> Leak:
    """Records whose name and ID the check says are no real pair dropped (canaries, most
    fabricated people); records it cannot check are kept. Without both columns, nothing."""
    by_kind = {k: c for c, k in leak.kinds.items()}
    if not {"person_name", "resident_id"} <= by_kind.keys():
        return leak._with(leak.frame, leak.truth, "name+ID check (not possible)")
    names = leak.frame[by_kind["person_name"]].to_list()
    ids = leak.frame[by_kind["resident_id"]].to_list()
    keep = [check.answers(n, i) is not False for n, i in zip(names, ids, strict=True)]
    rows = np.flatnonzero(keep)
    return _take(leak, rows, f"name+ID check kept {rows.size}")


Attack = Callable[[Leak, np.random.Generator], Leak]


def resale(leak: Leak, rng: np.random.Generator, hands: Sequence[Attack]) -> Leak:
    """The leak passed through several hands, each applying its attack in turn."""
    for hand in hands:
        leak = hand(leak, rng)
    return leak


def stale(
    master: pl.DataFrame,
    rng: np.random.Generator,
    roles: Mapping[str, str],
    fraction: float = 0.2,
    as_of: dt.date = dt.date(2026, 6, 30),
) -> tuple[pl.DataFrame, pl.Series]:
    """The master some years after a share: a ``fraction`` of customers moved and changed
    mobile (new values from synth.people), so a leak of the old copy carries values the master
    no longer holds. Returns the new master and, per master row, whether it changed."""
    changed = rng.random(master.height) < fraction
    fresh = draw_people(rng, int(changed.sum()), as_of)
    rows = pl.Series(np.flatnonzero(changed))
    out = master
    for column, kind in roles.items():
        if kind in ("address", "mobile") and column in master.columns:
            values = master[column].scatter(rows, fresh[PEOPLE_FIELDS[kind]])
            out = out.with_columns(values.alias(column))
    return out, pl.Series("changed", changed)
