"""``make demo``: a fake bank, leaks of its customers made the way real ones are, and every
capability that exists run on them, ending with reports a person can read and file.

Run as ``python -m leaktrace.demo OUT_DIR``; everything it writes stays under OUT_DIR: the
scan, verify and trace reports in Chinese and English (HTML, and one as PDF for filing), the
per-record results of each verified leak, the marking secret (a file only its owner may read),
the share ledger and the recipients' marked copies.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.rule import Rule

from leaktrace import i18n
from leaktrace.i18n import _
from leaktrace.report.files import write_atomic
from leaktrace.report.pdf import write_report
from leaktrace.report.records_file import write_records
from leaktrace.report.scan_html import render_scan_html
from leaktrace.report.terminal import render_scan, render_synth
from leaktrace.report.trace_html import render_trace_html
from leaktrace.report.trace_terminal import render_trace
from leaktrace.report.verify_html import render_html
from leaktrace.report.verify_terminal import render_verify
from leaktrace.scan import scan
from leaktrace.synth.bundle import synth_to_dir
from leaktrace.trace.api import TraceReport, trace
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import FILE_ENV, load
from leaktrace.trace.share import share
from leaktrace.trace.share_input import read_master
from leaktrace.verify import verify

CUSTOMERS = 20_000
SEED = 2026
VERIFIED = ("old_snapshot_gbk.csv", "padded_dump.sql", "fabricated.json")
#: The recipients of marked copies (names as a bank's ledger would hold them) and why.
RECIPIENTS = (
    ("某某保险代理有限公司", "保险产品营销"),
    ("某某消费金融有限公司", "联合贷款风控"),
    ("某某外呼服务有限公司", "信用卡分期外呼"),
)
PDF = "verify-old_snapshot_gbk-zh.pdf"  # one report printed for filing


def run(out_dir: Path, console: Console) -> None:
    """Generate the world and its leaks, scan them all, and verify three against the world."""
    console.print(Rule(_("1. A synthetic bank and its leaks (leaktrace synth)")))
    summary = synth_to_dir(out_dir, CUSTOMERS, seed=SEED)
    render_synth(summary, console)
    leaks = [Path(leak["file"]) for leak in summary["leaks"]]
    console.print(Rule(_("2. What is in the leaks? (leaktrace scan)")))
    result = scan(leaks, out=out_dir / "leaks.parquet")
    render_scan(result, console)
    for lang in i18n.LANGS:
        with i18n.using(lang):
            page = write_report(render_scan_html(result), out_dir / f"scan-{lang}.html")
        _wrote(console, page)
    for name in VERIFIED:
        stem = Path(name).stem
        console.print(
            Rule(_("3. Is {name} real, and is it ours? (leaktrace verify)").format(name=name))
        )
        checked = verify(out_dir / "leaks" / name, out_dir / "world", records=True)
        render_verify(checked, console)
        for lang in i18n.LANGS:
            with i18n.using(lang):
                page = write_report(render_html(checked), out_dir / f"verify-{stem}-{lang}.html")
                if f"verify-{stem}-{lang}.pdf" == PDF:
                    _wrote(console, write_report(render_html(checked), out_dir / PDF))
            _wrote(console, page)
        if checked.record_table is not None:  # always there when records=True
            _wrote(console, write_records(checked.record_table, out_dir / f"records-{stem}.csv"))
    share_and_trace(out_dir, console)


def share_and_trace(out_dir: Path, console: Console) -> None:
    """Hand three recipients marked copies, leak part of one the way resellers do, and trace it."""
    console.print(Rule(_("4. Who leaked it? (leaktrace share, leaktrace trace)")))
    secret_file = out_dir / "secret"
    if not secret_file.exists():
        secret_file.touch(mode=0o600)
        secret_file.write_text(secrets.token_hex(32))
    key = load({FILE_ENV: str(secret_file)})
    ledger_file = out_dir / "ledger.sqlite"
    ledger_file.unlink(missing_ok=True)
    ledger = Ledger(f"sqlite:///{ledger_file}")
    world = out_dir / "world"
    master = read_master(world, out_dir)
    numbers = master.frame[master.customer_column].to_numpy()
    columns = ["customer_id", "name", "resident_id", "mobile", "card_no", "address"]
    copies = {}
    for i, (name, purpose) in enumerate(RECIPIENTS):
        out = out_dir / "shares" / f"{i + 1}-{name}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        made = share(
            master.frame,
            name,
            numbers[i * 3_000 : i * 3_000 + 5_000],
            columns,
            out,
            key,
            ledger,
            customer_column=master.customer_column,
            roles=master.roles,
            purpose=purpose,
            encoding="gbk",
            place=master.place,
            master_place=str(world.resolve()),
        )
        copies[name] = out
        console.print(
            _("Shared {count} customers with {recipient}: {path}").format(
                count=f"{made.customer_count:,}", recipient=name, path=out
            ),
            highlight=False,
        )
    leak = _resold(copies[RECIPIENTS[1][0]], master.frame, out_dir / "出售样本.csv")
    found = trace(leak, world, ledger=ledger, secret=key)
    render_trace(found, console)
    _reports(console, found, out_dir, "trace")
    console.print(Rule(_("5. An employee's export, traced with the access log")))
    insider = trace(
        out_dir / "leaks" / "insider_export.xlsx",
        world,
        ledger=ledger,
        secret=key,
        access_log=world / "access_log.parquet",
    )
    render_trace(insider, console)
    _reports(console, insider, out_dir, "trace-insider")


def _reports(console: Console, found: TraceReport, out_dir: Path, stem: str) -> None:
    """The trace report in each language, as HTML."""
    for lang in i18n.LANGS:
        with i18n.using(lang):
            _wrote(console, write_report(render_trace_html(found), out_dir / f"{stem}-{lang}.html"))


def _resold(copy: Path, master: pl.DataFrame, out: Path) -> Path:
    """What a reseller offers: 80 records of a recipient's copy, headers renamed, the card and
    customer number dropped, mobiles masked, 30% other customers added, in GBK."""
    rows = pl.read_csv(copy, encoding="gbk", infer_schema=False)
    cut = rows.filter(pl.col("customer_id").is_not_null()).sample(80, seed=SEED)
    others = master.select(pl.col(c).cast(pl.String) for c in rows.columns).sample(24, seed=SEED)
    digits = pl.col("mobile").str.replace_all(r"\D", "").str.slice(-11)
    leak = (
        pl.concat([cut, others])
        .drop("card_no", "customer_id")
        .with_columns((digits.str.slice(0, 3) + "****" + digits.str.slice(7)).alias("mobile"))
        .sample(fraction=1.0, shuffle=True, seed=SEED)
        .rename({"name": "姓名", "resident_id": "证件号码", "mobile": "手机", "address": "住址"})
    )
    write_atomic(out, leak.write_csv().encode("gbk"))
    return out


def _wrote(console: Console, path: Path) -> None:
    console.print(_("Written: {path}").format(path=path), highlight=False)


def main() -> None:
    """Run the demo into the folder named on the command line (``demo-out`` by default), in the
    language of the locale."""
    i18n.set_language(i18n.detect())
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out")
    run(out_dir, Console())


if __name__ == "__main__":
    main()
