"""The ``leaktrace`` command: parses arguments, calls the Python API, renders with rich.

Exit status: 0 done, 1 the input was unusable (with the reason), 2 wrong usage.
JSON goes to stdout alone; progress and messages go to stderr.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from leaktrace import help_texts, i18n
from leaktrace.errors import InputError, LeaktraceError
from leaktrace.i18n import _
from leaktrace.report.terminal import render_scan

if TYPE_CHECKING:
    from leaktrace.trace.ledger import Ledger, Share


def _lang_in(argv: list[str]) -> str | None:
    """The value of ``--lang`` anywhere in ``argv`` (``--lang zh`` or ``--lang=zh``)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


# The help texts below are translated when this module is imported: the language is settled
# first, from --lang or else the locale (a wrong --lang value is reported by the option).
_wanted = _lang_in(sys.argv[1:])
i18n.set_language(_wanted if _wanted in i18n.LANGS else i18n.detect())
help_texts.install()

app = typer.Typer(
    name="leaktrace",
    help=_("Find, verify and trace leaked Chinese personal data."),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
err = Console(stderr=True)


class Lang(StrEnum):
    """The languages of ``--lang``."""

    zh = "zh"
    en = "en"


class EngineName(StrEnum):
    """The engines of ``--engine``."""

    duckdb = "duckdb"
    spark = "spark"


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        print(f"leaktrace {version('leaktrace')}")
        raise typer.Exit()


@app.callback()
def _root(
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang",
            help=_("Language of messages, help and reports (zh or en); by default the locale's."),
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help=_("Show the version and exit.")
        ),
    ] = False,
) -> None:
    if lang is not None:
        i18n.set_language(lang.value)
        help_texts.install()


def _out() -> Console:
    """The console for results on stdout: as wide as the terminal, and when stdout is a file or
    a pipe (no terminal to fit) wide enough that no file name or mapping is cut."""
    if sys.stdout.isatty() or "COLUMNS" in os.environ:
        return Console()
    return Console(width=PIPED_WIDTH)


PIPED_WIDTH = 400


def _progress(in_bytes: bool = True) -> Progress:
    """A progress bar on stderr that disappears when done; counts bytes or items."""
    counts = (DownloadColumn(), TransferSpeedColumn()) if in_bytes else (MofNCompleteColumn(),)
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        *counts,
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def _help(summary: str, *examples: str) -> str:
    """A command's help: its translated summary, then examples (commands are not translated)."""
    return "\n\n".join([summary, _("Examples:"), *examples])


_JSON_HELP = _("Print the result as JSON on stdout (keys and codes the same in every language).")
_MasterTable = Annotated[
    str | None,
    typer.Option(
        "--table", help=_("The master's table in a database, or its sheet in a workbook.")
    ),
]
_Report = Annotated[
    Path | None,
    typer.Option("--report", help=_("Write the report here (HTML, or PDF by suffix).")),
]
_Engine = Annotated[
    EngineName,
    typer.Option("--engine", help=_("duckdb (embedded) or spark (local[*] or a cluster).")),
]
_MasterColumns = Annotated[
    dict[str, str] | None,
    typer.Option(
        "--master-columns",
        parser=lambda text: _mapping(text, "--master-columns"),
        metavar="ROLE=COLUMN,...",
        help=_(
            "Name master columns where recognition is unsure: customer, resident_id, "
            "mobile, person_name, address, bank_card, email, birth, opened (or name, id, "
            "card, addr; e.g. customer=KHH,resident_id=ZJHM,mobile=SJHM)."
        ),
    ),
]


@app.command(
    "scan",
    help=_help(
        _("What personal identifiers are in these files, and are they valid?"),
        "leaktrace scan dump.csv post.txt leaks/ bundle.zip --out leak.parquet --report scan.html",
        "LEAKTRACE_PASSWORD=... leaktrace scan encrypted.7z",
    ),
)
def scan_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help=_(
                "Files, folders (walked) and archives (zip, tar, 7z, rar; e-mail, DOCX, PDF) "
                "to scan; format and encoding are detected."
            )
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help=_("Write the normalised table here (Parquet)."))
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help=_("Write the scan report here (HTML, or PDF by suffix).")),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help=_(
                "Opens encrypted archives (zip, 7z, rar) and PDFs. Other users of this machine "
                "can read it in the process list: prefer the LEAKTRACE_PASSWORD environment "
                "variable."
            ),
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON_HELP)] = False,
) -> None:
    """``leaktrace scan``: identifiers found in files, with their validity."""
    from leaktrace.ingest.expand import is_container
    from leaktrace.scan import scan

    for p in paths:
        if not p.exists():
            _fail(_("{path}: expected an existing file or folder").format(path=p))
    if password is not None:
        _warn(
            _(
                "--password: other users of this machine can read it in the process list; "
                "give it in LEAKTRACE_PASSWORD instead"
            )
        )
    with _user_errors():
        # a folder's or an archive's scanned bytes are not its size on disk: no total then
        sized = not any(is_container(p) for p in paths)
    total = sum(p.stat().st_size for p in paths) if sized else None
    with _user_errors(), _progress() as bar:
        task = bar.add_task(_("scanning"), total=total or None)
        result = scan(
            paths,
            out=out,
            progress=lambda done: bar.update(task, completed=done),
            password=password,
        )
        if report is not None:
            from leaktrace.report.scan_html import render_scan_html

            _write_report(render_scan_html(result), report)
    _show(result.to_dict, lambda: render_scan(result, _out()), as_json, report)


@app.command(
    "verify",
    help=_help(
        _("Is this leak real, is it ours, whose records, as of when?"),
        "leaktrace verify leak.csv --against world/ --report verify.html",
        "leaktrace verify leak.csv --against postgresql://audit@db.bank.internal/crm "
        "--table public.customers",
        "leaktrace verify leak.csv --against master.xlsx --history changes.csv "
        "--master-date 2026-12-01 --master-columns customer=KHH,resident_id=ZJHM",
    ),
)
def verify_cmd(
    leak: Annotated[
        Path, typer.Argument(help=_("The leak: any file scan reads, or a scanned Parquet."))
    ],
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help=_(
                "Master data: any table file scan reads (CSV/TSV in any encoding, XLSX, JSON, "
                "a SQL dump), Parquet, a DuckDB file, a synth world directory, or a PostgreSQL "
                "URL (postgresql://user@host:port/db; the password from PGPASSWORD or "
                "~/.pgpass) with --table. Without it only the forgery signals run."
            ),
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option(
            "--table",
            help=_(
                "The master's table in the PostgreSQL database or DuckDB file (NAME or "
                "SCHEMA.NAME), or its sheet in a workbook or table in a SQL dump."
            ),
        ),
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(
            "--history",
            help=_(
                "Past values with their dates: any table file scan reads, Parquet, a DuckDB "
                "file or a PostgreSQL URL (with --history-table); long (customer, field, value, "
                "from, to) or wide (customer, field, old, new, change date)."
            ),
        ),
    ] = None,
    history_table: Annotated[
        str | None,
        typer.Option("--history-table", help=_("The history's table in a database or workbook.")),
    ] = None,
    master_columns: _MasterColumns = None,
    history_columns: Annotated[
        dict[str, str] | None,
        typer.Option(
            "--history-columns",
            parser=lambda text: _mapping(text, "--history-columns"),
            metavar="ROLE=COLUMN,...",
            help=_(
                "Name history columns: customer, field, value, from, to (long) or customer, "
                "field, old, new, date (wide); e.g. "
                "customer=客户号,field=字段,value=旧值,from=起,to=止."
            ),
        ),
    ] = None,
    master_date: Annotated[
        dt.datetime | None,
        typer.Option(
            "--master-date",
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help=_("When the master was extracted; without it, its latest opening or change date."),
        ),
    ] = None,
    report: _Report = None,
    records: Annotated[
        Path | None,
        typer.Option(
            "--records",
            metavar="FILE",
            help=_("Write one row per leak record: CSV, XLSX or Parquet by suffix."),
        ),
    ] = None,
    unmasked: Annotated[
        bool,
        typer.Option(
            "--unmasked",
            help=_(
                "Write the leak's values unmasked in the --records file; the file then holds "
                "personal data."
            ),
        ),
    ] = False,
    engine: _Engine = EngineName.duckdb,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON_HELP)] = False,
) -> None:
    """``leaktrace verify``: a leak linked to master data, with its verdict."""
    from leaktrace.ingest.postgres import is_postgres_url
    from leaktrace.report.verify_terminal import render_verify
    from leaktrace.verify import verify

    from_postgres = against is not None and is_postgres_url(against)
    if from_postgres and not table:
        _usage(_("--table: expected the master's table with a PostgreSQL URL"))
    if from_postgres and _url_has_password(str(against)):
        _warn(
            _(
                "--against: the URL holds a password, which other users of this machine can "
                "read in its process list; give it in PGPASSWORD or ~/.pgpass"
            )
        )
    _check_records(records, unmasked)
    local_history = None if history is None or is_postgres_url(history) else history
    for p in (leak, None if from_postgres else against, local_history):
        if p is not None and not Path(p).exists():
            _fail(_("{path}: expected an existing file or directory").format(path=p))
    with _user_errors(), _progress(in_bytes=False) as bar:
        task = bar.add_task(_("verifying"), total=1.0)

        def step(name: str, share: float) -> None:
            bar.update(task, description=name, completed=share)

        master = against if from_postgres or against is None else Path(against)
        result = verify(
            leak,
            master,
            history,
            engine.value,
            master_table=table,
            master_columns=master_columns,
            history_columns=history_columns,
            history_table=history_table,
            master_date=master_date.date() if master_date else None,
            progress=step,
            records=records is not None or report is not None,
        )
        if records is not None and result.record_table is not None:
            from leaktrace.report.records_file import write_records

            step(_("writing the per-record results"), 1.0)
            write_records(result.record_table, records, unmasked=unmasked)
        if report is not None:
            from leaktrace.report.verify_html import render_html

            _write_report(render_html(result), report)
    if as_json:
        _print_json(result.to_dict())
    else:
        render_verify(result, _out())
        if report is not None:
            _said(_("Report written to {path}").format(path=report))
        if records is not None:
            _said(_("Per-record results written to {path}").format(path=records))


def _check_records(records: Path | None, unmasked: bool) -> None:
    """Wrong usage of --records and --unmasked ends here, before any work; --unmasked warns."""
    from leaktrace.report.records_file import check_suffix

    if records is not None:
        try:
            check_suffix(records)
        except ValueError as e:
            _usage(f"--records: {e}")
    if unmasked and records is None:
        _usage("--unmasked: " + _("expected with --records FILE"))
    if unmasked:
        _warn(
            "--unmasked: "
            + _(
                "{path} will hold the leak's personal data unmasked: keep and share it as such"
            ).format(path=records)
        )


def _mapping(text: str, option: str) -> dict[str, str]:
    """``customer=客户号,field=字段`` as a dict (a malformed item is wrong usage)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        role, sep, col = item.partition("=")
        if not sep or not role.strip() or not col.strip():
            raise typer.BadParameter(
                _("expected ROLE=COLUMN items separated by commas, found {item!r}").format(
                    item=item
                ),
                param_hint=option,
            )
        out[role.strip()] = col.strip()
    return out


def _url_has_password(url: str) -> bool:
    """Whether a database URL carries a password (``user:password@host``)."""
    from urllib.parse import urlsplit

    try:
        return bool(urlsplit(url).password)
    except ValueError:  # a malformed URL: the connection will say what is wrong
        return False


@app.command(
    "synth",
    help=_help(
        _(
            "Generate a fake institution (customers, history, recipients, shares, employees, "
            "access log) as Parquet, and leaks of every kind in every format, each with its "
            "ground truth."
        ),
        "leaktrace synth --customers 100000 --seed 7 --out world/",
    ),
)
def synth_cmd(
    customers: Annotated[
        int, typer.Option("--customers", min=1, help=_("Customers in the world."))
    ],
    out: Annotated[Path, typer.Option("--out", help=_("Directory for the world and its leaks."))],
    seed: Annotated[int, typer.Option("--seed", help=_("Same seed, same world."))] = 0,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON_HELP)] = False,
) -> None:
    """``leaktrace synth``: a fake institution and its leaks."""
    from leaktrace.report.terminal import render_synth
    from leaktrace.synth.bundle import synth_to_dir

    with _user_errors(), _progress(in_bytes=False) as bar:
        task = bar.add_task(_("customers"), total=customers)
        summary = synth_to_dir(
            out, customers, seed=seed, progress=lambda done: bar.update(task, completed=done)
        )
    if as_json:
        _print_json(summary)
    else:
        render_synth(summary, _out())


class _ShareGroup(typer.core.TyperGroup):
    """``leaktrace share``: ``list`` and ``show`` read the ledger; anything else makes a share
    (``leaktrace share MASTER ...`` is ``leaktrace share new MASTER ...``)."""

    def resolve_command(
        self, ctx: typer.Context, args: list[str]
    ) -> tuple[str | None, typer.core.TyperCommand | None, list[str]]:
        if args and args[0] not in self.commands:
            return "new", self.commands["new"], args  # type: ignore[return-value]
        return super().resolve_command(ctx, args)  # type: ignore[return-value]


share_app = typer.Typer(
    cls=_ShareGroup,
    help=_help(
        _(
            "Hand customers' columns to a recipient as a marked copy recorded in the share "
            "ledger (share MASTER, short for share new MASTER), and read the ledger (share "
            "list, share show)."
        ),
        "LEAKTRACE_SECRET_FILE=~/.leaktrace/secret leaktrace share world/ --to 某某科技有限公司 "
        "--records @ids.txt --columns 姓名,手机号 --purpose 贷后催收 --basis 委托合同 --out copy.csv",
        "leaktrace share list",
        "leaktrace share show 3f2a9c0d1e4b5a67",
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(share_app, name="share")

_DB_HELP = _(
    "The share ledger's database (SQLAlchemy URL); else LEAKTRACE_DB, else a SQLite file "
    "under the user's data directory."
)


class Encoding(StrEnum):
    """The encodings of ``--encoding`` for a CSV copy."""

    utf8 = "utf-8"
    gbk = "gbk"


@share_app.command(
    "new",
    help=_help(
        _(
            "Write the recipient's marked copy of some customers' columns and record the "
            "hand-over in the share ledger. The marking secret comes from the file named by "
            "LEAKTRACE_SECRET_FILE or from LEAKTRACE_SECRET, never from the command line."
        ),
        "LEAKTRACE_SECRET_FILE=~/.leaktrace/secret leaktrace share master.xlsx --to 某某保险代理 "
        "--records @ids.txt --columns 客户号,姓名,身份证号,手机号 --basis 客户授权 --out copy.xlsx",
    ),
)
def share_new_cmd(
    master: Annotated[
        str,
        typer.Argument(
            help=_(
                "Master data: any table file scan reads, Parquet, a DuckDB file, a synth "
                "world directory, or a PostgreSQL URL with --table."
            )
        ),
    ],
    to: Annotated[str, typer.Option("--to", help=_("The recipient of the data."))],
    records: Annotated[
        str,
        typer.Option(
            "--records",
            metavar="@IDFILE|QUERY",
            help=_(
                "The customers to share: @FILE names a file of customer numbers, one a line "
                "(a number the master does not hold stops the share: nothing is written or "
                "recorded); anything else is a SQL condition over the master's columns, "
                "such as \"网点 = '0101' AND 开户日期 < '2020-01-01'\" (columns, values, "
                "operators and functions such as year(), lower(), substring(); nothing else)."
            ),
        ),
    ],
    columns: Annotated[
        str,
        typer.Option(
            "--columns", metavar="A,B,...", help=_("The master's columns to share, by header.")
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help=_("The recipient's copy: CSV, XLSX or Parquet by its suffix.")),
    ],
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help=_("Why the data is shared; without it, a gap.")),
    ] = None,
    basis: Annotated[
        str | None,
        typer.Option("--basis", help=_("The legal basis of the sharing; without it, a gap.")),
    ] = None,
    encoding: Annotated[
        Encoding, typer.Option("--encoding", help=_("The encoding of a CSV copy."))
    ] = Encoding.utf8,
    table: _MasterTable = None,
    master_columns: _MasterColumns = None,
    db: Annotated[str | None, typer.Option("--db", help=_DB_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON_HELP)] = False,
) -> None:
    """``leaktrace share MASTER``: a marked copy for one recipient, recorded in the ledger."""
    import tempfile

    import numpy as np

    from leaktrace.trace import secret as secrets
    from leaktrace.trace.records_query import customers_where
    from leaktrace.trace.share import file_format, share
    from leaktrace.trace.share_input import read_ids, read_master

    by_file = records.startswith("@")
    if records.strip() in ("", "@"):
        _usage(
            "--records: "
            + _("expected @FILE, a file of customer numbers, or a condition over the master")
        )
    wanted = [c.strip() for c in columns.split(",") if c.strip()]
    if not wanted or len(set(wanted)) < len(wanted):
        _usage("--columns: " + _("expected distinct column headers separated by commas"))
    try:
        fmt = file_format(out, encoding.value)
    except InputError:
        _usage("--out: " + _("expected a file name ending in .csv, .xlsx or .parquet"))
    if not to.strip():
        _usage("--to: " + _("expected the recipient's name"))
    with _user_errors():
        key = secrets.load()
        ids = read_ids(Path(records[1:])) if by_file else None
        with tempfile.TemporaryDirectory(prefix="leaktrace-share-") as work:
            source = read_master(master, Path(work), table, master_columns)
            if ids is None:
                ids = customers_where(
                    records, source.path, source.frame.columns, source.customer_column
                )
            unknown = [c for c in wanted if c not in source.frame.columns]
            if unknown:
                _usage(
                    "--columns: "
                    + _("the master has no column {columns}; its columns: {known}").format(
                        columns=", ".join(unknown), known=", ".join(source.frame.columns)
                    )
                )
            held = np.isin(ids, source.frame[source.customer_column].to_numpy())
            if not held.all():
                _fail(
                    _(
                        "{path}: {count} of {total} customer numbers are not in the master; "
                        "nothing was written or recorded"
                    ).format(path=records[1:], count=int((~held).sum()), total=ids.size)
                )
            recorded = share(
                source.frame,
                to,
                ids,
                wanted,
                out,
                key,
                _ledger(db),
                customer_column=source.customer_column,
                roles=source.roles,
                purpose=purpose,
                basis=basis,
                encoding=encoding.value,
                place=source.place,
                master_place=_master_place(master, source.place),
            )
    _show_share(recorded, as_json, out=out, file_format=fmt)


def _master_place(master: str, place: str) -> str:
    """Where a master was read, for the ledger: a local file or folder as an absolute path, a
    database as the reader named it (URL without password, and table)."""
    from leaktrace.ingest.postgres import is_postgres_url

    return place if is_postgres_url(master) else str(Path(master).resolve())


@share_app.command(
    "list",
    help=_help(
        _("Every share in the ledger, oldest first, with its gaps."), "leaktrace share list"
    ),
)
def share_list_cmd(
    db: Annotated[str | None, typer.Option("--db", help=_DB_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON_HELP)] = False,
) -> None:
    """``leaktrace share list``: the ledger's shares."""
    from rich.table import Table

    with _user_errors():
        shares = _ledger(db).shares()
    if as_json:
        _print_json([_share_doc(s) for s in shares])
        return
    if not shares:
        _said(_("The share ledger holds no share."))
        return
    table = Table(
        _("share"), _("date"), _("recipient"), _("customers"), _("gaps"), title=_("share ledger")
    )
    for s in shares:
        table.add_row(
            s.id,
            s.shared_at.strftime("%Y-%m-%d %H:%M"),
            escape(s.recipient),
            str(s.customer_count),
            ", ".join(_gap_names(s)),
        )
    _out().print(table)


@share_app.command(
    "show",
    help=_help(
        _("One share as the ledger holds it: recipient, purpose, legal basis, columns, gaps."),
        "leaktrace share show 3f2a9c0d1e4b5a67 --json",
    ),
)
def share_show_cmd(
    share_id: Annotated[str, typer.Argument(metavar="SHARE", help=_("The share's id."))],
    customers: Annotated[
        bool,
        typer.Option("--customers", help=_("List the customer numbers the share held too.")),
    ] = False,
    db: Annotated[str | None, typer.Option("--db", help=_DB_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON_HELP)] = False,
) -> None:
    """``leaktrace share show SHARE``: one share of the ledger."""
    from leaktrace.trace.ledger import UnknownShare

    with _user_errors():
        ledger = _ledger(db)
        try:
            found = ledger.show(share_id)
        except UnknownShare:
            _fail(_("{share}: the share ledger holds no share by this id").format(share=share_id))
        ids = ledger.customers(share_id).tolist() if customers else None
    _show_share(found, as_json, customers=ids)


@app.command(
    "trace",
    help=_help(
        _(
            "Find who leaked a list: link it to the master the shares were cut from, read the "
            "marks of each share in it, and accuse a recipient only when the chance that an "
            "innocent one scores as high, corrected for the shares tested, is at most "
            "--epsilon, or when one of its canaries is in the list. The marking secret comes "
            "from LEAKTRACE_SECRET_FILE or LEAKTRACE_SECRET."
        ),
        "LEAKTRACE_SECRET_FILE=~/.leaktrace/secret leaktrace trace 出售样本.xlsx "
        "--report trace.html",
    ),
)
def trace_cmd(
    leak: Annotated[
        Path, typer.Argument(help=_("The leak: any file, folder or archive scan reads."))
    ],
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            metavar="MASTER",
            help=_(
                "The master the shares were cut from; without it, the one the share ledger "
                "recorded."
            ),
        ),
    ] = None,
    table: _MasterTable = None,
    master_columns: _MasterColumns = None,
    access_log: Annotated[
        str | None,
        typer.Option(
            "--access-log",
            metavar="LOG",
            help=_(
                "Who viewed, printed or exported which customers, when (CSV, XLSX, Parquet, or a "
                "PostgreSQL URL with --log-table): rank the employees whose accesses explain the "
                "leak."
            ),
        ),
    ] = None,
    log_table: Annotated[
        str | None,
        typer.Option("--log-table", help=_("The access log's table in a database.")),
    ] = None,
    log_columns: Annotated[
        str | None,
        typer.Option(
            "--log-columns",
            metavar="ROLE=COL,...",
            help=_(
                "Name the access log's columns: employee, customer, action, time, "
                "employee_branch, customer_branch; e.g. employee=柜员号,customer=客户号."
            ),
        ),
    ] = None,
    epsilon: Annotated[
        float,
        typer.Option(
            "--epsilon",
            min=1e-300,
            max=0.5,
            help=_(
                "Accuse only when the chance of accusing an innocent recipient, over all "
                "shares tested, is at most this."
            ),
        ),
    ] = 1e-6,
    report: _Report = None,
    engine: _Engine = EngineName.duckdb,
    db: Annotated[str | None, typer.Option("--db", help=_DB_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_JSON_HELP)] = False,
) -> None:
    """``leaktrace trace``: who a leak came from, with the chance of accusing an innocent."""
    from leaktrace.ingest.postgres import is_postgres_url
    from leaktrace.report.trace_terminal import render_trace
    from leaktrace.trace import secret as secrets
    from leaktrace.trace.api import recorded_master, trace

    for path in (leak, None if access_log is None or is_postgres_url(access_log) else access_log):
        if path is not None and not Path(path).exists():
            _fail(_("{path}: expected an existing file or directory").format(path=path))
    if access_log is not None and is_postgres_url(access_log) and not log_table:
        _usage(_("--log-table: expected the access log's table with a PostgreSQL URL"))
    with _user_errors():
        key = secrets.load()
        ledger = _ledger(db)
        master = against or recorded_master(ledger)
        with _progress(in_bytes=False) as bar:
            task = bar.add_task(_("tracing"), total=1.0)

            def step(name: str, share: float) -> None:
                bar.update(task, description=name, completed=share)

            result = trace(
                leak,
                master,
                ledger=ledger,
                secret=key,
                engine=engine.value,
                epsilon=epsilon,
                master_table=table,
                master_columns=master_columns,
                access_log=access_log,
                log_table=log_table,
                log_columns=_mapping(log_columns, "--log-columns") if log_columns else None,
                progress=step,
            )
            if report is not None:
                from leaktrace.report.trace_html import render_trace_html

                _write_report(render_trace_html(result), report)
    _show(result.to_dict, lambda: render_trace(result, _out()), as_json, report)


_REGISTRY_DB_HELP = _(
    "The registry's database (SQLAlchemy URL); else LEAKTRACE_DB, else a SQLite file under the "
    "user's data directory."
)
_Json = Annotated[bool, typer.Option("--json", help=_JSON_HELP)]
_RegistryDb = Annotated[
    str | None, typer.Option("--db", metavar="URL", help=_REGISTRY_DB_HELP, show_default=False)
]


@app.command(
    "serve",
    help=_help(
        _(
            "Run the breach registry: its web pages and API, on the database migrated to the "
            "newest schema, with the worker that delivers webhooks and watches deadlines, and "
            "the key process that alone holds the OPRF key."
        ),
        "leaktrace serve --host 127.0.0.1 --port 8000",
    ),
)
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help=_("The address to listen on."))] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help=_("The port to listen on."))] = 8000,
    db: _RegistryDb = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            metavar="FILE",
            help=_(
                "The OPRF key, read by the key process alone (made, mode 0600, when missing); "
                "else LEAKTRACE_KEY_FILE, else registry.key beside the database."
            ),
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help=_("Web processes (one per core is a good start); they share the key process."),
        ),
    ] = 1,
) -> None:
    """``leaktrace serve``."""
    from leaktrace.registry.serve import serve

    _said(_("Serving the registry on http://{host}:{port}/").format(host=host, port=port))
    with _user_errors():
        serve(db, host, port, key_file, workers)


registry_app = typer.Typer(
    help=_help(
        _(
            "Administer the breach registry: organisations, users, API keys, the schema and "
            "the audit log."
        ),
        "leaktrace registry org create 某某银行 --kind institution --sector bank",
        "leaktrace registry audit verify",
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(registry_app, name="registry")
_org_app = typer.Typer(help=_("Organisations: institutions and regulators."), no_args_is_help=True)
_user_app = typer.Typer(help=_("Users of an organisation."), no_args_is_help=True)
_key_app = typer.Typer(help=_("API keys of an organisation."), no_args_is_help=True)
_audit_app = typer.Typer(help=_("The audit log."), no_args_is_help=True)
registry_app.add_typer(_org_app, name="org")
registry_app.add_typer(_user_app, name="user")
registry_app.add_typer(_key_app, name="key")
registry_app.add_typer(_audit_app, name="audit")


@contextmanager
def _registry(db: str | None) -> Iterator[object]:
    """A transaction on the registry's database, migrated first; its refusals as messages."""
    from leaktrace.registry import db as registry_db
    from leaktrace.registry.errors import RegistryError

    engine = registry_db.make_engine(db)
    try:
        registry_db.upgrade(engine)
        with registry_db.transaction(engine) as session:
            yield session
    except RegistryError as e:
        _fail(e.detail)
    finally:
        engine.dispose()


@registry_app.command(
    "migrate",
    help=_help(
        _("Bring the registry's database to the newest schema."), "leaktrace registry migrate"
    ),
)
def registry_migrate_cmd(db: _RegistryDb = None) -> None:
    """``leaktrace registry migrate``."""
    from leaktrace.registry import db as registry_db

    engine = registry_db.make_engine(db)
    registry_db.upgrade(engine)
    _said(
        _("The registry's schema is at revision {rev}.").format(
            rev=registry_db.current_revision(engine)
        )
    )
    engine.dispose()


@_org_app.command(
    "create",
    help=_help(
        _(
            "Add an institution (with its sector) or a regulator (with the authority it speaks for)."
        ),
        "leaktrace registry org create 某某银行 --kind institution --sector bank --cii",
        "leaktrace registry org create 某省网信办 --kind regulator --authority CAC",
    ),
)
def registry_org_create_cmd(
    name: Annotated[str, typer.Argument(help=_("The organisation's name."))],
    kind: Annotated[str, typer.Option("--kind", help=_("institution or regulator."))],
    sector: Annotated[
        str | None,
        typer.Option(
            "--sector", help=_("An institution's sector: bank, insurer, lender, payment or other.")
        ),
    ] = None,
    authority: Annotated[
        str | None,
        typer.Option("--authority", help=_("A regulator's authority: CAC, PBOC or NFRA.")),
    ] = None,
    cii: Annotated[
        bool, typer.Option("--cii", help=_("An operator of critical information infrastructure."))
    ] = False,
    central_body: Annotated[
        bool, typer.Option("--central-body", help=_("A central or state body."))
    ] = False,
    customers: Annotated[
        int | None,
        typer.Option(
            "--customers",
            help=_("An institution's declared customer count: its enrolment quota."),
        ),
    ] = None,
    db: _RegistryDb = None,
    as_json: _Json = False,
) -> None:
    """``leaktrace registry org create``."""
    from leaktrace.registry import admin, enrolments

    with _registry(db) as session:
        org = admin.create_org(session, name, kind, sector, authority, cii, central_body)  # type: ignore[arg-type]
        if customers is not None:
            enrolments.declare(session, org.id, customers)  # type: ignore[arg-type]
        doc = {"id": org.id, "name": org.name, "kind": org.kind}
    _print_json(doc) if as_json else _said(_("Organisation {id} created.").format(id=doc["id"]))


def _password() -> str:
    """The new user's password: LEAKTRACE_PASSWORD_FILE, LEAKTRACE_PASSWORD, else asked twice."""
    if path := os.environ.get("LEAKTRACE_PASSWORD_FILE"):
        return Path(path).read_text(encoding="utf-8").strip()
    if value := os.environ.get("LEAKTRACE_PASSWORD"):
        return value
    return typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True)


@_user_app.command(
    "create",
    help=_help(
        _(
            "Add a user to an organisation. The password comes from LEAKTRACE_PASSWORD_FILE or "
            "LEAKTRACE_PASSWORD, else it is asked for; never from the command line."
        ),
        "leaktrace registry user create zhang.wei --org 某某银行 --role reporter",
    ),
)
def registry_user_create_cmd(
    username: Annotated[str, typer.Argument(help=_("The user name to sign in with."))],
    org: Annotated[str, typer.Option("--org", help=_("The organisation's name."))],
    role: Annotated[
        str,
        typer.Option(
            "--role", help=_("viewer, reporter (institutions), reviewer (regulators) or admin.")
        ),
    ],
    display_name: Annotated[
        str, typer.Option("--display-name", help=_("The name shown on pages."))
    ] = "",
    db: _RegistryDb = None,
    as_json: _Json = False,
) -> None:
    """``leaktrace registry user create``."""
    from leaktrace.registry import admin

    password = _password()
    with _registry(db) as session:
        found = admin.org_by_name(session, org)  # type: ignore[arg-type]
        user = admin.create_user(session, None, found.id, username, password, role, display_name)  # type: ignore[arg-type]
        doc = {"id": user.id, "username": user.username, "org_id": found.id, "role": role}
    _print_json(doc) if as_json else _said(_("User {id} created.").format(id=doc["id"]))


@_key_app.command(
    "create",
    help=_help(
        _("Make an API key for an organisation; the key is shown once, never stored."),
        "leaktrace registry key create --org 某某银行 --role reporter --name 上报系统",
    ),
)
def registry_key_create_cmd(
    org: Annotated[str, typer.Option("--org", help=_("The organisation's name."))],
    role: Annotated[
        str,
        typer.Option(
            "--role", help=_("viewer, reporter (institutions), reviewer (regulators) or admin.")
        ),
    ],
    name: Annotated[str, typer.Option("--name", help=_("What the key is for."))] = "key",
    db: _RegistryDb = None,
    as_json: _Json = False,
) -> None:
    """``leaktrace registry key create``."""
    from leaktrace.registry import admin

    with _registry(db) as session:
        found = admin.org_by_name(session, org)  # type: ignore[arg-type]
        key, secret = admin.create_key(session, None, found.id, name, role)  # type: ignore[arg-type]
        doc = {"id": key.id, "prefix": key.prefix, "role": role, "key": secret}
    if as_json:
        _print_json(doc)
    else:
        _said(_("Key {id} created; it is shown this once:").format(id=doc["id"]))
        sys.stdout.write(secret + "\n")


@_audit_app.command(
    "verify",
    help=_help(
        _(
            "Check the audit log's hash chain from its first entry to its head: any changed, "
            "removed, reordered or added entry is found and named."
        ),
        "leaktrace registry audit verify",
    ),
)
def registry_audit_verify_cmd(db: _RegistryDb = None, as_json: _Json = False) -> None:
    """``leaktrace registry audit verify``: exit 0 when the chain is whole, 1 when it is not."""
    from leaktrace.registry import audit
    from leaktrace.registry import db as registry_db

    engine = registry_db.make_engine(db)
    try:
        check = audit.verify(engine)
    finally:
        engine.dispose()
    if as_json:
        _print_json(dataclasses.asdict(check))
    elif check.ok:
        _said(_("The audit log is whole: {n} entries checked.").format(n=check.entries))
    if not check.ok:
        _fail(
            _("The audit log was tampered with at entry {id}: {problem}").format(
                id=check.first_bad, problem=check.problem
            )
        )


@registry_app.command(
    "keyd",
    help=_help(
        _(
            "Run the registry's key process on its own (leaktrace serve starts one), or write a "
            "new key with --new-key; --help lists its options and limits."
        ),
        "leaktrace registry keyd --new-key /srv/registry/registry.key",
        "leaktrace registry keyd --key-file /srv/registry/registry.key --socket /run/lt/keyd.sock",
    ),
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def registry_keyd_cmd(ctx: typer.Context) -> None:
    """``leaktrace registry keyd``: the options are the key process's own (``--help``)."""
    from leaktrace.registry import keyd

    raise typer.Exit(keyd.main(ctx.args))


@registry_app.command(
    "ingest",
    help=_help(
        _(
            "Ingest a leak: scan it here, key its resident IDs and mobiles through the key "
            "process (LEAKTRACE_KEYD), store only the keyed values with the leak's metadata, and "
            "alert every enrolled institution with customers in it."
        ),
        "leaktrace registry ingest leak.csv --source 某暗网论坛 --claimed 某某银行",
    ),
)
def registry_ingest_cmd(
    leak: Annotated[list[Path], typer.Argument(help=_("The leak's files, folders or archives."))],
    source: Annotated[str, typer.Option("--source", help=_("Where the leak was found."))],
    claimed: Annotated[
        str | None,
        typer.Option("--claimed", help=_("The organisation the leak is said to come from.")),
    ] = None,
    verify_json: Annotated[
        Path | None,
        typer.Option("--verify-json", help=_("The leak's leaktrace verify result (--json).")),
    ] = None,
    first_seen: Annotated[
        dt.datetime | None,
        typer.Option(
            "--first-seen",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"],
            help=_("When the leak was first seen (default: now; a date is taken in Shanghai)."),
        ),
    ] = None,
    db: _RegistryDb = None,
    as_json: _Json = False,
) -> None:
    """``leaktrace registry ingest``."""
    from zoneinfo import ZoneInfo

    from leaktrace.registry import admin, leaks
    from leaktrace.registry import db as registry_db
    from leaktrace.registry.keyd_client import KeyClient
    from leaktrace.registry.models import utcnow

    for p in leak:
        if not p.exists():
            _fail(_("{path}: expected an existing file or folder").format(path=p))
    with _registry(db) as session:
        claimed_id = admin.org_by_name(session, claimed).id if claimed else None  # type: ignore[arg-type]
    if first_seen is not None and first_seen.tzinfo is None:
        first_seen = first_seen.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    with _user_errors():
        verdict, digest = leaks.verify_verdict(verify_json) if verify_json else (None, None)
        info = leaks.LeakInfo(
            leaks.check_source(source), first_seen or utcnow(), claimed_id, verdict, digest
        )
        engine = registry_db.make_engine(db)
        try:
            with _progress() as bar:
                task = bar.add_task(_("ingesting"), total=sum(p.stat().st_size for p in leak))
                done = leaks.ingest(
                    engine,
                    leak,
                    info,
                    KeyClient.from_env(),
                    progress=lambda n: bar.update(task, completed=n),
                )
        finally:
            engine.dispose()
    doc = dataclasses.asdict(done)
    if as_json:
        _print_json(doc)
        return
    _said(
        _("Leak {id}: {n} identifiers keyed and stored; {alerts} institutions alerted.").format(
            id=done.leak_id, n=done.counts["keyed"], alerts=len(done.alerts)
        )
    )


@_org_app.command(
    "customers",
    help=_help(
        _("Set an institution's declared customer count: its enrolment quota."),
        "leaktrace registry org customers 某某银行 1200000",
    ),
)
def registry_org_customers_cmd(
    name: Annotated[str, typer.Argument(help=_("The organisation's name."))],
    customers: Annotated[int, typer.Argument(help=_("Its customers, as it declares them."))],
    db: _RegistryDb = None,
) -> None:
    """``leaktrace registry org customers``."""
    from leaktrace.registry import admin, enrolments

    with _registry(db) as session:
        org = admin.org_by_name(session, name)  # type: ignore[arg-type]
        enrolments.declare(session, org.id, customers)  # type: ignore[arg-type]
    _said(_("{name} may enrol {n} customers.").format(name=name, n=customers))


_RegistryUrl = Annotated[str, typer.Option("--url", help=_("The registry's address."))]
_MapFile = Annotated[
    Path,
    typer.Option(
        "--map", help=_("The Parquet file mapping keyed values to customer numbers (kept here).")
    ),
]


@registry_app.command(
    "enrol",
    help=_help(
        _(
            "Enrol the institution's customers: every resident ID and mobile of the master is "
            "blinded here and keyed through the registry, only keyed values are sent, and the map "
            "back to customer numbers is written here. The API key comes from LEAKTRACE_API_KEY."
        ),
        "leaktrace registry enrol customers.csv --url https://registry.example --map map.parquet",
    ),
)
def registry_enrol_cmd(
    master: Annotated[str, typer.Argument(help=_("The master: a table file or a database URL."))],
    url: _RegistryUrl,
    map_path: _MapFile,
    as_json: _Json = False,
) -> None:
    """``leaktrace registry enrol``."""
    from leaktrace.registry import enrol

    with _user_errors():
        with enrol.client(url, enrol.api_key_from_env()) as http, _progress(False) as bar:
            task = bar.add_task(_("enrolling"), total=None)
            done = enrol.enrol(
                master, http, map_path, lambda n, total: bar.update(task, completed=n, total=total)
            )
    if as_json:
        _print_json(dataclasses.asdict(done))
        return
    _said(
        _("{n} identifiers of {customers} customers enrolled; the map is in {path}.").format(
            n=done.enrolled, customers=done.customers, path=done.map_path
        )
    )


@registry_app.command(
    "matches",
    help=_help(
        _(
            "The institution's alerts, each with the customers its keyed matches stand for, "
            "read from the map written by enrol. The API key comes from LEAKTRACE_API_KEY."
        ),
        "leaktrace registry matches --url https://registry.example --map map.parquet",
    ),
)
def registry_matches_cmd(url: _RegistryUrl, map_path: _MapFile, as_json: _Json = False) -> None:
    """``leaktrace registry matches``."""
    from leaktrace.registry import enrol

    with _user_errors(), enrol.client(url, enrol.api_key_from_env()) as http:
        found = enrol.matches(http, map_path)
    if as_json:
        _print_json(found)
        return
    for alert in found:
        _said(
            _("Alert {id}: leak {leak} ({source}) holds {n} of your customers.").format(
                id=alert["id"], leak=alert["leak_id"], source=alert["leak"]["source"],
                n=len(alert["customers"]),
            )
        )  # fmt: skip
        sys.stdout.write("".join(f"{c}\n" for c in alert["customers"]))
    if not found:
        _said(_("No alert."))


def _ledger(db: str | None) -> Ledger:
    """The ledger at ``db`` (else the default); a database that cannot be opened is an error."""
    import sqlalchemy as sa

    from leaktrace.trace.ledger import Ledger

    try:
        return Ledger(db)
    except (sa.exc.SQLAlchemyError, ValueError) as e:
        _fail(
            _("--db: the share ledger's database cannot be opened ({reason})").format(
                reason=type(e).__name__
            )
        )


def _gap_names(s: Share) -> list[str]:
    """The share's gaps in words of the language in use."""
    words = {"purpose": _("no purpose"), "basis": _("no legal basis")}
    return [words[g] for g in s.gaps]


def _share_doc(s: Share) -> dict[str, object]:
    """A share for ``--json``: the ledger's fields and its gaps (never the secret)."""
    return {
        "id": s.id,
        "recipient": s.recipient,
        "shared_at": s.shared_at.isoformat(),
        "purpose": s.purpose,
        "basis": s.basis,
        "columns": list(s.columns),
        "key_id": s.key_id,
        "customers": s.customer_count,
        "file_format": s.file_format,
        "canaries": len(s.canaries),
        "gaps": list(s.gaps),
    }


def _show_share(
    s: Share,
    as_json: bool,
    *,
    out: Path | None = None,
    file_format: str | None = None,
    customers: list[int] | None = None,
) -> None:
    """A share as JSON, or as lines on stdout with its gaps as warnings on stderr."""
    doc = _share_doc(s) | ({"out": str(out)} if out is not None else {})
    if customers is not None:
        doc["customer_ids"] = customers
    if as_json:
        _print_json(doc)
        return
    console = _out()
    lines = [
        (_("share"), s.id),
        (_("recipient"), s.recipient),
        (_("date"), s.shared_at.strftime("%Y-%m-%d %H:%M UTC")),
        (_("purpose"), s.purpose or "-"),
        (_("legal basis"), s.basis or "-"),
        (_("columns"), ", ".join(s.columns)),
        (_("customers"), str(s.customer_count)),
        (_("canaries"), str(len(s.canaries))),
        (_("key id"), s.key_id),
        (_("format"), file_format or s.file_format),
    ]
    if out is not None:
        lines.append((_("copy"), str(out)))
    for label, value in lines:
        console.print(f"[bold]{escape(label)}[/]  {escape(value)}", highlight=False)
    if customers is not None:
        console.print(" ".join(map(str, customers)), highlight=False)
    if "purpose" in s.gaps:
        _warn(_("no purpose was recorded for this share: a gap in the ledger"))
    if "basis" in s.gaps:
        _warn(_("no legal basis was recorded for this share: a gap in the ledger"))


def _show(
    doc: Callable[[], object], render: Callable[[], None], as_json: bool, report: Path | None
) -> None:
    """A command's result: JSON on stdout, or the terminal summary and where the report went."""
    if as_json:
        _print_json(doc())
        return
    render()
    if report is not None:
        _said(_("Report written to {path}").format(path=report))


def _write_report(html: str, path: Path) -> None:
    """A report as HTML, or as PDF when the path ends in .pdf; written atomically."""
    from leaktrace.report.pdf import write_report

    write_report(html, path)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the errors a user can act on into a message and exit status 1; Ctrl-C into 130
    (outputs are written atomically, so an interrupted run leaves none behind)."""
    try:
        yield
    except LeaktraceError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        message = _("interrupted; nothing was written")
        err.print(f"[yellow]{escape(message)}[/]")
        raise typer.Exit(130) from None


def _print_json(doc: object) -> None:
    """JSON on stdout alone (progress and messages go to stderr)."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def _said(message: str) -> None:
    """A message to the person (on stderr: stdout holds results alone)."""
    err.print(escape(message), highlight=False)


def _warn(message: str) -> None:
    _tagged("yellow", _("warning:"), message)


def _usage(message: str) -> None:
    """Print an error of usage and exit with 2."""
    _tagged("red", _("error:"), message)
    raise typer.Exit(2)


def _fail(message: str) -> None:
    """Print an error and exit with 1."""
    _tagged("red", _("error:"), message)
    raise typer.Exit(1)


def _tagged(colour: str, tag: str, message: str) -> None:
    """``tag message`` on stderr, the tag coloured; the texts as they are (``[spark]`` or a
    file named ``leak[1].csv`` is no markup)."""
    err.print(f"[{colour}]{escape(tag)}[/] {escape(message)}", highlight=False)


def main() -> None:
    """Entry point of the ``leaktrace`` script: ``--lang`` is taken anywhere on the line."""
    app(args=_lang_first(sys.argv[1:]), prog_name="leaktrace")


def _lang_first(argv: list[str]) -> list[str]:
    """``argv`` with ``--lang X`` moved before the command, where the option belongs."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return [arg, argv[i + 1], *argv[:i], *argv[i + 2 :]]
        if arg.startswith("--lang="):
            return [arg, *argv[:i], *argv[i + 1 :]]
    return argv
