"""``make demo``: a fake bank, leaks of its customers made the way real ones are, and every
capability that exists run on them, ending with reports a person can read and file.

Run as ``python -m leaktrace.demo OUT_DIR``; everything it writes stays under OUT_DIR: the
scan, verify and trace reports in Chinese and English (HTML, and one as PDF for filing), the
per-record results of each verified leak, the marking secret (a file only its owner may read),
the share ledger and the recipients' marked copies, and the breach registry with its printable
report.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
import polars as pl
from rich.console import Console
from rich.rule import Rule

from leaktrace import i18n
from leaktrace.i18n import _
from leaktrace.pii import mask
from leaktrace.registry import (
    admin,
    attachments,
    audit,
    enrol,
    enrolments,
    keyd,
    leaks,
    reports,
    views,
)
from leaktrace.registry import db as registry_db
from leaktrace.registry.app import create_app
from leaktrace.registry.check_client import person_check
from leaktrace.registry.keyd_client import KeyClient
from leaktrace.registry.policy import Principal
from leaktrace.registry.schemas import Counts, Fields, ReportIn, SupplementIn
from leaktrace.registry.serve import served_in_thread
from leaktrace.report.breach_html import render_breach
from leaktrace.report.breach_terminal import render_breach_terminal
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
from leaktrace.verify.result import VerifyReport

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
#: The registry's organisations: the bank (an operator of critical information infrastructure)
#: and the regulators it reports to.
REGISTRY_ORGS = {
    "bank": ("某某银行股份有限公司", "institution", "bank", None, True),
    "cac": ("某省网信办", "regulator", None, "CAC", False),
    "pboc": ("中国人民银行某分行", "regulator", None, "PBOC", False),
    "nfra": ("国家金融监督管理总局某监管局", "regulator", None, "NFRA", False),
}


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
    verified = {}
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
        verified[stem] = checked
    share_and_trace(out_dir, console)
    report_breach(out_dir, console, verified["old_snapshot_gbk"])
    alert_and_check(out_dir, console)


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


def report_breach(out_dir: Path, console: Console, checked: VerifyReport) -> None:
    """File the verified leak with the regulators in the registry, on their clocks: the first
    report, the CAC's question and the bank's answer, a supplement, the printable report."""
    console.print(Rule(_("6. Who must be told? The breach report (leaktrace serve)")))
    db_file = out_dir / "registry.sqlite"
    for stale in out_dir.glob("registry.sqlite*"):
        stale.unlink()
    engine = registry_db.make_engine(f"sqlite:///{db_file}")
    registry_db.upgrade(engine)
    with registry_db.transaction(engine) as session:
        orgs = {
            short: admin.create_org(session, name, kind, sector, authority, cii)
            for short, (name, kind, sector, authority, cii) in REGISTRY_ORGS.items()
        }
    bank = Principal(orgs["bank"].id, "institution", "reporter", "cli", name="demo")
    cac = Principal(orgs["cac"].id, "regulator", "reviewer", "cli", name="demo")
    discovered = checked.evidence.started if checked.evidence else None
    now = dt.datetime.now(dt.UTC)
    with registry_db.transaction(engine) as session:
        filed = reports.file(session, bank, _first_report(discovered, now), now)
        attachments.attach(
            session,
            bank,
            filed.id,
            "verify-old_snapshot_gbk.json",
            json.dumps(checked.to_dict(), ensure_ascii=False, default=str).encode(),
        )
        asked = reports.ask(session, cac, filed.id, "请说明样本来源渠道及已通知的客户人数。")
        reports.answer(
            session, bank, filed.id, asked.id, "样本取自境外论坛售卖帖；已通过短信通知受影响客户。"
        )
        reports.supplement(
            session,
            bank,
            filed.id,
            SupplementIn(
                fields=Fields(cause="外包催收机构员工违规留存导出文件", cause_category="partner")
            ),
        )
        view = views.full(session, bank, filed.id, dt.datetime.now(dt.UTC))
    render_breach_terminal(view, console)
    for lang in i18n.LANGS:
        with i18n.using(lang):
            _wrote(
                console, write_report(render_breach(view, lang), out_dir / f"breach-{lang}.html")
            )
    with i18n.using("zh"):
        _wrote(console, write_report(render_breach(view, "zh"), out_dir / "breach-zh.pdf"))
    check = audit.verify(engine)
    engine.dispose()
    console.print(_("The audit log is whole: {n} entries checked.").format(n=check.entries))
    console.print(
        _("Browse it: leaktrace serve --db sqlite:///{path}").format(path=db_file.resolve()),
        highlight=False,
    )


def alert_and_check(out_dir: Path, console: Console) -> None:
    """The registry's keyed identifiers: the bank enrols its customers blinded on its side, the
    operator ingests a resold list through the key process, the bank is alerted and finds its
    customers on its own machine."""
    console.print(Rule(_("7. Telling the institutions (leaktrace registry ingest, enrol)")))
    db_url = f"sqlite:///{out_dir / 'registry.sqlite'}"
    engine = registry_db.make_engine(db_url)
    registry_db.upgrade(engine)
    with registry_db.transaction(engine) as session:
        bank = admin.org_by_name(session, REGISTRY_ORGS["bank"][0])
        enrolments.declare(session, bank.id, CUSTOMERS)
        _key, bank_key = admin.create_key(session, None, bank.id, "demo", "admin")
    keys_dir = Path(tempfile.mkdtemp(prefix="leaktrace-demo-"))
    with keyd.running(out_dir / "registry.key", keys_dir / "keyd.sock"):
        keys = KeyClient([keys_dir / "keyd.sock"])
        app = create_app(engine=engine, migrate=False)
        app.state.keys = keys
        with served_in_thread(app) as url, enrol.client(url, bank_key) as http:
            made = enrol.enrol(out_dir / "world", http, out_dir / "registry-map.parquet")
            console.print(
                _("The bank enrolled {n} keyed identifiers of {customers} customers.").format(
                    n=f"{made.enrolled:,}", customers=f"{made.customers:,}"
                ),
                highlight=False,
            )
            done = leaks.ingest(
                engine,
                [out_dir / "出售样本.csv"],
                leaks.LeakInfo("某论坛售卖帖", dt.datetime.now(dt.UTC)),
                keys,
            )
            console.print(
                _("Ingested leak {id}: {n} identifiers keyed, none stored in plain text.").format(
                    id=done.leak_id, n=f"{done.counts['keyed']:,}"
                ),
                highlight=False,
            )
            for alert in enrol.matches(http, out_dir / "registry-map.parquet"):
                console.print(
                    _("Alert: {n} of the bank's customers are in leak {id}.").format(
                        n=f"{len(alert['customers']):,}", id=alert["leak_id"]
                    ),
                    highlight=False,
                )
            console.print(Rule(_("8. A person's own check (the /check page)")))
            with httpx.Client(base_url=url) as anonymous:
                for who, value in _two_people(out_dir):
                    found, _blinded = person_check(anonymous, "resident_id", value)
                    console.print(
                        _("{who} ({id}): known leaks holding it: {n}.").format(
                            who=who, id=mask("resident_id", value), n=len(found)
                        ),
                        highlight=False,
                    )
            console.print(
                _("Browse it: {url}/check (the identifier never leaves the browser)").format(
                    url="http://127.0.0.1:8000"
                ),
                highlight=False,
            )
    shutil.rmtree(keys_dir, ignore_errors=True)
    engine.dispose()


def _two_people(out_dir: Path) -> list[tuple[str, str]]:
    """A customer whose resident ID is in the resold list, and one whose is not."""
    leaked = pl.read_csv(out_dir / "出售样本.csv", encoding="gbk", infer_schema=False)["证件号码"]
    ids = pl.read_parquet(out_dir / "world" / "customers.parquet", columns=["resident_id"])
    outside = ids.filter(~pl.col("resident_id").is_in(leaked.implode()))["resident_id"]
    return [(_("A customer in the list"), leaked[0]), (_("A customer not in it"), outside[0])]


def _first_report(discovered: str | None, now: dt.datetime) -> ReportIn:
    """The bank's first report of the offered list: the seller claims 1.2 million customers."""
    when = dt.datetime.fromisoformat(discovered) if discovered else now
    return ReportIn(
        title="客户信息在境外论坛被出售（样本已核验）",
        discovered_at=min(when, now) - dt.timedelta(minutes=40),
        fields=Fields(
            system="个人客户信息管理系统",
            incident_type="data_leak",
            harm="卖家称持有约120万名客户的姓名、身份证号、手机号、地址；样本经核验属实",
            measures_taken="已冻结相关外包账号的导出权限，监测样本中客户账户的异常交易",
            data_categories=["name", "resident_id", "mobile", "address", "bank_card"],
            possible_harm="电信诈骗、冒名开户、精准营销骚扰",
            remedies="对受影响客户加强交易验证，更换可能泄露的银行卡",
            advice_to_people="警惕冒充本行的来电和短信，不向任何人透露验证码",
            contact="数据安全办公室 400-000-0000",
        ),
        counts=Counts(people_affected=1_200_000, records_affected=1_200_000),
    )


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
