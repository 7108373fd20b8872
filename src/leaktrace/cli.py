"""The ``leaktrace`` command: parses arguments, calls the Python API, renders with rich.

Exit status: 0 done, 1 the input was unusable (with the reason), 2 wrong usage.
JSON goes to stdout alone; progress and messages go to stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
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

from leaktrace.errors import LeaktraceError
from leaktrace.i18n import _
from leaktrace.report.terminal import render_scan

app = typer.Typer(
    name="leaktrace",
    help="Find, verify and trace leaked Chinese personal data.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Find, verify and trace leaked Chinese personal data."""


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


@app.command("scan")
def scan_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files, folders (walked) and archives (zip, tar, 7z, rar; e-mail, DOCX, PDF) "
            "to scan; format and encoding are detected."
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the normalised table here (Parquet).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="Opens encrypted archives (zip, 7z, rar) and PDFs. Other users of this machine "
            "can read it in the process list: prefer the LEAKTRACE_PASSWORD environment variable.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
) -> None:
    """What personal identifiers are in these files, and are they valid?

    Example:

        leaktrace scan dump.csv post.txt leaks/ bundle.zip --out leak.parquet

        LEAKTRACE_PASSWORD=... leaktrace scan encrypted.7z
    """
    from leaktrace.ingest.expand import is_container
    from leaktrace.scan import scan

    for p in paths:
        if not p.exists():
            _fail(f"{p}: expected an existing file or folder")
    if password is not None:
        err.print(
            "[yellow]warning:[/] --password: other users of this machine can read it in the "
            "process list; give it in LEAKTRACE_PASSWORD instead"
        )
    with _user_errors():
        # a folder's or an archive's scanned bytes are not its size on disk: no total then
        sized = not any(is_container(p) for p in paths)
    total = sum(p.stat().st_size for p in paths) if sized else None
    with _user_errors(), _progress() as bar:
        task = bar.add_task("scanning", total=total or None)
        result = scan(
            paths,
            out=out,
            progress=lambda done: bar.update(task, completed=done),
            password=password,
        )
    if as_json:
        _print_json(result.to_dict())
    else:
        render_scan(result, Console())


@app.command("verify")
def verify_cmd(
    leak: Annotated[
        Path, typer.Argument(help="The leak: any file scan reads, or a scanned Parquet.")
    ],
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="Master data: any table file scan reads (CSV/TSV in any encoding, XLSX, JSON, "
            "a SQL dump), Parquet, a DuckDB file, a synth world directory, or a PostgreSQL URL (postgresql://user@host:port/db; the password from PGPASSWORD or "
            "~/.pgpass) with --table. Without it only the forgery signals run.",
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option(
            "--table",
            help="The master's table in the PostgreSQL database or DuckDB file (NAME or "
            "SCHEMA.NAME), or its sheet in a workbook or table in a SQL dump.",
        ),
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(
            "--history",
            help="Past values with their dates: any table file scan reads, Parquet, a DuckDB "
            "file or a PostgreSQL URL (with --history-table); long (customer, field, value, "
            "from, to) or wide (customer, field, old, new, change date).",
        ),
    ] = None,
    history_table: Annotated[
        str | None,
        typer.Option("--history-table", help="The history's table in a database or workbook."),
    ] = None,
    master_columns: Annotated[
        dict[str, str] | None,
        typer.Option(
            "--master-columns",
            parser=lambda text: _mapping(text, "--master-columns"),
            metavar="ROLE=COLUMN,...",
            help="Name master columns where recognition is unsure: customer, resident_id, "
            "mobile, person_name, address, bank_card, email, birth, opened (or name, id, card, "
            "addr; e.g. customer=KHH,resident_id=ZJHM,mobile=SJHM).",
        ),
    ] = None,
    history_columns: Annotated[
        dict[str, str] | None,
        typer.Option(
            "--history-columns",
            parser=lambda text: _mapping(text, "--history-columns"),
            metavar="ROLE=COLUMN,...",
            help="Name history columns: customer, field, value, from, to (long) or customer, "
            "field, old, new, date (wide); e.g. customer=客户号,field=字段,value=旧值,from=起,to=止.",
        ),
    ] = None,
    master_date: Annotated[
        dt.datetime | None,
        typer.Option(
            "--master-date",
            formats=["%Y-%m-%d"],
            help="When the master was extracted (YYYY-MM-DD); without it, its latest opening "
            "or change date.",
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write an HTML report here.")
    ] = None,
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
    engine: Annotated[
        str, typer.Option("--engine", help="duckdb (embedded) or spark (local[*] or a cluster).")
    ] = "duckdb",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
) -> None:
    """Is this leak real, is it ours, whose records, as of when?

    Example:

        leaktrace verify leak.csv --against world/ --report verify.html

        leaktrace verify leak.csv --against postgresql://audit@db.bank.internal/crm --table public.customers

        leaktrace verify leak.csv --against master.xlsx --history changes.csv --master-date 2026-12-01 --master-columns customer=KHH,resident_id=ZJHM
    """
    from leaktrace.ingest.postgres import is_postgres_url
    from leaktrace.report.verify_terminal import render_verify
    from leaktrace.verify import verify

    if engine not in ("duckdb", "spark"):
        err.print(f"[red]error:[/] --engine: expected duckdb or spark, found {engine!r}")
        raise typer.Exit(2)
    from_postgres = against is not None and is_postgres_url(against)
    if from_postgres and not table:
        err.print("[red]error:[/] --table: expected the master's table with a PostgreSQL URL")
        raise typer.Exit(2)
    if from_postgres and _url_has_password(str(against)):
        err.print(
            "[yellow]warning:[/] --against: the URL holds a password, which other users of "
            "this machine can read in its process list; give it in PGPASSWORD or ~/.pgpass"
        )
    _check_records(records, unmasked)
    local_history = None if history is None or is_postgres_url(history) else history
    for p in (leak, None if from_postgres else against, local_history):
        if p is not None and not Path(p).exists():
            _fail(f"{p}: expected an existing file or directory")
    with _user_errors(), _progress(in_bytes=False) as bar:
        task = bar.add_task("verifying", total=1.0)

        def step(name: str, share: float) -> None:
            bar.update(task, description=name, completed=share)

        master = against if from_postgres or against is None else Path(against)
        result = verify(
            leak,
            master,
            history,
            engine,
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
            from leaktrace.report.verify_html import write_html

            write_html(result, report)
    if as_json:
        _print_json(result.to_dict())
    else:
        render_verify(result, Console())
        if report is not None:
            Console().print(f"HTML report written to [bold]{report}[/]")
        if records is not None:
            Console().print(
                _("Per-record results written to {path}").format(
                    path=f"[bold]{escape(str(records))}[/]"
                )
            )


def _check_records(records: Path | None, unmasked: bool) -> None:
    """Wrong usage of --records and --unmasked ends here, before any work; --unmasked warns."""
    from leaktrace.report.records_file import check_suffix

    if records is not None:
        try:
            check_suffix(records)
        except ValueError as e:
            err.print("[red]" + escape(_("error:")) + "[/] --records: " + escape(str(e)))
            raise typer.Exit(2) from None
    if unmasked and records is None:
        err.print(
            "[red]"
            + escape(_("error:"))
            + "[/] --unmasked: "
            + escape(_("expected with --records FILE"))
        )
        raise typer.Exit(2)
    if unmasked:
        err.print(
            "[yellow]"
            + escape(_("warning:"))
            + "[/] --unmasked: "
            + escape(
                _(
                    "{path} will hold the leak's personal data unmasked: keep and share it as such"
                ).format(path=records)
            )
        )


def _mapping(text: str, option: str) -> dict[str, str]:
    """``customer=客户号,field=字段`` as a dict (a malformed item is wrong usage)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        role, sep, col = item.partition("=")
        if not sep or not role.strip() or not col.strip():
            raise typer.BadParameter(
                f"expected ROLE=COLUMN items separated by commas, found {item!r}", param_hint=option
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


@app.command("synth")
def synth_cmd(
    customers: Annotated[int, typer.Option("--customers", min=1, help="Customers in the world.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the world and its leaks.")],
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same world.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
) -> None:
    """Generate a fake institution (customers, history, recipients, shares, employees, access
    log) as Parquet, and leaks of every kind in every format, each with its ground truth.

    Example:

        leaktrace synth --customers 100000 --seed 7 --out world/
    """
    from leaktrace.report.terminal import render_synth
    from leaktrace.synth.bundle import synth_to_dir

    with _user_errors(), _progress(in_bytes=False) as bar:
        task = bar.add_task("customers", total=customers)
        summary = synth_to_dir(
            out, customers, seed=seed, progress=lambda done: bar.update(task, completed=done)
        )
    if as_json:
        _print_json(summary)
    else:
        render_synth(summary, Console())


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the errors a user can act on into a message and exit status 1; Ctrl-C into 130
    (outputs are written atomically, so an interrupted run leaves none behind)."""
    try:
        yield
    except LeaktraceError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        err.print("[yellow]interrupted; nothing was written[/]")
        raise typer.Exit(130) from None


def _print_json(doc: object) -> None:
    """JSON on stdout alone (progress and messages go to stderr)."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def _fail(message: str) -> None:
    """Print an error (its text as it is: ``[spark]`` or a file named ``leak[1].csv`` is no
    markup) and exit with 1."""
    err.print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(1)


def main() -> None:
    """Entry point of the ``leaktrace`` script."""
    app()
