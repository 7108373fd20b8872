"""The verify report's lists of people: the affected customers (``#customers``: each with the
leak records linked to it, how, and the fields the leak exposes) and the records that are not
ours (``#not-ours``). Values are masked; a large leak shows its first entries and the next
ones folded, and says how many more the per-record file (``--records``) holds."""

from __future__ import annotations

import html
from pathlib import PurePath

import polars as pl

from leaktrace.i18n import _, ngettext
from leaktrace.report.records_file import FIELD_LABELS, STATUS_WORDS, link_words, masked
from leaktrace.verify.records import date_columns, fields_of, status_column
from leaktrace.verify.result import VerifyReport

SHOWN = 200  # entries in the page
FOLDED = 1800  # entries after those, in a <details>; the rest only counted
EXPOSED = ("current", "historical")  # statuses under which the leak holds our value
RECORDS_SHOWN = 20  # records shown per customer

CSS = """
.records{width:100%;table-layout:fixed}.records td,.records th{text-align:left;vertical-align:top;
overflow-wrap:anywhere;word-break:break-word}.records td:first-child{white-space:nowrap}
"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _table(report: VerifyReport) -> pl.DataFrame:
    """The per-record table, or what the matches alone tell (no places, no values)."""
    if report.record_table is not None:
        return report.record_table
    rids = pl.DataFrame({"rid": pl.int_range(report.records, eager=True, dtype=pl.Int64)})
    if report.matches is not None:
        link = report.matches.select(
            "rid", pl.col("mid").alias("customer"), pl.col("method").alias("link")
        )
        rids = rids.join(link, on="rid", how="left")
    else:
        rids = rids.with_columns(customer=pl.lit(None), link=pl.lit(None, pl.String))
    return rids.with_columns(
        *(pl.lit(None, pl.String).alias(c) for c in ("source", "table")),
        pl.lit(None, pl.Int64).alias("row"),
        pl.lit(None, pl.List(pl.String)).alias("exact_on"),
    )


def _place(source: str | None, table: str | None, row: int | None) -> str:
    """Where a record is: file (name only; the full path in the tooltip), table, row."""
    if source is None:
        return ""
    parts = [PurePath(source).name]
    if table and table != PurePath(source).stem:
        parts.append(table)
    if row is not None:
        parts.append(_("row {row}").format(row=row))
    return f'<span title="{_e(source)}">{_e(" · ".join(parts))}</span>'


def _shown_values(part: pl.DataFrame, exposed_only: bool) -> list[str]:
    """Per record of ``part``: its fields as ``label value (status, dates)``, masked."""
    words = {k: _(v) for k, v in STATUS_WORDS.items()}
    out = [""] * part.height
    for f in fields_of(part):
        label = _(FIELD_LABELS[f])
        lo, hi = date_columns(f)
        values = masked(part[f], f).to_list()
        statuses = part[status_column(f)].to_list()
        for i, (v, st, a, b) in enumerate(zip(values, statuses, part[lo], part[hi], strict=True)):
            if v is None or (exposed_only and st not in EXPOSED):
                continue
            dates = None
            if b is not None:
                dates = f"{a or '…'} – {b}"
            elif a is not None:
                dates = _("since {date}").format(date=a)
            note = words[st] if st else dates
            if st and dates:
                note = _("{status}, {dates}").format(status=words[st], dates=dates)
            text = f"{label} {v}"
            if note:
                text = _("{field} {value} ({note})").format(field=label, value=v, note=note)
            out[i] += ("<br>" if out[i] else "") + _e(text)
    return out


def _rows(cells: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)
    return f"<table class=records><tr>{head}</tr>{body}</table>"


def _capped(cells: list[list[str]], total: int, header: list[str], more: str) -> str:
    """The first SHOWN entries, the next FOLDED folded, and how many more there are."""
    out = _rows(cells[:SHOWN], header)
    if len(cells) > SHOWN:
        folded = cells[SHOWN : SHOWN + FOLDED]
        summary = _("{n} more").format(n=f"{len(folded):,}")
        out += f"<details><summary>{_e(summary)}</summary>{_rows(folded, header)}</details>"
    rest = total - min(total, SHOWN + FOLDED)
    if rest:
        out += f"<p class=muted>{_e(more.format(n=f'{rest:,}'))}</p>"
    return out


def customers_section(report: VerifyReport) -> str:
    """``<section id=customers>``: the affected customers, each with its leak records, how
    they were linked and the fields the leak exposes (masked)."""
    table = _table(report)
    linked = table.filter(pl.col("customer").is_not_null()).sort("customer", "rid")
    ids = linked["customer"].unique(maintain_order=True)
    title = "<h2>" + _e(_("Affected customers")) + "</h2>"
    if not ids.len():
        none = _("No leak record is linked to one of our customers.")
        return f"<section id=customers>{title}<p class=muted>{_e(none)}</p></section>"
    per = dict(linked.group_by("customer").len().iter_rows())
    kept = (
        linked.filter(pl.col("customer").is_in(ids.head(SHOWN + FOLDED).implode()))
        .group_by("customer", maintain_order=True)
        .head(RECORDS_SHOWN)
    )
    kept = kept.with_columns(
        link_words().alias("_how"),
        pl.Series("_values", _shown_values(kept, exposed_only=True), pl.String),
    )
    cells = []
    for (customer,), group in kept.group_by("customer", maintain_order=True):
        rids = ", ".join(str(r + 1) for r in group["rid"])
        if per[customer] > group.height:
            rids += " " + _("… ({n} in all)").format(n=f"{per[customer]:,}")
        hows = group["_how"].unique(maintain_order=True).to_list()
        exposed = [v for v in group["_values"].unique(maintain_order=True).to_list() if v]
        cells.append([_e(customer), _e(rids), _e("; ".join(hows)), "<br>".join(exposed)])
    intro = ngettext(
        "{n} customer is linked from {records} leak records.",
        "{n} customers are linked from {records} leak records.",
        ids.len(),
    ).format(n=f"{ids.len():,}", records=f"{linked.height:,}")
    header = [_("Customer ID"), _("Leak records"), _("Linked by"), _("Fields exposed")]
    more = _("{n} more customers are not shown here: --records FILE writes every one.")
    body = _capped(cells, ids.len(), header, more)
    return f"<section id=customers>{title}<p>{_e(intro)}</p>{body}</section>"


def not_ours_section(report: VerifyReport) -> str:
    """``<section id=not-ours>``: the leak records linked to none of our customers, with
    their place and values (masked)."""
    table = _table(report)
    rest = table.filter(pl.col("customer").is_null()).sort("rid")
    title = "<h2>" + _e(_("Records not ours")) + "</h2>"
    if not rest.height:
        none = _("Every leak record is linked to one of our customers.")
        return f"<section id=not-ours>{title}<p class=muted>{_e(none)}</p></section>"
    kept = rest.head(SHOWN + FOLDED)
    values = _shown_values(kept, exposed_only=False)
    cells = [
        [_e(rid + 1), _place(source, tbl, row), shown]
        for rid, source, tbl, row, shown in zip(
            kept["rid"], kept["source"], kept["table"], kept["row"], values, strict=True
        )
    ]
    intro = ngettext(
        "{n} of {total} leak records is linked to none of our customers.",
        "{n} of {total} leak records are linked to none of our customers.",
        rest.height,
    ).format(n=f"{rest.height:,}", total=f"{report.records:,}")
    header = [_("Leak record no."), _("Place in the leak"), _("Values (masked)")]
    more = _("{n} more records are not shown here: --records FILE writes every one.")
    body = _capped(cells, rest.height, header, more)
    return f"<section id=not-ours>{title}<p>{_e(intro)}</p>{body}</section>"
