"""``make_leak``: leaks made the way real ones are, each with its exact ground truth.

A leak starts from what left the bank (part of one recipient's share, an insider's exports, a
merge of several lists, or nothing at all for a fabricated list), takes the values as they were
on the snapshot date, and is then optionally padded with another institution's customers and
reformatted by whoever resold it. Every step is recorded, row by row where it touches rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import polars as pl

from leaktrace.synth.activity import EMPLOYEE_EXPORT_COLUMNS
from leaktrace.synth.people import draw_people
from leaktrace.synth.world import World

KINDS = ("share", "employee", "union", "stale", "reformatted", "padded", "fabricated")
HEADERS_ZH = {
    "name": "姓名",
    "resident_id": "身份证号",
    "mobile": "手机号",
    "address": "地址",
    "card_no": "卡号",
    "email": "邮箱",
    "sex": "性别",
    "birth_date": "出生日期",
    "card_issuer": "开户行",
}
FABRICATED_COLUMNS = ["name", "resident_id", "mobile", "address"]
FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
# Characters commonly confused in typed or OCR'd names and addresses.
CONFUSABLE = {
    "伟": "玮",
    "明": "铭",
    "华": "化",
    "丽": "莉",
    "军": "君",
    "静": "晶",
    "敏": "民",
    "强": "墙",
    "磊": "垒",
    "芳": "方",
    "娟": "涓",
    "杰": "洁",
    "涛": "滔",
    "超": "潮",
    "路": "璐",
    "街": "阶",
    "号": "好",
    "栋": "幢",
    "单": "丹",
    "元": "园",
    "室": "市",
    "区": "曲",
    "县": "线",
    "市": "是",
    "东": "冬",
    "西": "希",
    "南": "男",
    "北": "背",
}


@dataclass(frozen=True)
class Alteration:
    """One change made to the leak: which field, how, and which rows (empty = every row)."""

    kind: str  # dropped, renamed, reordered, masked, fullwidth, typo, invalid_check, padded
    field: str | None = None
    rows: tuple[int, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class LeakTruth:
    """What the leak really is: per row the customer (None for foreign or fabricated rows)."""

    kind: str
    customer_ids: list[int | None]
    origins: list[str]  # per row: world, foreign (another institution) or fabricated
    sources: list[str]  # recipient ids, or the employee id of an insider leak
    share_ids: list[str]
    snapshot: dt.date  # the date the values were true
    columns: dict[str, str]  # leak column -> field of the customers table
    alterations: list[Alteration] = field(default_factory=list)

    def to_json(self) -> dict:
        """A JSON-ready dict (dates as ISO strings)."""
        d = asdict(self)
        d["snapshot"] = self.snapshot.isoformat()
        return d


@dataclass(frozen=True)
class Leak:
    """Leaked rows, all strings, as they would circulate, with their ground truth."""

    rows: pl.DataFrame
    truth: LeakTruth

    def head(self, k: int) -> Leak:
        """The first ``k`` rows (a sample pasted in a forum post) with the truth cut to match."""
        t = self.truth
        alts = [
            replace(a, rows=tuple(r for r in a.rows if r < k)) if a.rows else a
            for a in t.alterations
        ]
        alts = [a for a in alts if a.rows or a.kind not in ("typo", "fullwidth", "invalid_check")]
        return Leak(
            self.rows.head(k),
            replace(t, customer_ids=t.customer_ids[:k], origins=t.origins[:k], alterations=alts),
        )


def values_as_of(world: World, ids: list[int], day: dt.date) -> pl.DataFrame:
    """Customers ``ids`` with mobile, address and email as they were on ``day`` (from history);
    customers who had not yet opened an account on ``day`` are left out."""
    cust = world.customers.filter(
        pl.col("customer_id").is_in(ids) & (pl.col("opened_on") <= day)
    ).collect()
    hist = world.history.filter(
        pl.col("customer_id").is_in(ids)
        & (pl.col("valid_from") <= day)
        & (pl.col("valid_to") > day)
    ).collect()
    for fld in ("mobile", "address", "email"):
        old = hist.filter(pl.col("field") == fld).select(
            "customer_id", pl.col("value").alias("_old")
        )
        cust = (
            cust.join(old, on="customer_id", how="left")
            .with_columns(pl.coalesce("_old", fld).alias(fld))
            .drop("_old")
        )
    return cust


def _as_strings(df: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The leak's view of people: chosen columns as strings, sex as 男/女."""
    exprs = []
    for c in columns:
        if c == "sex":
            exprs.append(
                pl.when(pl.col("sex") == "M")
                .then(pl.lit("男"))
                .otherwise(pl.lit("女"))
                .alias("sex")
            )
        else:
            exprs.append(pl.col(c).cast(pl.String))
    return df.select(exprs)


def _pick_share(world: World, rng: np.random.Generator, recipient_id: str | None) -> dict:
    shares = world.shares.join(world.recipients.select("recipient_id", "type"), on="recipient_id")
    if recipient_id is not None:
        shares = shares.filter(pl.col("recipient_id") == recipient_id)
    else:
        shares = shares.filter(pl.col("type") != "branch")
    shares = shares.filter(pl.col("customer_ids").list.len() > 0)
    if shares.is_empty():
        raise ValueError(f"no non-empty share for recipient {recipient_id!r}")
    return shares.row(int(rng.integers(0, shares.height)), named=True)


def _subset(rng: np.random.Generator, ids: list[int], size: int | float | None) -> list[int]:
    """A random part of ``ids``: ``size`` rows, a fraction of them, or half by default."""
    n = len(ids)
    k = (
        max(1, n // 2)
        if size is None
        else int(round(size * n))
        if isinstance(size, float)
        else min(int(size), n)
    )
    return sorted(rng.choice(np.array(ids), size=k, replace=False).tolist())


def _origin(
    world: World,
    rng: np.random.Generator,
    kind: str,
    size: int | float | None,
    recipient_id: str | None,
    employee_id: str | None,
    n_sources: int,
    stale: dt.date | None,
) -> tuple[list[int], list[str], list[str], list[str], dt.date]:
    """Customers, columns, sources, share ids and snapshot date of a world-derived leak."""
    if kind == "employee":
        emp = employee_id or world.insiders[int(rng.integers(0, len(world.insiders)))]
        acts = world.access_log.filter(
            (pl.col("employee_id") == emp) & ~pl.col("legitimate")
        ).collect()
        if acts.is_empty():
            raise ValueError(f"employee {emp!r} has no illegitimate accesses to leak")
        ids = _subset(
            rng, acts["customer_id"].unique().sort().to_list(), size if size is not None else 1.0
        )
        day = acts["ts"].max().date()
        return ids, list(EMPLOYEE_EXPORT_COLUMNS), [emp], [], stale or day
    if kind == "union":
        picked: list[dict] = []
        for _ in range(50):
            s = _pick_share(world, rng, None)
            if s["recipient_id"] not in {p["recipient_id"] for p in picked}:
                picked.append(s)
            if len(picked) == n_sources:
                break
        common = [c for c in picked[0]["columns"] if all(c in p["columns"] for p in picked)]
        if not {"resident_id", "mobile", "card_no"} & set(common):
            # Resellers merge on what the lists share; with no identifier in common they keep
            # every column, each list filling what it has.
            common = list(dict.fromkeys(c for p in picked for c in p["columns"]))
        ids = sorted({i for p in picked for i in _subset(rng, p["customer_ids"], size)})
        day = max(p["shared_on"] for p in picked)
        return (
            ids,
            common,
            [p["recipient_id"] for p in picked],
            [p["share_id"] for p in picked],
            stale or day,
        )
    s = _pick_share(world, rng, recipient_id)
    return (
        _subset(rng, s["customer_ids"], size),
        list(s["columns"]),
        [s["recipient_id"]],
        [s["share_id"]],
        stale or s["shared_on"],
    )


def _foreign(world: World, rng: np.random.Generator, n: int, columns: list[str]) -> pl.DataFrame:
    """``n`` real-looking people of another institution (none of them this world's customers)."""
    people = draw_people(rng, n + 16, world.as_of)
    ours = (
        world.customers.filter(pl.col("resident_id").is_in(people["resident_id"].implode()))
        .select("resident_id")
        .collect()
    )
    people = people.filter(~pl.col("resident_id").is_in(ours["resident_id"].implode())).head(n)
    return _as_strings(people, columns)


def _corrupt_check(ids: pl.Series) -> pl.Series:
    """Resident IDs with a wrong check character (the next one in 0-9, X)."""
    nxt = {c: n for c, n in zip("0123456789X", "123456789X0", strict=True)}
    return ids.map_elements(lambda v: v[:-1] + nxt[v[-1]], return_dtype=pl.String)


def _typo(rng: np.random.Generator, value: str, start: int) -> str:
    """``value`` with one character after ``start`` confused or dropped; never unchanged."""
    spots = [i for i in range(start, len(value)) if value[i] in CONFUSABLE]
    if spots:
        i = spots[int(rng.integers(0, len(spots)))]
        return value[:i] + CONFUSABLE[value[i]] + value[i + 1 :]
    i = int(rng.integers(start, len(value)))
    return value[:i] + value[i + 1 :]


def _reformat(
    rng: np.random.Generator, df: pl.DataFrame, alts: list[Alteration]
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Drop a column, mask, widen digits, add typos, rename to Chinese headers and reorder."""
    n = df.height
    if df.width >= 4:
        victim = [c for c in df.columns if c not in ("name", "resident_id", "mobile")][-1:] or [
            df.columns[-1]
        ]
        df = df.drop(victim)
        alts.append(Alteration("dropped", victim[0]))
    if "resident_id" in df.columns:
        df = df.with_columns(
            pl.concat_str(
                pl.col("resident_id").str.slice(0, 6),
                pl.lit("*" * 8),
                pl.col("resident_id").str.slice(14),
            ).alias("resident_id")
        )
        alts.append(Alteration("masked", "resident_id", detail="digits 7-14 hidden"))
    if "mobile" in df.columns and rng.random() < 0.5:
        df = df.with_columns(
            pl.concat_str(
                pl.col("mobile").str.slice(0, 3), pl.lit("****"), pl.col("mobile").str.slice(7)
            ).alias("mobile")
        )
        alts.append(Alteration("masked", "mobile", detail="digits 4-7 hidden"))
    if "card_no" in df.columns and rng.random() < 0.5:
        df = df.with_columns(
            pl.concat_str(
                pl.col("card_no").str.slice(0, 6),
                pl.col("card_no")
                .str.slice(6, pl.col("card_no").str.len_chars() - 10)
                .str.replace_all(r"\d", "*"),
                pl.col("card_no").str.slice(-4),
            ).alias("card_no")
        )
        alts.append(Alteration("masked", "card_no", detail="all but BIN and last 4 hidden"))
    wide = [c for c in ("mobile", "card_no", "resident_id") if c in df.columns]
    if wide:
        col = wide[int(rng.integers(0, len(wide)))]
        rows = np.flatnonzero(rng.random(n) < 0.3)
        mask = np.zeros(n, bool)
        mask[rows] = True
        df = df.with_columns(
            pl.when(pl.Series(mask))
            .then(pl.col(col).str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values())))
            .otherwise(pl.col(col))
            .alias(col)
        )
        alts.append(Alteration("fullwidth", col, tuple(rows.tolist())))
    for col, start in (("name", 1), ("address", 6)):
        if col not in df.columns:
            continue
        rows = [
            int(r)
            for r in np.flatnonzero(rng.random(n) < 0.05)
            if df[col][int(r)] is not None and len(df[col][int(r)]) > start
        ]
        values = df[col].to_list()
        for r in rows:
            values[r] = _typo(rng, values[r], start)
        df = df.with_columns(pl.Series(col, values, dtype=pl.String))
        alts.append(Alteration("typo", col, tuple(rows)))
    order = [df.columns[i] for i in rng.permutation(df.width)]
    alts.append(Alteration("reordered", detail=",".join(order)))
    alts.append(Alteration("renamed", detail="Chinese headers"))
    mapping = {HEADERS_ZH[c]: c for c in order}
    return df.select(order).rename({c: HEADERS_ZH[c] for c in order}), mapping


def make_leak(
    world: World,
    kind: str = "share",
    seed: int = 0,
    *,
    size: int | float | None = None,
    recipient_id: str | None = None,
    employee_id: str | None = None,
    n_sources: int = 2,
    stale: dt.date | None = None,
    reformat: bool = False,
    pad: float = 0.0,
    invalid: float = 0.0,
    columns: list[str] | None = None,
) -> Leak:
    """Make a leak of ``kind`` (see KINDS); options compose.

    ``size``: rows (int) or fraction (float) of the source taken. ``stale``: the values' date
    (default for kind "stale": three years before the world's as-of date). ``pad``: foreign rows
    added, as a fraction of the leak. ``reformat``: resold-list reformatting (default for kind
    "reformatted"). ``invalid``: fraction of resident IDs given a wrong check character.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown leak kind {kind!r}; known: {', '.join(KINDS)}")
    rng = np.random.default_rng([world.seed, seed, KINDS.index(kind)])
    if kind == "stale" and stale is None:
        stale = world.as_of.replace(year=world.as_of.year - 3)
    reformat = reformat or kind == "reformatted"
    pad = pad or (0.3 if kind == "padded" else 0.0)
    alts: list[Alteration] = []

    if kind == "fabricated":
        n = int(size) if isinstance(size, int) else 200
        cols = columns or FABRICATED_COLUMNS
        # A forger's generator keeps each value plausible but not the person consistent.
        df = _foreign(world, rng, n, cols)
        df = df.select(pl.col(c).gather(rng.permutation(n)) for c in cols)
        ids: list[int | None] = [None] * n
        origins = ["fabricated"] * n
        sources: list[str] = []
        share_ids: list[str] = []
        snapshot = world.as_of
    else:
        base = "share" if kind in ("stale", "reformatted", "padded") else kind
        chosen, cols, sources, share_ids, snapshot = _origin(
            world, rng, base, size, recipient_id, employee_id, n_sources, stale
        )
        cols = columns or cols
        people = values_as_of(world, chosen, snapshot).sort("customer_id")
        df = _as_strings(people, cols)
        ids = people["customer_id"].to_list()
        origins = ["world"] * len(ids)
        if stale is not None:
            alts.append(Alteration("stale", detail=f"values as of {snapshot.isoformat()}"))

    if pad > 0:
        extra = _foreign(world, rng, max(1, int(round(pad * df.height))), cols)
        df = pl.concat([df, extra])
        ids += [None] * extra.height
        origins += ["foreign"] * extra.height
        alts.append(Alteration("padded", detail=f"{extra.height} rows of another institution"))
    order = rng.permutation(df.height)
    df = df[order.tolist()]
    ids = [ids[i] for i in order]
    origins = [origins[i] for i in order]

    if invalid > 0 and "resident_id" in df.columns:
        rows = np.flatnonzero(rng.random(df.height) < invalid)
        mask = np.zeros(df.height, bool)
        mask[rows] = True
        df = df.with_columns(
            pl.when(pl.Series(mask))
            .then(_corrupt_check(df["resident_id"]))
            .otherwise(pl.col("resident_id"))
            .alias("resident_id")
        )
        alts.append(Alteration("invalid_check", "resident_id", tuple(rows.tolist())))
    mapping = {c: c for c in df.columns}
    if reformat:
        df, mapping = _reformat(rng, df, alts)
    truth = LeakTruth(
        kind=kind,
        customer_ids=ids,
        origins=origins,
        sources=sources,
        share_ids=share_ids,
        snapshot=snapshot,
        columns=mapping,
        alterations=alts,
    )
    return Leak(df, truth)
