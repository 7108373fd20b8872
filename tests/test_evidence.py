"""The evidence trail: inputs' and archive members' SHA-256 as hashlib gives them, no password
anywhere in it, the master's source and as-of date, times in UTC and China time, in scan's and
verify's results and their JSON."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import pyzipper

from leaktrace.evidence import CHINA, file_digest, safe_parameters, without_password
from leaktrace.extras import MissingExtraError
from leaktrace.i18n import using
from leaktrace.report import pdf
from leaktrace.report.evidence_html import evidence_section
from leaktrace.scan import scan
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def table(ingest_header: list[str], ingest_people: list[list[str]]) -> bytes:
    """Customer rows as a GBK CSV, as a Chinese bank's export writes them."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([ingest_header, *ingest_people[:80]])
    return out.getvalue().encode("gb18030")


def test_file_and_zip_members_hashed_as_hashlib_does(tmp_path: Path, table: bytes) -> None:
    big = table * 700  # past a few 1 MiB blocks: the streamed digest must match the whole one
    zpath = tmp_path / "泄露.zip"
    with pyzipper.AESZipFile(zpath, "w", compression=pyzipper.ZIP_DEFLATED) as zf:
        zf.writestr("客户/客户.csv", table)
        zf.writestr("big.csv", big)
        zf.writestr("空目录/", b"")
    got = file_digest(zpath)
    assert got.name == "泄露.zip" and got.path == str(zpath)
    assert got.size == zpath.stat().st_size and got.sha256 == _sha(zpath.read_bytes())
    members = {m.name: m for m in got.members}
    assert set(members) == {"客户/客户.csv", "big.csv"}  # folders are not members to hash
    assert members["客户/客户.csv"].sha256 == _sha(table)
    assert members["big.csv"].size == len(big) and members["big.csv"].sha256 == _sha(big)


def test_encrypted_members_need_the_password(tmp_path: Path, table: bytes) -> None:
    zpath = tmp_path / "locked.zip"
    with pyzipper.AESZipFile(
        zpath, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as zf:
        zf.setpassword(b"s3cret")
        zf.writestr("a.csv", table)
    without = file_digest(zpath).members[0]
    assert without.sha256 is None and "password" in str(without.not_hashed)
    assert file_digest(zpath, "s3cret").members[0].sha256 == _sha(table)


def test_tar_members_and_plain_files(tmp_path: Path, table: bytes) -> None:
    tpath = tmp_path / "dump.tar.gz"
    with tarfile.open(tpath, "w:gz") as tf:
        info = tarfile.TarInfo("export/客户.csv")
        info.size = len(table)
        tf.addfile(info, io.BytesIO(table))
    got = file_digest(tpath)
    assert [(m.name, m.size, m.sha256) for m in got.members] == [
        ("export/客户.csv", len(table), _sha(table))
    ]
    plain = tmp_path / "客户.csv"
    plain.write_bytes(table)
    assert file_digest(plain).members == []  # a table is not an archive


def test_passwords_never_in_parameters() -> None:
    pg = "postgresql://bank:pa%40ss@db.example:5432/core?sslmode=require"
    assert without_password(pg) == "postgresql://bank@db.example:5432/core"
    assert "secret" not in without_password("postgresql://u@h/db?password=secret")
    assert (
        without_password("https://u:pw@h.example/x?password=pw&a=1") == "https://u@h.example/x?a=1"
    )
    assert without_password("/data/客户.parquet") == "/data/客户.parquet"
    shown = safe_parameters(
        {
            "password": "s3cret",
            "master": pg,
            "columns": {"customer": "KHH"},
            "day": dt.date(2024, 5, 1),
        }
    )
    assert shown == {
        "password": "given",
        "master": "postgresql://bank@db.example:5432/core",
        "columns": {"customer": "KHH"},
        "day": "2024-05-01",
    }
    assert safe_parameters({"password": None})["password"] is None


def test_scan_evidence_of_a_folder_and_an_archive(tmp_path: Path, table: bytes) -> None:
    folder = tmp_path / "收到的"
    folder.mkdir()
    (folder / "a.csv").write_bytes(table)
    (folder / ".hidden.csv").write_bytes(table)  # not scanned, so not in the trail either
    with pyzipper.AESZipFile(folder / "b.zip", "w") as zf:
        zf.setpassword(b"pw")
        zf.setencryption(pyzipper.WZ_AES)
        zf.writestr("inner.csv", table)
    result = scan([folder], password="pw")
    ev = result.evidence
    assert ev is not None and ev.command == "scan" and ev.engine is None
    assert [d.name for d in ev.inputs] == ["a.csv", "b.zip"]
    assert ev.inputs[0].sha256 == _sha(table)
    assert ev.inputs[1].members[0].sha256 == _sha(table)
    assert ev.parameters["password"] == "given"
    text = json.dumps(result.to_dict(), ensure_ascii=False)
    assert '"pw"' not in text and _sha(table) in text
    started = dt.datetime.fromisoformat(ev.started)
    assert started.utcoffset() == dt.timedelta(0)
    china = dt.datetime.fromisoformat(ev.started_china)
    assert china.utcoffset() == dt.timedelta(hours=8) and china == started
    assert started <= dt.datetime.fromisoformat(ev.ended) <= dt.datetime.now(CHINA)
    assert ev.machine.cpus and ev.machine.python and ev.version
    assert scan([folder], evidence=False).evidence is None


def test_verify_evidence_names_leak_master_and_history(tmp_path: Path) -> None:
    world = make_world(1200, seed=3, out=tmp_path / "world")
    leak = write_leak(make_leak(world, "stale", seed=2, size=300), tmp_path / "泄露.csv", "csv")
    history = world.path / "history.parquet"
    report = verify(leak, world.path / "customers.parquet", history, master_date=world.as_of)
    ev = report.evidence
    assert ev is not None and ev.command == "verify" and ev.engine == "duckdb"
    assert [(d.name, d.sha256) for d in ev.inputs] == [("泄露.csv", _sha(leak.read_bytes()))]
    assert ev.master is not None and ev.master.place == str(world.path / "customers.parquet")
    assert ev.master.rows == 1200
    assert (ev.master.as_of, ev.master.as_of_source) == (world.as_of, "given")
    assert ev.master.file is not None
    assert ev.master.file.sha256 == _sha((world.path / "customers.parquet").read_bytes())
    assert ev.history is not None and ev.history.place == str(history)
    assert ev.history.file is not None and ev.history.file.sha256 == _sha(history.read_bytes())
    assert ev.parameters["master_date"] == world.as_of.isoformat()
    out = json.loads(json.dumps(report.to_dict()))["evidence"]
    assert out["master"]["as_of"] == world.as_of.isoformat()
    assert out["inputs"][0]["sha256"] == ev.inputs[0].sha256
    # The master's date decided from its own data: the world's latest opening date.
    undated = verify(leak, world.path).evidence
    assert undated is not None and undated.master is not None
    assert undated.master.as_of_source in ("latest_opening", "latest_change")
    assert undated.history is not None  # the world's history, found beside its customers


def test_evidence_block_in_both_languages(tmp_path: Path, table: bytes) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(table)
    ev = scan([path]).evidence
    assert ev is not None
    with using("zh"):
        zh = evidence_section(ev)
    with using("en"):
        en = evidence_section(ev)
    for html in (zh, en):
        assert html.startswith('<section id="evidence">') and _sha(table) in html
        assert "overflow-wrap:anywhere" in html
    assert "证据链" in zh and "北京时间" in zh and "Evidence trail" in en


def test_pdf_needs_chromium_and_playwright(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear errors naming what to install; no file is left behind."""
    out = tmp_path / "report.pdf"
    monkeypatch.setattr(pdf, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pdf.PdfError, match="apt-get install chromium fonts-noto-cjk"):
        pdf.write_report("<p>报告</p>", out)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    with pytest.raises(MissingExtraError, match=r"leaktrace\[pdf\]"):
        pdf.write_report("<p>报告</p>", out)
    assert not list(tmp_path.iterdir())
    html = pdf.write_report("<p>报告</p>", tmp_path / "report.html")  # HTML needs neither
    assert html.read_text(encoding="utf-8") == "<p>报告</p>"


def test_scan_hashes_members_as_it_reads_them(tmp_path: Path, table: bytes) -> None:
    """A scan's trail takes each member's SHA-256 from the copy the scan spools (the archive
    is inflated once); a member it cannot read says why, in English in JSON."""
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("c.csv", table)
    bundle = tmp_path / "打包.tar.gz"
    with tarfile.open(bundle, "w:gz") as tf:
        for name, data in (("a.csv", table), ("b/客户.csv", table[::-1]), ("inner.zip", None)):
            if data is None:
                tf.add(inner, arcname=name)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    locked = tmp_path / "locked.zip"
    with pyzipper.AESZipFile(locked, "w") as zf:
        zf.setpassword(b"pw")
        zf.setencryption(pyzipper.WZ_AES)
        zf.writestr("x.csv", table)
    result = scan([bundle, locked])
    ev = result.evidence
    assert ev is not None
    members = {m.name: m for m in ev.inputs[0].members}
    assert members["a.csv"].sha256 == _sha(table) and members["a.csv"].size == len(table)
    assert members["b/客户.csv"].sha256 == _sha(table[::-1])
    assert members["inner.zip"].sha256 == _sha(inner.read_bytes())  # nested: hashed whole
    [x] = ev.inputs[1].members
    assert x.sha256 is None and x.not_hashed is not None
    doc = result.to_dict()["evidence"]["inputs"][1]["members"][0]
    assert "password" in doc["not_hashed"]
    with using("zh"):
        assert "密码" in str(x.not_hashed)
