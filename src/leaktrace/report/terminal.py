"""Terminal summaries a person reads in ten seconds (rich tables, masked samples only)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from leaktrace.pii import KINDS
from leaktrace.scan.result import ScanResult


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def _counts(counts: Counter[str], most: int | None = None) -> str:
    """``code n`` for the commonest codes (failure reasons or plausibility flags), masked apart."""
    return ", ".join(f"{r} {n:,}" for r, n in counts.most_common(most) if r != "masked")


def render_scan(result: ScanResult, console: Console) -> None:
    """Print what was found per kind, how valid it is, and what each source held."""
    mb = result.bytes_read / 1e6
    speed = f" ({mb / result.seconds:,.0f} MB/s)" if mb >= 10 and result.seconds else ""
    scanned = [s for s in result.sources if s.kind != "container"]
    opened = len(result.sources) - len(scanned)
    within = f" (in {opened} folder(s) or archive(s))" if opened else ""
    console.print(
        f"[bold]Scanned[/] {len(scanned)} file(s){within}, {_size(result.bytes_read)}, "
        f"{result.records:,} records in {result.seconds:.1f} s{speed}"
    )
    # Plausibility flags (valid, but e.g. a holder over 110) get a column only when present.
    flagged = any(st.flags for st in result.kinds.values())
    t = Table(title="Identifiers", title_justify="left")
    for col, justify in [
        ("kind", "left"),
        ("found", "right"),
        ("valid", "right"),
        ("invalid", "right"),
        ("masked", "right"),
        ("validity", "right"),
        ("why invalid", "left"),
        *([("flagged (valid)", "left")] if flagged else []),
        ("samples", "left"),
    ]:
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for name, st in result.kinds.items():
        t.add_row(
            KINDS[name].label,
            f"{st.found:,}",
            f"{st.valid:,}",
            f"{st.invalid:,}",
            f"{st.masked:,}",
            _pct(st.validity),
            _counts(st.reasons, 3),
            *([_counts(st.flags)] if flagged else []),
            "  ".join(st.samples),
        )
    if result.kinds:
        console.print(t)
    else:
        console.print("[yellow]No personal identifiers found.[/]")
    s = Table(title="Sources", title_justify="left")
    # members' names (a.zip!dir/x.csv) differ at their ends: wrap them rather than cut them
    members = any("!" in src.path for src in result.sources)
    for col in ("file", "format", "encoding", "records", "skipped", "columns"):
        s.add_column(col, overflow="fold" if col == "file" and members else "ellipsis")
    for src in result.sources:
        cols = "; ".join(
            f"{c.name}→{c.kind}" for cols in src.columns.values() for c in cols if c.kind
        )
        if src.kind == "container":
            what = f"{len(src.problems)} problem(s)" if src.problems else "opened"
        else:
            what = cols or ("free text" if src.kind == "text" else "—")
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
                f"[yellow]warning:[/] {p['place']}: expected {p['expected']}", highlight=False
            )
        if len(src.problems) > 10:
            console.print(f"[yellow]… and {len(src.problems) - 10} more problems in {src.path}[/]")
    if result.out:
        console.print(f"Normalised table written to [bold]{result.out}[/]")


def _render_problems(result: ScanResult, console: Console) -> None:
    """One line per source and kind of problem: how many places, how many records skipped.

    Every record read is either scanned or skipped here with its reason, so the counts account
    for the whole input."""
    t = Table(title="Problems (records skipped are not scanned)", title_justify="left")
    for col, justify in [("file", "left"), ("problem", "left"), ("places", "right")]:
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    t.add_column("records skipped", justify="right")
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
    console.print(f"[bold]World[/] (seed {summary['seed']}) written to {summary['world']}")
    w = Table(title="Tables", title_justify="left")
    w.add_column("table")
    w.add_column("rows", justify="right")
    for name, rows in summary["tables"].items():
        w.add_row(name, f"{rows:,}")
    console.print(w)
    t = Table(title="Leaks (ground truth beside each file)", title_justify="left")
    for col in ("file", "kind", "format", "encoding", "rows", "from"):
        t.add_column(col)
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
