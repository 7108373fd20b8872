"""An institution's access log read for insider ranking: who viewed, printed or exported which
customer when, from CSV (UTF-8 or GBK), XLSX, Parquet or a PostgreSQL table, with its columns
recognised by header in Chinese and English and its bad rows counted, never fatal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from leaktrace.errors import InputError, Message
from leaktrace.i18n import N_
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.source import Problem
from leaktrace.ingest.table_copy import copy_table
from leaktrace.verify.columns import CUSTOMER_HEADERS, check_mapping, norm_header

#: Action codes, weakest first: what an access could have given away.
VIEW, PRINT, EXPORT = 0, 1, 2
ACTION_NAMES = ("view", "print", "export")
#: Words naming each action, strongest first: a value naming several is the strongest.
ACTION_WORDS = (
    (EXPORT, ("export", "download", "extract", "dump", "导出", "下载", "提取", "备份")),
    (PRINT, ("print", "打印")),
    (VIEW, ("view", "query", "lookup", "look up", "search", "read", "display", "open", "browse",
            "查询", "查看", "浏览", "查阅", "调阅", "检索", "访问", "阅览")),
)  # fmt: skip

#: The option that maps columns when headers do not tell (named in errors).
COLUMNS_OPTION = "--log-columns"
ROLES = ("employee", "customer", "action", "time", "employee_branch", "customer_branch")
REQUIRED = ("employee", "customer", "action", "time")
#: Headers compared whole (loosely: case, blanks, _ - . ignored), per role.
HEADERS = {
    "employee": (
        "employee", "employee_id", "employee_no", "emp_id", "emp_no", "staff", "staff_id",
        "staff_no", "user", "user_id", "userid", "username", "operator", "operator_id",
        "teller", "teller_id", "员工", "员工号", "员工编号", "员工工号", "员工id", "工号",
        "柜员", "柜员号", "操作员", "操作员号", "操作员编号", "操作人", "操作人员", "用户",
        "用户号", "用户名", "用户id", "ygh", "gh", "czy", "gyh",
    ),
    "customer": tuple(h for h in CUSTOMER_HEADERS if h != "id"),
    "action": (
        "action", "operation", "op", "event", "activity", "access", "access_type", "op_type",
        "action_type", "operation_type", "event_type", "操作", "操作类型", "动作", "行为",
        "操作行为", "访问类型", "事件", "事件类型", "操作内容", "czlx",
    ),
    "time": (
        "time", "ts", "timestamp", "datetime", "date", "access_time", "event_time", "op_time",
        "operation_time", "accessed_at", "created_at", "时间", "操作时间", "访问时间", "日期",
        "时间戳", "发生时间", "交易时间", "操作日期", "记录时间", "czsj",
    ),
    "employee_branch": (
        "branch", "employee_branch", "emp_branch", "staff_branch", "org", "org_id", "org_no",
        "branch_id", "branch_no", "网点", "机构", "网点号", "机构号", "所属网点", "所属机构",
        "员工网点", "员工机构", "操作网点", "操作机构", "机构代码", "网点代码", "jgh", "wdh",
    ),
    "customer_branch": (
        "customer_branch", "cust_branch", "client_branch", "customer_org", "account_branch",
        "home_branch", "客户网点", "客户机构", "开户网点", "开户机构", "客户所属机构",
        "客户所属网点", "归属机构", "归属网点", "客户归属机构", "khjg", "khwd",
    ),
}  # fmt: skip
#: Words a header may contain, per role, tried in this order when no header matches whole.
CONTAINS = (
    ("time", ("时间", "日期", "time", "date")),
    ("customer_branch", ("客户网点", "客户机构", "开户网点", "开户机构", "归属机构", "custbranch")),
    ("customer", ("客户", "cust", "client")),
    ("employee_branch", ("网点", "机构", "branch")),
    ("employee", ("员工", "工号", "柜员", "操作员", "操作人", "employee", "staff", "operator")),
    ("action", ("操作", "动作", "行为", "action", "operation")),
)
#: Time formats tried on text, in order (the first that reads a value wins).
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S%.f",
    "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S", "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M:%S", "%Y年%m月%d日%H时%M分%S秒", "%Y-%m-%d",
    "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d",
)  # fmt: skip
#: Times with a zone are read as wall-clock times of the institution's zone.
TIME_ZONE = "Asia/Shanghai"
#: Times outside these years are not read (a typo or an epoch zero, not an access).
YEARS = (1990, 2100)


@dataclass(frozen=True)
class AccessLog:
    """The accesses, one a row: ``employee`` (text), ``customer`` (Int64), ``action`` (Int8:
    VIEW, PRINT, EXPORT), ``time`` (Datetime, null where unreadable) and the branches (text,
    null where not given); with where it came from and what of it was not read."""

    frame: pl.DataFrame
    place: str
    columns: dict[str, str]  # role -> column of the source
    problems: list[Problem] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)


def read_access_log(
    source: str | Path,
    work: Path,
    table: str | None = None,
    columns: dict[str, str] | None = None,
) -> AccessLog:
    """The access log in ``source`` (a table file or a PostgreSQL URL with ``table``), columns
    recognised by header unless ``columns`` maps roles to them; rows without an employee or a
    customer number are skipped and counted, unknown actions read as views and unreadable
    times as unknown, both counted."""
    copy = copy_table(source, work / "access_log.parquet", table)
    frame = pl.read_parquet(copy.path)
    found = recognise(frame.columns, copy.place, columns)
    accesses, problems = access_frame(frame, found, copy.place)
    return AccessLog(accesses, copy.place, found, problems, copy.notes)


def recognise(
    columns: list[str], place: str, mapping: dict[str, str] | None = None
) -> dict[str, str]:
    """Role -> column: ``mapping``'s choices, then headers matching whole, then headers holding
    a role's word; an InputError naming the columns seen when a needed role has none."""
    aliases = {norm_header(r): r for r in ROLES}
    chosen = check_mapping(mapping or {}, aliases, columns, place, COLUMNS_OPTION)
    free = [c for c in columns if c not in chosen.values()]
    for role in ROLES:
        if role in chosen:
            continue
        words = {norm_header(h) for h in HEADERS[role]}
        hits = [c for c in free if norm_header(c) in words]
        if hits:
            chosen[role] = hits[0]
            free.remove(hits[0])
    for role, words in CONTAINS:
        if role in chosen:
            continue
        hits = [c for c in free if any(w in norm_header(c) for w in words)]
        if len(hits) == 1:
            chosen[role] = hits[0]
            free.remove(hits[0])
    missing = [r for r in REQUIRED if r not in chosen]
    if missing:
        raise InputError(
            place,
            N_("columns for {roles} (name them with {option} ROLE=COLUMN,...)"),
            N_("columns: {columns}"),
            roles=", ".join(missing),
            option=COLUMNS_OPTION,
            columns=", ".join(columns),
        )
    return chosen


def access_frame(
    frame: pl.DataFrame, found: dict[str, str], place: str
) -> tuple[pl.DataFrame, list[Problem]]:
    """The accesses of ``frame`` in the log's own shape (see AccessLog) and the problems met:
    bad rows counted, an InputError when no row is left."""
    problems: list[Problem] = []
    log = ProblemLog(place, problems)
    out = frame.select(
        pl.col(found["employee"]).cast(pl.String).str.strip_chars().alias("employee"),
        customer_numbers(frame[found["customer"]]).alias("customer"),
        parse_actions(frame[found["action"]]).alias("action"),
        parse_times(frame[found["time"]]).alias("time"),
        *(
            (
                pl.col(found[r]).cast(pl.String).str.strip_chars()
                if r in found
                else pl.lit(None, pl.String)
            ).alias(r)
            for r in ("employee_branch", "customer_branch")
        ),
    ).with_row_index("row", 1)
    out = out.with_columns(pl.col("employee").replace("", None))
    for role, bad, expected, skipped in (
        ("employee", pl.col("employee").is_null(), N_("an employee"), True),
        ("customer", pl.col("customer").is_null(), N_("a whole customer number"), True),
        (
            "action",
            pl.col("action").is_null(),
            N_("an action (view, print or export); read as a view"),
            False,
        ),
        (
            "time",
            pl.col("time").is_null(),
            N_("a date and time; read as possibly before the leak"),
            False,
        ),
    ):
        rows = out.filter(bad)["row"]
        if rows.len():
            log.add(
                role,
                f"{place} row {rows[0]} column {found[role]}",
                N_("{what} ({rows} such rows)"),
                rows.len() if skipped else 0,
                what=Message(expected),
                rows=rows.len(),
            )
    log.finish()
    out = out.filter(pl.col("employee").is_not_null() & pl.col("customer").is_not_null())
    out = out.with_columns(pl.col("action").fill_null(VIEW)).drop("row")
    if not out.height:
        raise InputError(place, N_("at least one access with an employee and a customer number"))
    return out, problems


def customer_numbers(values: pl.Series) -> pl.Series:
    """Whole non-negative customer numbers (leading zeros and blanks allowed), null otherwise."""
    if values.dtype.is_integer():
        numbers = values.cast(pl.Int64, strict=False)
    elif values.dtype.is_float():  # a spreadsheet's numbers: whole ones only
        whole = values.is_finite() & (values == values.floor()) & (values.abs() < 1e18)
        numbers = pl.select(pl.when(whole).then(values.cast(pl.Int64, strict=False))).to_series()
    else:  # text: digits, a spreadsheet's trailing ".0" allowed
        text = values.cast(pl.String).str.strip_chars().str.replace(r"\.0+$", "")
        digits = text.str.contains(r"^\d{1,18}$")
        numbers = pl.select(pl.when(digits).then(text.cast(pl.Int64, strict=False))).to_series()
    return pl.select(pl.when(numbers >= 0).then(numbers)).to_series().rename(values.name)


def parse_actions(values: pl.Series) -> pl.Series:
    """Each value's action code (VIEW, PRINT, EXPORT; the strongest it names), null when it
    names none."""
    text = values.cast(pl.String).str.to_lowercase()
    expr = pl.lit(None, pl.Int8)
    for code, words in reversed(ACTION_WORDS):
        pattern = "|".join(re.escape(w) for w in words)
        expr = (
            pl.when(pl.col("a").str.contains(pattern)).then(pl.lit(code, pl.Int8)).otherwise(expr)
        )
    return pl.DataFrame({"a": text}).select(expr.alias(values.name)).to_series()


def parse_times(values: pl.Series) -> pl.Series:
    """Each value as a Datetime (ms): datetimes and dates as they are, text in the usual
    Chinese and ISO writings; null when unreadable or outside the years leaktrace believes."""
    if isinstance(values.dtype, pl.Datetime) and values.dtype.time_zone:
        local = values.dt.convert_time_zone(TIME_ZONE).dt.replace_time_zone(None)
        times = local.cast(pl.Datetime("ms"))
    elif isinstance(values.dtype, pl.Datetime | pl.Date):
        times = values.cast(pl.Datetime("ms"))
    elif values.dtype.is_temporal():  # a time of day or a duration: no date to read
        times = pl.Series(values.name, [None] * values.len(), pl.Datetime("ms"))
    else:
        text = values.cast(pl.String).str.strip_chars()
        tries = [text.str.to_datetime(f, time_unit="ms", strict=False) for f in TIME_FORMATS]
        times = pl.select(pl.coalesce(tries)).to_series()
    year = times.dt.year()
    ok = (year >= YEARS[0]) & (year < YEARS[1])
    return pl.select(pl.when(ok).then(times)).to_series().rename(values.name)
