"""A world for trace: a master of customers whose addresses are written as real bank data writes
them, up to 1,000 recipients with shares of long-tailed sizes, and the ground truth of each share.

Recipients are branches (most of their own customers), partners and vendors (runs near the top
of ranked customer segments, so the same customers reach several of them) and employee exports (a few hundred of a branch's
customers). Every share is recorded in a :class:`~leaktrace.trace.ledger.Ledger` under a
:class:`~leaktrace.trace.secret.Secret`. ``written`` shares drawn at random (among those of at
most :data:`WRITE_LIMIT` customers) are made by :func:`leaktrace.trace.share.share` as files
(CSV in UTF-8 or GBK, XLSX, Parquet, with canaries); the others are only recorded, and
:meth:`TraceWorld.copy` marks the rows asked for in memory with
:func:`leaktrace.trace.share.mark`, the same symbols the file would carry (but no canaries). So a world of 1,000 recipients takes seconds to make, whatever its shares' sizes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from python_calamine import CalamineWorkbook

from leaktrace.synth.activity import EMPLOYEE_EXPORT_COLUMNS, PARTNERS
from leaktrace.synth.people import draw_people
from leaktrace.trace import variants
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import Secret
from leaktrace.trace.share import mark, share

#: The master's customer number column and its other columns by kind, as a bank names them.
CUSTOMER = "客户号"
HEADERS = {
    "person_name": "姓名",
    "resident_id": "身份证号",
    "sex": "性别",
    "birth_date": "出生日期",
    "mobile": "手机号码",
    "bank_card": "银行卡号",
    "address": "联系地址",
}
ROLES = {header: kind for kind, header in HEADERS.items()}
#: synth.people / synth.activity field names -> kinds.
FIELD_KINDS = {
    "name": "person_name",
    "resident_id": "resident_id",
    "sex": "sex",
    "birth_date": "birth_date",
    "mobile": "mobile",
    "card_no": "bank_card",
    "address": "address",
}
#: The chance a master address is written with the second writing of each slot it offers
#: (短 province, 短 city, 幢, '-', no 室, no 号): hand-typed addresses mix them.
NATURAL_SECOND = {
    "province_suffix": 0.25,
    "city_suffix": 0.3,
    "building": 0.2,
    "unit": 0.25,
    "room": 0.3,
    "street_number": 0.05,
}
#: The chance a 栋 building is written 号楼 instead (a writing that carries no slot).
HAOLOU = 0.1
#: The chance an ID ending in X is written with a lower-case x in the master.
LOWER_X = 0.05
#: Recipient types and their share of the recipients (branches take at least one).
TYPES = {"branch": 0.1, "partner": 0.3, "vendor": 0.3, "employee_export": 0.3}
#: File formats a written share is made in, with their chance.
FILE_NAMES = {"csv-utf-8": ".csv", "csv-gbk": ".csv", "xlsx": ".xlsx", "parquet": ".parquet"}
FORMAT_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
#: Segments (customer cohorts) partner and vendor shares are cut from.
SEGMENTS = 40
#: The range of the fraction of its customers a branch shares.
BRANCH_SHARED = (0.6, 0.95)
#: The smallest share, in customers.
MIN_SHARE = 20
#: The largest share written as a file (bigger ones are only recorded).
WRITE_LIMIT = 20_000


@dataclass(frozen=True)
class ShareTruth:
    """One share as it really was: who got which customers' columns, in which file (None when
    only recorded), and which segment it was cut from (None for branches and employees)."""

    share_id: str
    recipient: str
    type: str
    customers: np.ndarray
    columns: tuple[str, ...]
    file_format: str
    path: Path | None
    segment: int | None


@dataclass
class TraceWorld:
    """The master, the ledger and secret its shares were recorded under, and the truth."""

    master: pl.DataFrame
    secret: Secret
    ledger: Ledger
    shares: list[ShareTruth]
    roles: dict[str, str]
    customer_column: str = CUSTOMER

    def share(self, share_id: str) -> ShareTruth:
        """The truth of one share by id."""
        return next(s for s in self.shares if s.share_id == share_id)

    def holders(self, customer: int) -> list[str]:
        """The share ids that received ``customer``."""
        return [s.share_id for s in self.shares if _holds(s.customers, customer)]

    def copy(self, share_id: str, customers: Sequence[int] | None = None) -> pl.DataFrame:
        """The recipient's copy as text columns plus ``customer`` (null on canary rows): read
        back from its file when written, else marked in memory; only ``customers`` if given."""
        truth = self.share(share_id)
        wanted = truth.customers if customers is None else np.asarray(customers, dtype=np.int64)
        if not np.isin(wanted, truth.customers).all():
            raise ValueError("the share did not receive every customer asked for")
        marked = self.marked(truth, np.unique(wanted))
        if truth.path is None:
            return marked
        return _align(read_copy(truth.path, truth.file_format), marked, customers is None)

    def marked(self, truth: ShareTruth, customers: np.ndarray) -> pl.DataFrame:
        """The sorted ``customers``' rows of a share marked in memory, with ``customer``."""
        rows = self.master.filter(pl.col(self.customer_column).is_in(customers.tolist())).sort(
            self.customer_column
        )
        marks = {c: k for c, k in self.roles.items() if k in variants.SLOTS and c in truth.columns}
        text = rows.select(pl.col(c).cast(pl.String) for c in truth.columns)
        out = mark(text, customers, marks, self.secret.derive("code"), truth.share_id)
        return out.with_columns(rows[self.customer_column].alias("customer"))


def _holds(customers: np.ndarray, customer: int) -> bool:
    i = int(np.searchsorted(customers, customer))
    return i < customers.size and int(customers[i]) == customer


def read_copy(path: Path, fmt: str) -> pl.DataFrame:
    """A written copy as text columns, read the way its format needs."""
    if fmt.startswith("csv-"):
        text = path.read_bytes().decode(fmt.removeprefix("csv-"))
        return pl.read_csv(text.encode(), infer_schema=False)
    if fmt == "xlsx":
        header, *rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return pl.DataFrame(
            [[_cell(v) for v in row] for row in rows],
            schema=dict.fromkeys(map(str, header), pl.String),
            orient="row",
        )
    frame = pl.read_parquet(path)
    return frame.select(pl.col(c).cast(pl.String) for c in frame.columns)


def _cell(v: object) -> str | None:
    """A spreadsheet cell as the text it shows (whole numbers without a decimal point)."""
    if v == "" or v is None:
        return None
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _align(written: pl.DataFrame, marked: pl.DataFrame, whole: bool) -> pl.DataFrame:
    """The written copy's rows with their customer numbers: a row equal to the next marked
    customer's row is that customer (the file holds them in customer order), any other a canary.
    With ``whole`` False only the marked customers' rows are kept."""
    columns = [c for c in marked.columns if c != "customer"]
    key = pl.concat_str(pl.col(columns).fill_null(""), separator="\x1f")
    seen = written.select(key).to_series().to_list()
    want = marked.select(key).to_series().to_list()
    numbers = marked["customer"].to_list()
    customer: list[int | None] = []
    j = 0
    for row in seen:
        if j < len(want) and row == want[j]:
            customer.append(numbers[j])
            j += 1
        else:
            customer.append(None)
    if j != len(want):
        raise ValueError("a written copy does not hold the marked rows of its customers")
    out = written.select(columns).with_columns(pl.Series("customer", customer, dtype=pl.Int64))
    return out if whole else out.filter(pl.col("customer").is_not_null())


def natural_addresses(rng: np.random.Generator, addresses: Sequence[str]) -> list[str]:
    """Addresses rewritten as hand-typed bank data has them: each offered slot in its second
    writing with the chance :data:`NATURAL_SECOND` gives, and some 栋 written 号楼."""
    out = []
    for value in addresses:
        offered = variants.slots("address", value)
        draws = rng.random(len(offered))
        chosen = {s: int(u < NATURAL_SECOND[s]) for s, u in zip(offered, draws, strict=True)}
        written = variants.apply("address", value, chosen)
        if "栋" in written and rng.random() < HAOLOU:
            written = written.replace("栋", "号楼", 1)
        out.append(written)
    return out


def make_master(
    rng: np.random.Generator, n: int, as_of: dt.date, first: int = 100_000
) -> pl.DataFrame:
    """``n`` customers numbered from ``first`` with the columns of :data:`HEADERS`, addresses
    and ID check characters written with their natural variation, sex as 男/女."""
    people = draw_people(rng, n, as_of)
    ids = people["resident_id"]
    lower = pl.Series(rng.random(n) < LOWER_X)
    ids = pl.select(
        pl.when(lower & ids.str.ends_with("X")).then(ids.str.replace("X$", "x")).otherwise(ids)
    ).to_series()
    return pl.DataFrame(
        {
            CUSTOMER: pl.int_range(first, first + n, dtype=pl.Int64, eager=True),
            HEADERS["person_name"]: people["name"],
            HEADERS["resident_id"]: ids,
            HEADERS["sex"]: people["sex"].replace_strict({"M": "男", "F": "女"}),
            HEADERS["birth_date"]: people["birth_date"].dt.to_string("%Y-%m-%d"),
            HEADERS["mobile"]: people["mobile"],
            HEADERS["bank_card"]: people["card_no"],
            HEADERS["address"]: natural_addresses(rng, people["address"].to_list()),
        }
    )


def _long_tail(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """``k`` share sizes between :data:`MIN_SHARE` and n/5: Pareto (α = 1.2), so most are small
    and a few huge."""
    sizes = MIN_SHARE * (1 + rng.pareto(1.2, size=k))
    return np.clip(sizes, MIN_SHARE, max(MIN_SHARE, n // 5)).astype(np.int64)


def _plan(
    rng: np.random.Generator, customers: np.ndarray, recipients: int
) -> list[tuple[str, str, np.ndarray, tuple[str, ...], int | None]]:
    """(recipient, type, customers, columns, segment) of every share."""
    n = customers.size
    counts = {t: int(recipients * w) for t, w in TYPES.items()}
    counts["branch"] = max(1, recipients - sum(v for t, v in counts.items() if t != "branch"))
    # Branches own every customer, in Zipf-like proportions (a few big city branches).
    weight = 1.0 / np.arange(1, counts["branch"] + 1) ** 0.8
    branch_of = rng.choice(counts["branch"], size=n, p=weight / weight.sum())
    segment_of = rng.choice(SEGMENTS, size=n, p=np.full(SEGMENTS, 1 / SEGMENTS))
    # Each segment's customers ranked (as a campaign's scoring would): every share cut from a
    # segment takes a run near its top, so the same customers reach several recipients.
    ranked = [rng.permutation(customers[segment_of == k]) for k in range(SEGMENTS)]
    all_columns = tuple(HEADERS.values())
    plan = []
    for b in range(counts["branch"]):
        # A branch hands over most of its customers, not all: some customers are never shared.
        members = customers[(branch_of == b) & (rng.random(n) < rng.uniform(*BRANCH_SHARED))]
        if members.size:
            plan.append((f"分行{b:03d}", "branch", members, all_columns, None))
    for kind in ("partner", "vendor"):
        offers = [cols for _, k, cols in PARTNERS if k == kind]
        for i, size in enumerate(_long_tail(rng, counts[kind], n)):
            segment = int(rng.integers(SEGMENTS))
            pool = ranked[segment]
            start = int(rng.integers(0, max(1, (pool.size - size) // 4 + 1)))
            members = pool[start : start + min(int(size), pool.size)]
            cols = offers[int(rng.integers(len(offers)))]
            columns = tuple(HEADERS[FIELD_KINDS[c]] for c in cols if c in FIELD_KINDS)
            plan.append((f"{kind}{i:03d}", kind, np.sort(members), columns, segment))
    export = tuple(HEADERS[FIELD_KINDS[c]] for c in EMPLOYEE_EXPORT_COLUMNS)
    for i in range(counts["employee_export"]):
        pool = customers[branch_of == rng.integers(counts["branch"])]
        if pool.size < MIN_SHARE:
            pool = customers
        size = min(pool.size, int(rng.integers(MIN_SHARE, 500)))
        members = np.sort(rng.choice(pool, size=size, replace=False))
        plan.append((f"员工导出{i:03d}", "employee_export", members, export, None))
    return plan


def make_trace_world(
    rng: np.random.Generator,
    customers: int,
    recipients: int,
    secret: Secret,
    ledger: Ledger,
    *,
    out: Path | None = None,
    written: int = 0,
    as_of: dt.date = dt.date(2026, 6, 30),
) -> TraceWorld:
    """A master of ``customers`` and one share per recipient (up to ``recipients``, an empty
    branch making none), recorded in ``ledger``; the recipients named in ``written`` get their
    copy made by ``share()`` as a file under ``out``, in a format drawn per share."""
    master = make_master(rng, customers, as_of)
    numbers = master[CUSTOMER].to_numpy()
    start = dt.datetime.combine(as_of, dt.time(9), tzinfo=dt.UTC) - dt.timedelta(days=3 * 365)
    plan = _plan(rng, numbers, recipients)
    small = [i for i, entry in enumerate(plan) if entry[2].size <= WRITE_LIMIT]
    if written > len(small) or (written and out is None):
        raise ValueError(f"{written} copies to write need a directory and as many small shares")
    chosen = set(rng.choice(small, size=written, replace=False).tolist())
    truths = []
    for i, (recipient, kind, members, columns, segment) in enumerate(plan):
        fmt = str(rng.choice(list(FILE_NAMES), p=FORMAT_WEIGHTS))
        when = start + dt.timedelta(days=int(rng.integers(0, 3 * 365 - 30)))
        path = None
        if i in chosen and out is not None:
            path = out / f"{i:04d}{FILE_NAMES[fmt]}"
            recorded = share(
                master,
                recipient,
                members,
                columns,
                path,
                secret,
                ledger,
                customer_column=CUSTOMER,
                roles=ROLES,
                purpose=kind,
                basis=None if kind == "employee_export" else "合同约定",
                encoding=fmt.removeprefix("csv-") if fmt.startswith("csv-") else "utf-8",
                shared_at=when,
            )
            fmt = recorded.file_format
        else:
            recorded = ledger.record(
                recipient, members, columns, secret.key_id, fmt, purpose=kind, shared_at=when
            )
        truths.append(
            ShareTruth(recorded.id, recipient, kind, members, columns, fmt, path, segment)
        )
    return TraceWorld(master, secret, ledger, truths, dict(ROLES))
