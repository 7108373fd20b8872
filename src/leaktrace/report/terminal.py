"""Terminal summaries a person reads in ten seconds (rich tables, masked samples only), in the
language in use."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from leaktrace.i18n import _, ngettext, using
from leaktrace.report.scan_words import counts_text, kind_label
from leaktrace.scan.result import ScanResult


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def size_text(n: int) -> str:
    """A byte count in GB, MB or KB (bytes when small)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return ngettext("{n} byte", "{n} bytes", n).format(n=n)


def columns_text(columns: dict) -> str:
    """A source's typed columns, ``header→kind`` (the kind's name in the language in use)."""
    return "; ".join(
        f"{c.name}→{kind_label(c.kind)}" for cols in columns.values() for c in cols if c.kind
    )


def render_scan(result: ScanResult, console: Console, lang: str | None = None) -> None:
    """Print what was found per kind, how valid it is, and what each source held."""
    with using(lang):
        _render_scan(result, console)


def _render_scan(result: ScanResult, console: Console) -> None:
    mb = result.bytes_read / 1e6
    scanned = [s for s in result.sources if s.kind != "container"]
    opened = len(result.sources) - len(scanned)
    line = ngettext(
        "[bold]Scanned[/] {files} file, {size}, {records} records in {seconds} s",
        "[bold]Scanned[/] {files} files, {size}, {records} records in {seconds} s",
        len(scanned),
    ).format(
        files=len(scanned),
        size=size_text(result.bytes_read),
        records=f"{result.records:,}",
        seconds=f"{result.seconds:.1f}",
    )
    if opened:
        line += ngettext(
            " (in {n} folder or archive)", " (in {n} folders or archives)", opened
        ).format(n=opened)
    if mb >= 10 and result.seconds:
        line += _(" ({speed} MB/s)").format(speed=f"{mb / result.seconds:,.0f}")
    console.print(line)
    # Plausibility flags (valid, but e.g. a holder over 110) get a column only when present.
    flagged = any(st.flags for st in result.kinds.values())
    invalid = any(st.invalid for st in result.kinds.values())  # reasons only when any fail
    t = Table(title=_("Identifiers"), title_justify="left")
    for col, justify in [
        (_("kind"), "left"),
        (_("found"), "right"),
        (_("valid"), "right"),
        (_("invalid"), "right"),
        (_("masked"), "right"),
        (_("validity"), "right"),
        *([(_("why invalid"), "left")] if invalid else []),
        *([(_("flagged (valid)"), "left")] if flagged else []),
        (_("samples"), "left"),
    ]:
        t.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    t.columns[-1].min_width = 19  # a masked card or resident ID on one line
    for name, st in result.kinds.items():
        t.add_row(
            kind_label(name),
            f"{st.found:,}",
            f"{st.valid:,}",
            f"{st.invalid:,}",
            f"{st.masked:,}",
            _pct(st.validity),
            *([counts_text(st.reasons, 3)] if invalid else []),
            *([counts_text(st.flags)] if flagged else []),
            "  ".join(st.samples),
        )
    if result.kinds:
        console.print(t)
    else:
        console.print("[yellow]" + _("No personal identifiers found.") + "[/]")
    s = Table(title=_("Sources"), title_justify="left")
    # every column wraps rather than cuts: members' names (a.zip!dir/x.csv) differ at their
    # ends, and Chinese labels have no spaces to break at
    for col in (_("file"), _("format"), _("encoding"), _("records"), _("skipped"), _("columns")):
        s.add_column(col, overflow="fold")
    for src in result.sources:
        if src.kind == "container":
            n = len(src.problems)
            what = ngettext("{n} problem", "{n} problems", n).format(n=n) if n else _("opened")
        else:
            what = columns_text(src.columns) or (_("free text") if src.kind == "text" else "—")
        s.add_row(
            src.path,
            src.format,
            src.encoding or "—",
            "—" if src.kind == "container" else f"{src.records:,}",
            f"{src.rows_skipped:,}",
            what,
        )
    console.print(s)
    _render_problems(result, console)
    for src in result.sources:
        for p in src.problems[:10]:
            console.print(
                "[yellow]"
                + _("warning:")
                + "[/] "
                + _("{place}: expected {expected}").format(
                    place=p["place"], expected=p.get("message", p["expected"])
                ),
                highlight=False,
            )
        if len(src.problems) > 10:
            more = len(src.problems) - 10
            console.print(
                "[yellow]"
                + ngettext(
                    "… and {n} more problem in {file}", "… and {n} more problems in {file}", more
                ).format(n=more, file=src.path)
                + "[/]"
            )
    if result.out:
        console.print(_("Normalised table written to {path}").format(path=f"[bold]{result.out}[/]"))


def _render_problems(result: ScanResult, console: Console) -> None:
    """One line per source and kind of problem: how many places, how many records skipped.

    Every record read is either scanned or skipped here with its reason, so the counts account
    for the whole input."""
    t = Table(title=_("Problems (records skipped are not scanned)"), title_justify="left")
    t.add_column(_("file"), overflow="fold")
    t.add_column(_("problem"), overflow="fold")
    t.add_column(_("places"), justify="right", overflow="fold")
    t.add_column(_("records skipped"), justify="right", overflow="fold")
    for src in result.sources:
        kinds: dict[str, list[int]] = {}
        for p in src.problems:
            counts = kinds.setdefault(p["kind"], [0, 0])
            counts[0] += p["places"]
            counts[1] += p["rows_skipped"]
        for kind, (places, skipped) in kinds.items():
            t.add_row(src.path, kind, f"{places:,}", f"{skipped:,}")
    if t.row_count:
        console.print(t)


def render_synth(summary: dict, console: Console) -> None:
    """Print what ``leaktrace synth`` wrote: the world's tables and each leak with its truth."""
    console.print(
        _("[bold]World[/] (seed {seed}) written to {path}").format(
            seed=summary["seed"], path=summary["world"]
        )
    )
    w = Table(title=_("Tables"), title_justify="left")
    w.add_column(_("table"), overflow="fold")
    w.add_column(_("rows"), justify="right", overflow="fold")
    for name, rows in summary["tables"].items():
        w.add_row(name, f"{rows:,}")
    console.print(w)
    t = Table(title=_("Leaks (ground truth beside each file)"), title_justify="left")
    for col in (_("file"), _("kind"), _("format"), _("encoding"), _("rows"), _("from")):
        t.add_column(col, overflow="fold")
    for leak in summary["leaks"]:
        t.add_row(
            leak["file"],
            leak["kind"],
            leak["format"],
            leak["encoding"],
            f"{leak['rows']:,}",
            ", ".join(map(str, leak["sources"])) or "—",
        )
    console.print(t)
