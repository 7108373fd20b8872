"""Forgery signals that need no master data, so a regulator or a journalist can run them too.

Each signal is a rate (or share) over the values where it can be measured, the range genuine
data falls in, and the p-value of seeing the observed count if the data were genuine at the
edge of that range (binomial tails). ``decisive`` signals are those a genuine list essentially
never trips (check digits, divisions, impossible dates, ID region against address region);
the others describe the data but do not decide the verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import polars as pl

from leaktrace.i18n import N_
from leaktrace.pii import KINDS
from leaktrace.pii.bank_card import issuer
from leaktrace.pii.columns import check_column
from leaktrace.pii.tables import divisions
from leaktrace.verify.fields import LABELS

MIN_N = 20  # values needed before a signal can flag anything
ALPHA = 1e-3  # p-value below which an out-of-range value flags
# 2020 census (REFERENCES.md): 105.07 males per 100 females.
MALE_SHARE = 105.07 / 205.07
# 2020 census: 60+ are 18.70% of all, 15-59 63.35%: among people 15 and over, 60+ are 22.8%.
OLD_SHARE = 18.70 / (63.35 + 18.70)
MOBILE_SPACE = 4e9  # allocated 11-digit mobile numbers, order of magnitude

# What each signal measures, in English (the JSON's ``label``; the reports translate it, with
# the signal's ``params`` filled in). A signal flags when its value is too high, except the
# descriptive shares (men, adults over 60), which flag outside their range either way.
SIGNAL_LABELS = {
    "id_checksum": N_("resident IDs failing the MOD 11-2 check"),
    "id_division": N_("resident IDs with a division code unknown or not in force at birth"),
    "id_birth": N_("resident IDs with an impossible or implausible birth date"),
    "sex_ratio": N_("share of men (ID sequence parity)"),
    "age_60_plus": N_("share of adults aged 60 or more"),
    "region_consistency": N_("addresses outside the resident ID's province"),
    "card_luhn": N_("card numbers failing the Luhn check"),
    "card_other_bank": N_("cards whose BIN belongs to a bank other than {bank}"),
    "mobile_unallocated": N_("mobile numbers in segments never allocated"),
    "mobile_sequences": N_("mobile numbers whose neighbour (±1) is also listed"),
    "duplicates": N_("records repeating another's {field}"),
}
NOT_MEASURABLE = N_("not measurable")


@dataclass
class Signal:
    """One forgery signal: ``value`` against ``[expected_low, expected_high]`` for genuine data."""

    name: str
    label: str
    value: float | None
    expected_low: float
    expected_high: float
    p_value: float | None
    n: int
    decisive: bool
    flagged: bool = False
    note: str = ""  # English, as the label; translated where shown
    params: dict[str, str] = field(default_factory=dict)  # fills the label's {fields}


FAILURE_MAX = 0.01  # genuine lists fail a check-digit or allocation check this rarely at most


def _failure_rate(name: str, k: int, n: int) -> Signal:
    """A check that genuine data fails at most 1% of the time (check digits, allocation):
    decisive, tested one-sided against that rate."""
    return rate_signal(
        name, SIGNAL_LABELS[name], k, n, 0.0, FAILURE_MAX, FAILURE_MAX, "upper", True
    )


def rate_signal(
    name: str,
    label: str,
    k: int,
    n: int,
    lo: float,
    hi: float,
    p0: float,
    tail: str,
    decisive: bool,
    note: str = "",
    params: dict[str, str] | None = None,
) -> Signal:
    """A rate signal: ``k`` of ``n``; the p-value tests the rate against ``p0`` on ``tail``.
    ``label`` is an English message whose ``{fields}`` ``params`` fills."""
    params = params or {}
    label = label.format(**params)
    if n == 0:
        note = note or NOT_MEASURABLE
        return Signal(name, label, None, lo, hi, None, 0, decisive, False, note, params)
    value = k / n
    # Binomial tails (bdtrc(k - 1) = P(X >= k), bdtr(k) = P(X <= k)), imported here: scipy
    # takes a second to import and ``import leaktrace`` should not pay it before a verify.
    from scipy.special import bdtr, bdtrc

    if tail == "upper":
        p = float(bdtrc(k - 1, n, p0))
    elif tail == "lower":
        p = float(bdtr(k, n, p0))
    else:
        p = float(min(1.0, 2 * min(bdtr(k, n, p0), bdtrc(k - 1, n, p0))))
    flagged = n >= MIN_N and not lo <= value <= hi and p < ALPHA
    return Signal(name, label, value, lo, hi, p, n, decisive, flagged, note, params)


@cache
def _provinces() -> tuple[str, dict[str, str]]:
    """A regex of province-level names (full and short) and name -> 2-digit code."""
    names: dict[str, str] = {}
    for code, versions in divisions().items():
        if code.endswith("0000"):
            for v in versions:
                names[v.name] = code[:2]
                for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
                    if v.name.endswith(suffix) and len(v.name) > len(suffix) + 1:
                        names.setdefault(v.name[: -len(suffix)], code[:2])
                        break
    alts = "|".join(sorted(names, key=len, reverse=True))
    return f"^({alts})", names


def _count(df: pl.DataFrame, cond: pl.Expr) -> int:
    return int(df.select(cond.sum()).item() or 0)


def _checked(kind: str, values: pl.Series) -> pl.DataFrame:
    """``v``, the values, ``r``, the first check each fails (null when valid), and ``f``, a
    valid value's plausibility flag, by the kinds' compiled column checks."""
    checked = check_column(KINDS[kind], values)
    return pl.DataFrame(
        {"v": values, "r": checked.get_column("reason"), "f": checked.get_column("flag")}
    )


def _reason_rate(name: str, rows: pl.DataFrame, reason: str) -> Signal:
    """:func:`_failure_rate` of the ``rows`` failing with ``reason``."""
    return _failure_rate(name, _count(rows, pl.col("r") == reason), rows.height)


def _id_signals(ids: pl.Series, today: dt.date) -> list[Signal]:
    df = _checked("resident_id", ids.filter(ids.str.len_chars() == 18))
    full = df.filter(~pl.col("v").str.contains("*", literal=True))
    code_vis = df.filter(~pl.col("v").str.slice(0, 6).str.contains("*", literal=True))
    date_vis = df.filter(~pl.col("v").str.slice(6, 8).str.contains("*", literal=True))
    sex_vis = df.filter(pl.col("v").str.slice(16, 1).str.contains("^[0-9]$"))
    out = [
        _reason_rate("id_checksum", full, "bad_checksum"),
        _failure_rate(
            "id_division",
            _count(
                code_vis, pl.col("r").is_in(["unknown_division", "division_not_in_force_at_birth"])
            ),
            code_vis.height,
        ),
        rate_signal(
            "id_birth",
            SIGNAL_LABELS["id_birth"],
            # a holder over 110 is valid (the standard sets no age limit) but implausible
            _count(
                date_vis,
                pl.col("r").is_in(["impossible_birth_date", "future_birth_date"])
                | (pl.col("f") == "implausible_age"),
            ),
            date_vis.height,
            0.0,
            0.005,
            0.005,
            "upper",
            True,
        ),
        rate_signal(
            "sex_ratio",
            SIGNAL_LABELS["sex_ratio"],
            _count(sex_vis, pl.col("v").str.slice(16, 1).cast(pl.Int32) % 2 == 1),
            sex_vis.height,
            0.40,
            0.62,
            MALE_SHARE,
            "two",
            False,
            N_("census 2020: 51.2% men; a customer base may differ"),
        ),
    ]
    years = date_vis.select(pl.col("v").str.slice(6, 4).cast(pl.Int32, strict=False)).to_series()
    adult = years.filter(
        years.is_not_null() & (today.year - years >= 18) & (today.year - years <= 110)
    )
    out.append(
        rate_signal(
            "age_60_plus",
            SIGNAL_LABELS["age_60_plus"],
            int((today.year - adult >= 60).sum()),
            adult.len(),
            0.05,
            0.45,
            OLD_SHARE,
            "two",
            False,
            N_("census 2020: 22.8% of people 15+ are 60+"),
        )
    )
    return out


def _region_signal(ids: pl.Series, addrs: pl.Series) -> Signal:
    pattern, names = _provinces()
    df = (
        pl.DataFrame({"v": ids, "a": addrs})
        .with_columns(
            idp=pl.col("v").str.slice(0, 2),
            ap=pl.col("a")
            .str.extract(pattern, 1)
            .replace_strict(names, default=None, return_dtype=pl.String),
        )
        .filter(pl.col("idp").str.contains("^[0-9]{2}$") & pl.col("ap").is_not_null())
    )
    # Trips when too many addresses lie outside the ID's province (too few inside).
    return rate_signal(
        "region_consistency",
        SIGNAL_LABELS["region_consistency"],
        _count(df, pl.col("idp") != pl.col("ap")),
        df.height,
        0.0,
        0.6,
        0.6,
        "upper",
        True,
        N_("most people live in the province of their ID; shuffled fields break this"),
    )


def neighbours(values: pl.Series) -> pl.Series:
    """The distinct numeric values (as digit strings) whose neighbour (±1) is listed too."""
    nums = np.unique(values.cast(pl.Int64, strict=False).drop_nulls().to_numpy())
    adj = np.diff(nums) == 1
    hit = np.zeros(len(nums), bool)
    hit[1:] |= adj
    hit[:-1] |= adj
    return pl.Series("v", nums[hit], pl.Int64).cast(pl.String)


def forgery_signals(
    leak: pl.DataFrame, today: dt.date | None = None, claimed_bank: str | None = None
) -> list[Signal]:
    """Every signal measurable on ``leak`` (canonical columns resident_id, mobile, bank_card,
    address)."""
    today = today or dt.date.today()
    out: list[Signal] = []
    cols = set(leak.columns)
    ids = (
        leak["resident_id"].drop_nulls() if "resident_id" in cols else pl.Series("v", [], pl.String)
    )
    if ids.len():
        out += _id_signals(ids, today)
    if "resident_id" in cols and "address" in cols:
        both = leak.filter(pl.col("resident_id").is_not_null() & pl.col("address").is_not_null())
        if both.height:
            out.append(_region_signal(both["resident_id"], both["address"]))
    if "bank_card" in cols and leak["bank_card"].drop_nulls().len():
        cards = _checked("bank_card", leak["bank_card"].drop_nulls())
        full = cards.filter(~pl.col("v").str.contains("*", literal=True))
        out.append(_reason_rate("card_luhn", full, "bad_checksum"))
        if claimed_bank:
            banks = [issuer(v) for v in cards["v"].str.replace_all(r"\*", "0").to_list()]
            known = [b[1][0] for b in banks if b]
            other = sum(1 for b in known if claimed_bank not in b)
            out.append(
                rate_signal(
                    "card_other_bank",
                    SIGNAL_LABELS["card_other_bank"],
                    other,
                    len(known),
                    0.0,
                    0.2,
                    0.2,
                    "upper",
                    False,
                    N_("customers also hold other banks' cards"),
                    {"bank": claimed_bank},
                )
            )
    if "mobile" in cols and leak["mobile"].drop_nulls().len():
        mob = _checked("mobile", leak["mobile"].drop_nulls())
        vis = mob.filter(~pl.col("v").str.slice(0, 3).str.contains("*", literal=True))
        out.append(_reason_rate("mobile_unallocated", vis, "unallocated_segment"))
        full = mob.filter(~pl.col("v").str.contains("*", literal=True))["v"]
        if full.len():
            p0 = min(0.5, max(2 * full.len() / MOBILE_SPACE, 1e-6))
            out.append(
                rate_signal(
                    "mobile_sequences",
                    SIGNAL_LABELS["mobile_sequences"],
                    neighbours(full).len(),
                    full.len(),
                    0.0,
                    max(0.01, 5 * p0),
                    p0,
                    "upper",
                    True,
                    N_("generated lists enumerate number ranges"),
                )
            )
    key = next(
        (
            c
            for c in ("resident_id", "mobile", "bank_card")
            if c in cols and leak[c].drop_nulls().len()
        ),
        None,
    )
    if key:
        vals = (
            leak[key].drop_nulls().filter(~leak[key].drop_nulls().str.contains("*", literal=True))
        )
        dup = int(vals.is_duplicated().sum())
        out.append(
            rate_signal(
                "duplicates",
                SIGNAL_LABELS["duplicates"],
                dup,
                vals.len(),
                0.0,
                0.02,
                0.02,
                "upper",
                False,
                N_("merged resale lists often repeat records"),
                {"field": LABELS[key]},
            )
        )
    return out
