"""The master in: read through ingest (or as Parquet, a DuckDB or a PostgreSQL table), its
columns typed by their values as a leak's are (headers and pinyin abbreviations help, an
explicit mapping decides), normalised where the values need it, and the date it stands for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from leaktrace.errors import InputError, Message
from leaktrace.i18n import N_
from leaktrace.ingest.postgres import is_postgres_url
from leaktrace.ingest.table_copy import copy_table, table_place
from leaktrace.pii import KINDS
from leaktrace.scan.columns import header_kind, infer_columns
from leaktrace.verify.columns import (
    CUSTOMER_HEADERS,
    by_header,
    check_mapping,
    norm_header,
    sample_strings,
    unsure,
)
from leaktrace.verify.dates import MIN_DATE_SHARE, check_dates, date_share, to_date
from leaktrace.verify.history_input import prepare_history
from leaktrace.verify.leak_input import LEAK_COLUMNS

OPTION = "--master-columns"
LINKABLE = ("resident_id", "mobile", "bank_card", "person_name")
VALUE_ROLES = LEAK_COLUMNS
# How the user names each role in --master-columns: the role itself (a kind's name for values)
# or an accepted alias, such as the short names id, card, addr.
ROLE_NAMES = {
    "customer": ("customer", "customer_id", "cust_id"),
    "person_name": ("person_name", "name"),
    "resident_id": ("resident_id", "id", "id_no"),
    "mobile": ("mobile", "phone"),
    "bank_card": ("bank_card", "card", "card_no"),
    "address": ("address", "addr"),
    "email": ("email",),
    "birth": ("birth", "birth_date", "dob"),
    "opened": ("opened", "opened_on", "open_date"),
}
ALIASES = {norm_header(a): role for role, names in ROLE_NAMES.items() for a in names}
# Headers naming a role exactly: English, Chinese and the pinyin initials bank systems use.
HEADERS = {
    "customer": CUSTOMER_HEADERS,
    "person_name": ("name", "person_name", "姓名", "客户姓名", "客户名称", "户名", "xm", "khxm", "khmc"),
    "resident_id": (
        "resident_id", "身份证号", "身份证号码", "身份证", "证件号", "证件号码", "公民身份号码",
        "zjhm", "zjh", "sfzh", "sfzhm", "sfz", "id_no", "id_card", "idcard",
    ),
    "mobile": (
        "mobile", "phone", "手机", "手机号", "手机号码", "移动电话", "联系手机",
        "sjhm", "sjh", "sj", "yddh",
    ),
    "bank_card": ("card", "card_no", "bank_card", "卡号", "银行卡号", "银行卡", "yhkh", "yhk", "kh"),
    "address": (
        "address", "addr", "地址", "住址", "联系地址", "家庭地址", "家庭住址", "通讯地址",
        "通信地址", "居住地址", "dz", "lxdz", "zz", "jtzz", "txdz",
    ),
    "email": ("email", "e-mail", "mail", "邮箱", "电子邮箱", "电子邮件", "yx", "dzyx"),
    "birth": (
        "birth", "birth_date", "birthday", "dob", "date_of_birth", "出生日期", "生日",
        "出生年月日", "csrq",
    ),
    "opened": (
        "opened", "opened_on", "open_date", "opening_date", "开户日期", "开户时间", "开户日",
        "khrq", "khsj",
    ),
}  # fmt: skip
# Where the master's date came from (``MasterInput.as_of_source``; the report words it).
AS_OF_GIVEN, AS_OF_OPENING, AS_OF_CHANGE, AS_OF_NONE = (
    "given",
    "latest_opening",
    "latest_change",
    "none",
)
NORMAL_CHECK_ROWS = 20_000


@dataclass
class MasterInput:
    """The master as one Parquet file and the SQL projecting it onto canonical columns."""

    path: Path
    select: dict[str, str]  # canonical column -> SQL expression over the source columns
    rows: int
    present: set[str]
    history: Path | None = None
    as_of: dt.date | None = None
    as_of_source: str = AS_OF_NONE  # given, latest_opening, latest_change or none
    notes: list[Message] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # role -> master column
    history_place: str | None = None  # where the history was read (path or URL, table)


def master_place(master: str | Path, table: str | None = None) -> str:
    """How messages and reports name the master: its path, or a PostgreSQL URL without its
    password, with the table."""
    return table_place(master, table)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pick(candidates: list[str], role: str, place: str, columns: list[str]) -> str | None:
    """The one column of ``candidates`` (typed by value) for ``role``: alone, or the one whose
    header names the role exactly, or else whose header names its kind; several: unsure."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    tiers = (
        by_header(candidates, HEADERS[role]),
        [c for c in candidates if header_kind(c) == role],
    )
    for tier in tiers:
        if len(tier) == 1:
            return tier[0]
    raise unsure(place, role, candidates, columns, OPTION)


def _birth_by_values(sample: pl.DataFrame, dates: list[str], id_col: str | None) -> str | None:
    """The date column holding the birth dates the resident IDs carry (most rows agreeing)."""
    if id_col is None:
        return None
    born = pl.col(id_col).str.strip_chars().str.slice(6, 8)
    best, share = None, MIN_DATE_SHARE
    for col in dates:
        both = sample.select(d=to_date(col, pl.String).dt.strftime("%Y%m%d"), b=born).drop_nulls()
        if both.height and (s := float((both["d"] == both["b"]).mean() or 0)) >= share:
            best, share = col, s
    return best


def recognise(
    sample: pl.DataFrame,
    place: str,
    explicit: dict[str, str] | None = None,
    not_text: frozenset[str] = frozenset(),
) -> tuple[dict[str, str], list[Message]]:
    """Role -> column for the master whose first rows are ``sample`` (text), and notes on
    what was left out. The mapping given wins; then values decide (headers break ties).
    ``not_text`` columns were stored as dates, floats or booleans: no identifier is typed in
    them."""
    columns = list(sample.columns)
    roles = check_mapping(explicit or {}, ALIASES, columns, place, OPTION)
    notes: list[Message] = []
    for role in ("birth", "opened"):
        if role in roles:
            check_dates(sample, roles[role], place)
    typed = {
        r.name: r.kind
        for r in infer_columns(
            sample.select(c for c in columns if c not in roles.values() and c not in not_text)
        )
        if r.kind in LEAK_COLUMNS
    }
    for role in VALUE_ROLES:
        if role not in roles:
            hit = _pick([c for c, k in typed.items() if k == role], role, place, columns)
            if hit is not None:
                roles[role] = hit
    used = set(roles.values())
    if "customer" not in roles:
        named = by_header([c for c in columns if c not in used], HEADERS["customer"])
        if len(named) > 1:
            raise unsure(place, "customer", named, columns, OPTION)
        if named:
            roles["customer"] = named[0]
            used.add(named[0])
    rest = [c for c in columns if c not in used and c not in typed]
    dates = [c for c in rest if date_share(sample[c]) >= MIN_DATE_SHARE]
    for role in ("birth", "opened"):
        if role in roles:
            continue
        named = by_header([c for c in columns if c not in used], HEADERS[role])
        if len(named) > 1:
            raise unsure(place, role, named, columns, OPTION)
        if named:
            check_dates(sample, named[0], place)
            roles[role] = named[0]
        elif role == "birth":
            if hit := _birth_by_values(sample, dates, roles.get("resident_id")):
                roles[role] = hit
        else:
            left = [c for c in dates if c not in roles.values()]
            if len(left) == 1:
                roles[role] = left[0]
            elif left:
                notes.append(
                    Message(
                        N_(
                            "opening date not used: columns {columns} all hold dates "
                            "(name one with {option} opened=COLUMN)"
                        ),
                        columns=", ".join(left),
                        option=OPTION,
                    )
                )
        used = set(roles.values())
    if "customer" not in roles:
        free = [c for c in columns if c not in used and c not in typed and c not in dates]
        unique = _unique_codes(sample, free)
        # else a column of identifiers a header names the customer's (keyed by resident ID)
        named = unique or by_header(columns, HEADERS["customer"])
        if len(named) != 1:
            raise unsure(place, "customer", named, columns, OPTION)
        roles["customer"] = named[0]
    return roles, notes


def _unique_codes(sample: pl.DataFrame, columns: list[str]) -> list[str]:
    """The columns whose sampled values are all set, unique and shaped like codes (letters,
    digits, ``-``, ``_``, ``/``; not amounts such as 1234.56 nor free text): customer ids."""
    code = r"^[0-9A-Za-z][0-9A-Za-z_\-/]{0,39}$"
    return [
        c
        for c in columns
        if sample[c].null_count() == 0
        and sample[c].n_unique() == sample.height
        and bool(sample[c].str.strip_chars().str.contains(code).all())
    ]


def _needs_normalising(path: Path, col: str, kind: str) -> bool:
    """Whether a sample of ``col`` changes under the kind's normalisation."""
    s = pl.scan_parquet(path).select(pl.col(col).cast(pl.String)).head(NORMAL_CHECK_ROWS).collect()
    e = pl.col(col)
    changed = s.select((KINDS[kind].normalize_expr(e) != e).any()).item()
    return bool(changed)


def _normalised(path: Path, roles: dict[str, str], work: Path) -> tuple[Path, list[Message]]:
    """``path``, or a copy with identifier values normalised where a sample shows they need
    it and text dates read as dates (what every engine then reads)."""
    schema = pl.scan_parquet(path).collect_schema()
    kinds = [r for r in VALUE_ROLES if r in roles and _needs_normalising(path, roles[r], r)]
    dates = [
        r
        for r in ("birth", "opened")
        if r in roles
        and not (schema[roles[r]] == pl.Date or isinstance(schema[roles[r]], pl.Datetime))
    ]
    if not kinds and not dates:
        return path, []
    exprs = [
        KINDS[r].normalize_expr(pl.col(roles[r]).cast(pl.String)).alias(roles[r]) for r in kinds
    ]
    exprs += [to_date(roles[r], schema[roles[r]]).alias(roles[r]) for r in dates]
    out = work / "master_norm.parquet"
    tmp = work / "master_norm.parquet.tmp"
    pl.scan_parquet(path).with_columns(exprs).sink_parquet(tmp)
    tmp.rename(out)
    notes = [Message(N_("normalised: {kinds}"), kinds=", ".join(kinds))] if kinds else []
    return out, notes


def _select(roles: dict[str, str]) -> dict[str, str]:
    """Canonical column -> SQL expression over the master's columns."""
    select = {"mid": _quote(roles["customer"])}
    for canon in VALUE_ROLES:
        select[canon] = (
            f"CAST({_quote(roles[canon])} AS VARCHAR)"
            if canon in roles
            else "CAST(NULL AS VARCHAR)"
        )
    select["birth"] = (
        f"replace(CAST({_quote(roles['birth'])} AS VARCHAR), '-', '')"
        if "birth" in roles
        else "CAST(NULL AS VARCHAR)"
    )
    select["opened"] = (
        f"CAST({_quote(roles['opened'])} AS DATE)" if "opened" in roles else "CAST(NULL AS DATE)"
    )
    return select


def prepare_master(
    master: str | Path,
    table: str | None,
    history: Path | str | None,
    work: Path,
    *,
    columns: dict[str, str] | None = None,
    history_columns: dict[str, str] | None = None,
    history_table: str | None = None,
    master_date: dt.date | None = None,
) -> MasterInput:
    """Read, recognise, normalise and date the master (and its history, if any): ``columns``
    and ``history_columns`` map roles to columns where recognition should not decide;
    ``master_date`` is when the master was extracted (else its own latest date)."""
    hist: str | Path | None = history
    p = None if is_postgres_url(master) else Path(master)
    if p is not None and p.is_dir():
        if not (p / "customers.parquet").exists():
            raise InputError(
                str(p), N_("a directory holding customers.parquet (a leaktrace world)")
            )
        if hist is None and (p / "history.parquet").exists():
            hist = p / "history.parquet"
        master = p / "customers.parquet"
    copy = copy_table(master, work / "master.parquet", table, default="customers")
    place, notes = copy.place, list(copy.notes)
    rows = pq.ParquetFile(copy.path).metadata.num_rows
    if rows == 0:
        raise InputError(place, N_("at least one customer record"), N_("no rows"))
    schema = pl.scan_parquet(copy.path).collect_schema()
    not_text = frozenset(
        c for c, t in schema.items() if t.is_temporal() or t.is_float() or t == pl.Boolean
    )
    roles, found = recognise(sample_strings(copy.path), place, columns, not_text)
    notes += found
    if not set(roles) & set(LINKABLE):
        raise InputError(
            place,
            N_("columns to link on: resident_id, mobile, bank_card or person_name"),
            N_("columns: {columns}"),
            columns=", ".join(schema.names()),
        )
    path, normalised = _normalised(copy.path, roles, work)
    notes += normalised
    present = {c for c in VALUE_ROLES if c in roles}
    if "birth" in roles or "resident_id" in roles:
        present.add("birth")
    hi = None
    if hist is not None:
        hi = prepare_history(
            hist,
            work,
            master=path,
            customer=roles["customer"],
            columns=history_columns,
            table=history_table,
        )
        notes += hi.notes
    as_of, source = _as_of(path, roles.get("opened"), hi.latest if hi else None, master_date)
    return MasterInput(
        path,
        _select(roles),
        rows,
        present,
        hi.path if hi else None,
        as_of,
        source,
        notes,
        roles,
        table_place(hist, history_table) if hist is not None else None,
    )


def _as_of(
    path: Path, opened: str | None, changed: dt.date | None, given: dt.date | None
) -> tuple[dt.date | None, str]:
    """The master's date and where it came from: given, or the latest date the master data
    knows of (its last opening or last change)."""
    if given is not None:
        return given, AS_OF_GIVEN
    latest: tuple[dt.date, str] | None = None
    if opened:
        d = pl.scan_parquet(path).select(pl.col(opened).cast(pl.Date).max()).collect().item()
        if d is not None:
            latest = (d, AS_OF_OPENING)
    if changed is not None and (latest is None or changed > latest[0]):
        latest = (changed, AS_OF_CHANGE)
    return latest if latest else (None, AS_OF_NONE)
