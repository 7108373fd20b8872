"""The master's history in any shape: read through ingest (or as Parquet, a DuckDB or a
PostgreSQL table), its columns recognised from headers (Chinese, English, pinyin) and values,
field names in either language, dates in the formats bank exports use, and a wide history (one
row per change, old and new values side by side) turned into the long form engines read:
(customer_id, field, value, valid_from, valid_to)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from leaktrace.errors import InputError, Message
from leaktrace.i18n import N_
from leaktrace.ingest.table_copy import copy_table
from leaktrace.pii import KINDS
from leaktrace.verify.columns import (
    CUSTOMER_HEADERS,
    by_header,
    check_mapping,
    norm_header,
    sample_strings,
    unsure,
)
from leaktrace.verify.dates import (
    MIN_DATE_SHARE,
    OPEN_END_YEAR,
    check_dates,
    date_share,
    to_date,
)
from leaktrace.verify.profile import HISTORICAL  # fields whose earlier values linkage uses

OPTION = "--history-columns"
LONG = ("customer", "field", "value", "from", "to")
WIDE = ("customer", "field", "old", "new", "date")
ROLE_NAMES = {
    "customer": ("customer", "customer_id", "cust_id"),
    "field": ("field", "field_name"),
    "value": ("value",),
    "from": ("from", "valid_from", "start"),
    "to": ("to", "valid_to", "end"),
    "old": ("old", "old_value"),
    "new": ("new", "new_value"),
    "date": ("date", "change_date", "changed_on"),
}
ALIASES = {norm_header(a): role for role, names in ROLE_NAMES.items() for a in names}
HEADERS = {
    "customer": CUSTOMER_HEADERS,
    "field": (
        "field", "field_name", "attribute", "item", "column", "字段", "字段名", "字段名称",
        "变更字段", "变更项", "变更项目", "修改字段", "修改项", "属性", "zd", "zdm", "bgzd", "bgxm",
    ),
    "value": (
        "value", "old_value", "值", "旧值", "原值", "历史值", "字段值", "变更前", "变更前值",
        "previous_value", "prior_value", "z", "jz", "yz",
    ),
    "old": (
        "old_value", "old", "旧值", "原值", "变更前", "变更前值", "修改前", "修改前值", "before",
        "previous_value", "jz", "yz",
    ),
    "new": (
        "new_value", "new", "新值", "变更后", "变更后值", "修改后", "修改后值", "现值", "after",
        "xz",
    ),
    "from": (
        "valid_from", "from", "start", "start_date", "start_time", "begin", "begin_date",
        "effective_from", "起", "开始", "开始日期", "开始时间", "起始日期", "起始时间", "生效日期",
        "生效时间", "有效期起", "起日", "qsrq", "ksrq",
    ),
    "to": (
        "valid_to", "to", "end", "end_date", "end_time", "until", "effective_to", "expiry",
        "止", "结束", "结束日期", "结束时间", "终止日期", "截止日期", "失效日期", "失效时间",
        "有效期止", "止日", "jsrq", "zzrq",
    ),
    "date": (
        "change_date", "change_time", "changed_on", "changed_at", "modified", "modified_at",
        "updated_at", "update_time", "date", "time", "变更日期", "变更时间", "修改日期", "修改时间",
        "更新日期", "更新时间", "日期", "时间", "bgrq", "bgsj", "xgrq", "xgsj", "gxsj",
    ),
}  # fmt: skip
# Field names as histories write them -> canonical field; only HISTORICAL ones are kept.
FIELD_NAMES = {
    "mobile": (
        "mobile", "phone", "mobile_phone", "cellphone", "cell", "tel", "手机", "手机号",
        "手机号码", "移动电话", "联系手机", "联系电话", "电话", "电话号码", "sjhm", "sjh",
    ),
    "address": (
        "address", "addr", "home_address", "地址", "住址", "联系地址", "家庭地址", "家庭住址",
        "居住地址", "通讯地址", "通信地址", "dz", "lxdz", "zz",
    ),
    "email": ("email", "e-mail", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件地址", "yx"),
    "person_name": ("name", "姓名", "名字", "客户姓名", "xm"),
    "resident_id": (
        "resident_id", "id_no", "idcard", "id_card", "证件号", "证件号码", "身份证", "身份证号",
        "身份证号码", "zjhm", "sfzh",
    ),
    "bank_card": ("card", "card_no", "bank_card", "卡号", "银行卡", "银行卡号", "yhkh"),
}  # fmt: skip
FIELDS = {norm_header(n): f for f, names in FIELD_NAMES.items() for n in names}
# Field names leaktrace's own history form holds -> canonical field.
HISTORY_FIELDS = {"mobile": "mobile", "address": "address", "addr": "address", "email": "email"}
# Shares of sampled values that make a column the customer ids (found in the master), the
# field names, or the values (valid for their row's field).
MIN_CUSTOMER_SHARE = 0.5
MIN_FIELD_SHARE = 0.8
MIN_VALUE_SHARE = 0.5


@dataclass
class HistoryInput:
    """The history as (customer_id, field, value, valid_from, valid_to) Parquet."""

    path: Path
    latest: dt.date | None  # the last change it records (the latest valid_to)
    notes: list[Message] = field(default_factory=list)


def _field_of(e: pl.Expr) -> pl.Expr:
    """Canonical field names (the pii kinds' names) of field-name text."""
    key = e.cast(pl.String).str.replace_all(r"[\s_\-.]", "").str.to_lowercase()
    return key.replace_strict(FIELDS, default=None, return_dtype=pl.String)


def _valid(value: pl.Expr, fld: pl.Expr) -> pl.Expr:
    """Whether ``value`` passes the checks of its row's field ``fld`` (canonical)."""
    checks = [
        pl.when(fld == f).then(
            KINDS[f].reason_expr(KINDS[f].normalize_expr(value.str.strip_chars())).is_null()
            & value.is_not_null()
        )
        for f in FIELD_NAMES
    ]
    return pl.coalesce([*checks, pl.lit(False)])


def _share(sample: pl.DataFrame, expr: pl.Expr) -> float:
    return float(sample.select(expr.cast(pl.Float64).mean()).item() or 0.0)


def recognise(
    sample: pl.DataFrame, master_ids: set[str], place: str, explicit: dict[str, str] | None
) -> dict[str, str]:
    """Role -> column of the history whose first rows are ``sample`` (text): the long roles
    (customer, field, value, from, to; from or to may be missing) or the wide ones (customer,
    field, old, new, date). ``master_ids`` are the sampled ids the master holds."""
    columns = list(sample.columns)
    roles = check_mapping(explicit or {}, ALIASES, columns, place, OPTION)

    def free() -> list[str]:
        return [c for c in columns if c not in roles.values()]

    def by_name(role: str) -> None:
        if role not in roles:
            named = by_header(free(), HEADERS[role])
            if len(named) > 1:
                raise unsure(place, role, named, columns, OPTION)
            if named:
                roles[role] = named[0]

    wide = bool({"old", "new", "date"} & set(roles)) or (
        not {"value", "from", "to"} & set(roles) and bool(by_header(columns, HEADERS["new"]))
    )
    order = (
        ("customer", "field", "new", "old", "date")
        if wide
        else ("customer", "field", "from", "to", "value")
    )
    for role in order:
        by_name(role)
    if "customer" not in roles:
        shares = {
            c: _share(sample, pl.col(c).str.strip_chars().is_in(list(master_ids))) for c in free()
        }
        best = [c for c, s in shares.items() if s >= MIN_CUSTOMER_SHARE]
        if len(best) != 1:
            raise unsure(place, "customer", best, columns, OPTION)
        roles["customer"] = best[0]
    if "field" not in roles:
        best = [
            c
            for c in free()
            if _share(sample, _field_of(pl.col(c)).is_not_null()) >= MIN_FIELD_SHARE
        ]
        if len(best) != 1:
            raise unsure(place, "field", best, columns, OPTION)
        roles["field"] = best[0]
    dates = [c for c in free() if date_share(sample[c]) >= MIN_DATE_SHARE]
    fld = _field_of(pl.col(roles["field"]))
    fits = {c: _share(sample, _valid(pl.col(c), fld)) for c in free() if c not in dates}
    fitting = [c for c in fits if fits[c] >= MIN_VALUE_SHARE]
    # no header said: one date and two columns of values is a change (old, new, date)
    wide = wide or (
        not {"value", "from", "to"} & set(roles) and len(dates) == 1 and len(fitting) >= 2
    )
    for role in ("date",) if wide else ("from", "to"):
        if role in roles:
            check_dates(sample, roles[role], place)
    if wide:
        if "date" not in roles:
            if len(dates) != 1:
                raise unsure(place, "date", dates, columns, OPTION)
            roles["date"] = dates[0]
        # by order where headers do not say: old before new, as exports write them
        left = [c for c in fitting if c not in roles.values()]
        if "old" not in roles:
            if not left:
                raise unsure(place, "old", [], columns, OPTION)
            roles["old"] = left.pop(0)
        if "new" not in roles and left:
            roles["new"] = left[0]
    else:
        if "from" not in roles and "to" not in roles:
            if len(dates) != 2:
                raise unsure(place, "from", dates, columns, OPTION)
            a, b = (to_date(c, pl.String) for c in dates)
            first = _share(sample, (a <= b).fill_null(True)) >= 0.5
            roles["from"], roles["to"] = dates if first else dates[::-1]
        if "value" not in roles:
            best = max(fitting, key=lambda c: fits[c], default=None)
            if best is None:
                raise unsure(place, "value", [], columns, OPTION)
            roles["value"] = best
    return roles


def _date(col: str | None, schema: pl.Schema) -> pl.Expr:
    """Dates of ``col`` (null for an absent column; dates from year 9000 on mean no end)."""
    if col is None:
        return pl.lit(None, pl.Date)
    d = to_date(col, schema[col])
    return pl.when(d.dt.year() < OPEN_END_YEAR).then(d)


def _long(lf: pl.LazyFrame, roles: dict[str, str], cust: pl.DataType) -> pl.LazyFrame:
    """The history as (customer_id, field, value, valid_from, valid_to), canonical fields.

    Long form without ``to`` (or ``from``): a version ends where the next begins (begins where
    the previous ended). Wide form: the old value held until the change, since the previous
    change of that field (unknown before the first)."""
    schema = lf.collect_schema()
    keys = ["customer_id", "field"]
    base = {
        "customer_id": pl.col(roles["customer"]).cast(cust, strict=False),
        "field": _field_of(pl.col(roles["field"])),
    }
    if "date" in roles:
        out = lf.select(
            **base,
            value=pl.col(roles["old"]).cast(pl.String),
            valid_to=_date(roles["date"], schema),
        ).with_columns(valid_from=pl.col("valid_to").shift(1).over(keys, order_by="valid_to"))
    else:
        out = lf.select(
            **base,
            value=pl.col(roles["value"]).cast(pl.String),
            valid_from=_date(roles.get("from"), schema),
            valid_to=_date(roles.get("to"), schema),
        )
        if "to" not in roles:
            out = out.with_columns(
                valid_to=pl.col("valid_from").shift(-1).over(keys, order_by="valid_from")
            )
        elif "from" not in roles:
            out = out.with_columns(
                valid_from=pl.col("valid_to").shift(1).over(keys, order_by="valid_to")
            )
    value = pl.col("value").str.strip_chars()
    norm = pl.coalesce(
        pl.when(pl.col("field") == f).then(KINDS[f].normalize_expr(value)) for f in HISTORICAL
    )
    kept = pl.col("field").is_in(HISTORICAL) & pl.col("customer_id").is_not_null() & (value != "")
    return out.filter(kept).select(
        "customer_id",
        "field",
        pl.coalesce(norm, value).alias("value"),
        "valid_from",
        "valid_to",
    )


def _is_own_schema(lf: pl.LazyFrame, roles: dict[str, str], cust: pl.DataType) -> bool:
    """Whether the history already is leaktrace's own (a world's): read as it is, no copy."""
    schema = lf.collect_schema()
    own = {"customer_id": cust, "field": pl.String, "valid_from": pl.Date, "valid_to": pl.Date}
    named = dict(
        zip(LONG, ("customer_id", "field", "value", "valid_from", "valid_to"), strict=True)
    )
    if roles != named:
        return False
    if any(schema.get(c) != t for c, t in own.items()):
        return False
    fields = lf.select(pl.col("field").unique()).collect()["field"].to_list()
    latest = lf.select(pl.col("valid_to").max()).collect().item()
    return set(fields) <= set(HISTORY_FIELDS) and (latest is None or latest.year < OPEN_END_YEAR)


def prepare_history(
    history: str | Path,
    work: Path,
    *,
    master: Path,
    customer: str,
    columns: dict[str, str] | None = None,
    table: str | None = None,
) -> HistoryInput:
    """Read ``history`` (any table source), recognise its columns (``columns`` maps roles
    where recognition should not decide) against the ``master`` Parquet's ``customer`` ids,
    and write it in the long form (a history in leaktrace's own form is read as it is)."""
    sub = work / "history"
    sub.mkdir(exist_ok=True)
    copy = copy_table(history, sub / "raw.parquet", table, default="history")
    place, notes = copy.place, list(copy.notes)
    sample = sample_strings(copy.path)
    if sample.height == 0:
        raise InputError(place, N_("at least one history row"), N_("no rows"))
    cust = pl.scan_parquet(master).collect_schema()[customer]
    candidates = {v for c in sample.columns for v in sample[c].drop_nulls().str.strip_chars()}
    ids = (
        pl.scan_parquet(master)
        .select(pl.col(customer).cast(pl.String).str.strip_chars().alias("id"))
        .filter(pl.col("id").is_in(list(candidates)))
        .unique()
        .collect()["id"]
    )
    roles = recognise(sample, set(ids.to_list()), place, columns)
    lf = pl.scan_parquet(copy.path)
    if _is_own_schema(lf, roles, cust):
        out = copy.path
    else:
        out = sub / "history.parquet"
        tmp = sub / "history.parquet.tmp"
        _long(lf, roles, cust).sink_parquet(tmp)
        tmp.rename(out)
        notes += _losses(lf, roles, cust, place)
    latest = pl.scan_parquet(out).select(pl.col("valid_to").max()).collect().item()
    return HistoryInput(out, latest, notes)


def _losses(
    lf: pl.LazyFrame, roles: dict[str, str], cust: pl.DataType, place: str
) -> list[Message]:
    """What of the history was not used, counted: rows of fields without history use or of
    unknown field names, customer ids unlike the master's, and dates that did not read."""
    schema = lf.collect_schema()
    fld = _field_of(pl.col(roles["field"]))
    raw = pl.col(roles["customer"])
    counts = {  # the message of each count: the count as {n}, the column as {column}
        N_("{place}: {n} rows whose customer id is not of the master's type (ignored)"): (
            raw.is_not_null() & raw.cast(cust, strict=False).is_null()
        ).sum(),
        N_("{place}: {n} rows of fields whose earlier values linkage does not use"): (
            fld.is_not_null() & ~fld.is_in(HISTORICAL)
        ).sum(),
        N_("{place}: {n} rows whose field name is not one leaktrace knows"): fld.is_null().sum(),
    }
    columns = {}
    for i, role in enumerate(("from", "to", "date")):
        if col := roles.get(role):
            text = pl.col(col).cast(pl.String).str.strip_chars()
            bad = text.is_not_null() & (text != "") & to_date(col, schema[col]).is_null()
            columns[f"dates {i}"] = col
            counts[f"dates {i}"] = bad.sum()
    got = lf.select(**counts).collect().row(0, named=True)
    return [
        Message(
            N_("{place}: {n} unreadable dates in column {column} (taken as unknown)"),
            place=place,
            n=n,
            column=columns[what],
        )
        if what in columns
        else Message(what, place=place, n=n)
        for what, n in got.items()
        if n
    ]


def history_select(table: str) -> str:
    """The history ``table`` (as :func:`prepare_history` wrote or checked it) as (mid, field,
    value, valid_from, valid_to) with canonical field names, the fields without history
    dropped."""
    names = ", ".join(f"'{k}'" for k in HISTORY_FIELDS)
    fld = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in HISTORY_FIELDS.items())
    return (
        f"SELECT customer_id AS mid, CASE field {fld} END AS field, "
        "CAST(value AS VARCHAR) AS value, CAST(valid_from AS DATE) AS valid_from, "
        f"CAST(valid_to AS DATE) AS valid_to FROM {table} WHERE field IN ({names})"
    )
