"""Folders and archives: every member scanned as its own source (``a.zip!x.csv``) with the same
counts as the files unpacked; passwords, bombs, path tricks and nesting reported, not fatal."""

from __future__ import annotations

import csv
import importlib
import io
import json
import struct
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

import py7zr
import pyarrow.parquet as pq
import pytest
import pyzipper
import rarfile
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from leaktrace.cli import app
from leaktrace.ingest import limits
from leaktrace.ingest.sniff import looks_binary, sniff_container, sniff_zip
from leaktrace.scan import scan
from leaktrace.scan.result import ScanResult


@pytest.fixture
def table_bytes(ingest_header, ingest_people) -> dict[str, bytes]:
    """The customer table as a GBK CSV and a UTF-8 TSV (two members of different shapes)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([ingest_header, *ingest_people[:120]])
    tsv = "\n".join("\t".join(r) for r in [ingest_header, *ingest_people[120:]]) + "\n"
    return {"客户.csv": out.getvalue().encode("gb18030"), "more/names.tsv": tsv.encode("utf-8")}


@pytest.fixture
def unpacked(tmp_path, table_bytes) -> ScanResult:
    """The same members scanned as plain files: the counts every archive must reproduce."""
    folder = tmp_path / "unpacked"
    paths = []
    for name, data in table_bytes.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return scan(paths, processes=1)


def counts(result: ScanResult) -> dict[str, tuple[int, int, int]]:
    return {k: (s.found, s.valid, s.invalid) for k, s in result.kinds.items()}


def by_name(result: ScanResult) -> dict[str, object]:
    return {s.path: s for s in result.sources}


def problems(result: ScanResult) -> list[dict]:
    return [p for s in result.sources for p in s.problems]


def test_a_folder_is_walked_hidden_and_binary_files_reported(tmp_path, table_bytes, unpacked):
    root = tmp_path / "leak"
    (root / "more").mkdir(parents=True)
    (root / "客户.csv").write_bytes(table_bytes["客户.csv"])
    (root / "more" / "names.tsv").write_bytes(table_bytes["more/names.tsv"])
    (root / ".hidden.csv").write_bytes(table_bytes["客户.csv"])
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    result = scan([root], processes=1)
    assert counts(result) == counts(unpacked)
    sources = by_name(result)
    assert sources[str(root)].format == "folder"
    assert sources[str(root / "客户.csv")].records == 120
    assert sources[str(root / "more" / "names.tsv")].records == 80
    places = {p["place"]: p["expected"] for p in sources[str(root)].problems}
    assert "hidden" in places[str(root / ".hidden.csv")]
    assert "hidden" in places[f"{root / '.git'}/"]
    assert "binary" in places[str(root / "photo.png")]
    assert len(places) == 3


def test_the_command_line_scans_a_folder(tmp_path, table_bytes, unpacked):
    root = tmp_path / "leak"
    root.mkdir()
    (root / "客户.csv").write_bytes(table_bytes["客户.csv"])
    (root / "b.tsv").write_bytes(table_bytes["more/names.tsv"])
    run = CliRunner().invoke(app, ["scan", str(root), "--json"])
    assert run.exit_code == 0, run.output
    doc = json.loads(run.stdout)
    assert {s["path"] for s in doc["sources"]} == {
        str(root),
        str(root / "客户.csv"),
        str(root / "b.tsv"),
    }
    assert doc["kinds"]["resident_id"]["found"] == unpacked.kinds["resident_id"].found


@pytest.mark.parametrize("aes", [True, False], ids=["aes", "zipcrypto"])
def test_encrypted_zip_opens_with_the_password(tmp_path, table_bytes, unpacked, aes, monkeypatch):
    archive = _encrypted_zip(tmp_path / "leak.zip", table_bytes, "售价500", aes)
    monkeypatch.delenv("LEAKTRACE_PASSWORD", raising=False)
    result = scan([archive], processes=1, password="售价500")
    assert counts(result) == counts(unpacked)
    assert by_name(result)[f"{archive}!客户.csv"].records == 120
    assert by_name(result)[f"{archive}!more/names.tsv"].records == 80
    assert problems(result) == []
    monkeypatch.setenv("LEAKTRACE_PASSWORD", "售价500")
    assert counts(scan([archive], processes=1)) == counts(unpacked)


def _encrypted_zip(path: Path, members: dict[str, bytes], password: str, aes: bool) -> Path:
    if aes:
        with pyzipper.AESZipFile(
            path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
        ) as zf:
            zf.setpassword(password.encode())
            for name, data in members.items():
                zf.writestr(name, data)
        return path
    return write_zipcrypto(path, members, password.encode())


def write_zipcrypto(path: Path, members: dict[str, bytes], password: bytes) -> Path:
    """A ZipCrypto (traditional PKWARE) archive, stored members, as older tools write them:
    Python's zipfile reads this encryption but cannot write it, so the test does."""

    def keys_update(keys: list[int], byte: int) -> None:
        keys[0] = zlib.crc32(bytes([byte]), keys[0] ^ 0xFFFFFFFF) ^ 0xFFFFFFFF
        keys[1] = (keys[1] + (keys[0] & 0xFF)) & 0xFFFFFFFF
        keys[1] = (keys[1] * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = zlib.crc32(bytes([keys[1] >> 24]), keys[2] ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def encrypt(data: bytes, crc: int) -> bytes:
        keys = [0x12345678, 0x23456789, 0x34567890]
        for b in password:
            keys_update(keys, b)
        out = bytearray()
        header = bytes(range(11)) + bytes([crc >> 24])
        for plain in header + data:
            temp = (keys[2] | 2) & 0xFFFF
            out.append(plain ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            keys_update(keys, plain)
        return bytes(out)

    local, central = bytearray(), bytearray()
    for name, data in members.items():
        raw_name = name.encode("utf-8")
        crc = zlib.crc32(data)
        body = encrypt(data, crc)
        offset = len(local)
        fields = struct.pack("<HHHHHIII", 20, 0x801, 0, 0, 0, crc, len(body), len(data))
        local += b"PK\x03\x04" + fields + struct.pack("<HH", len(raw_name), 0) + raw_name + body
        central += (
            b"PK\x01\x02"
            + struct.pack("<H", 20)
            + fields
            + struct.pack("<HHHHHII", len(raw_name), 0, 0, 0, 0, 0, offset)
            + raw_name
        )
    end = struct.pack("<HHHHIIH", 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local) + bytes(central) + b"PK\x05\x06" + end)
    return path


@pytest.mark.parametrize("aes", [True, False], ids=["aes", "zipcrypto"])
def test_a_wrong_or_missing_password_is_a_problem_and_other_members_scan(
    tmp_path, table_bytes, aes, monkeypatch
):
    monkeypatch.delenv("LEAKTRACE_PASSWORD", raising=False)
    inner = _encrypted_zip(
        tmp_path / "secret.zip", {"客户.csv": table_bytes["客户.csv"]}, "pw", aes
    )
    outer = tmp_path / "bundle.tar.gz"
    with tarfile.open(outer, "w:gz") as tf:
        tf.add(inner, arcname="secret.zip")
        info = tarfile.TarInfo("open.tsv")
        info.size = len(table_bytes["more/names.tsv"])
        tf.addfile(info, io.BytesIO(table_bytes["more/names.tsv"]))
    for password, words in [(None, "a password"), ("wrong", "the password that opens it")]:
        result = scan([outer], processes=1, password=password)
        assert by_name(result)[f"{outer}!open.tsv"].records == 80
        place = f"{outer}!secret.zip!客户.csv"
        found = [p for p in problems(result) if p["place"] == place]
        assert len(found) == 1 and words in found[0]["expected"]
        assert place not in by_name(result)


@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w:xz", "w:"], ids=["tgz", "tbz2", "txz", "tar"])
def test_tar_archives(tmp_path, table_bytes, unpacked, mode):
    suffix = {"w:gz": ".tgz", "w:bz2": ".tar.bz2", "w:xz": ".tar.xz", "w:": ".tar"}[mode]
    archive = tmp_path / f"leak{suffix}"
    with tarfile.open(archive, mode) as tf:
        for name, data in table_bytes.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    result = scan([archive], processes=1)
    assert counts(result) == counts(unpacked)
    assert by_name(result)[str(archive)].format == "tar"
    assert by_name(result)[f"{archive}!客户.csv"].records == 120


@pytest.mark.parametrize("password", [None, "口令2024"])
def test_7z_archives_plain_and_encrypted(tmp_path, table_bytes, unpacked, password):
    archive = tmp_path / "leak.7z"
    with py7zr.SevenZipFile(archive, "w", password=password) as szf:
        if password:
            szf.set_encrypted_header(True)
        for name, data in table_bytes.items():
            szf.writestr(data, name)
    result = scan([archive], processes=1, password=password)
    assert counts(result) == counts(unpacked)
    assert by_name(result)[f"{archive}!more/names.tsv"].records == 80
    if password:
        for wrong in (None, "错误"):
            failed = scan([archive], processes=1, password=wrong)
            assert failed.kinds == {}
            assert [p["place"] for p in problems(failed)][:1] in (
                [str(archive)],
                [f"{archive}!客户.csv"],
            )


def test_nested_archives_name_their_members_and_count_the_same(tmp_path, table_bytes, unpacked):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("客户.csv", table_bytes["客户.csv"])
    outer = tmp_path / "outer.tar.gz"
    with tarfile.open(outer, "w:gz") as tf:
        tf.add(inner, arcname="dump/inner.zip")
        info = tarfile.TarInfo("more/names.tsv")
        info.size = len(table_bytes["more/names.tsv"])
        tf.addfile(info, io.BytesIO(table_bytes["more/names.tsv"]))
    out = tmp_path / "out.parquet"
    result = scan([outer], out=out, processes=1)
    assert counts(result) == counts(unpacked)
    name = f"{outer}!dump/inner.zip!客户.csv"
    assert by_name(result)[name].records == 120
    assert by_name(result)[f"{outer}!dump/inner.zip"].format == "zip"
    assert name in set(pq.read_table(out).column("source").to_pylist())


def test_a_zip_bomb_is_stopped_at_the_ratio_and_reported(tmp_path, table_bytes, monkeypatch):
    monkeypatch.setattr(limits, "RATIO_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.csv", bytes(8 << 20))
        zf.writestr("客户.csv", table_bytes["客户.csv"])
    result = scan([bomb], processes=1)
    found = problems(result)
    assert [p["place"] for p in found] == [f"{bomb}!zeros.csv"]
    assert "zip bomb" in found[0]["expected"]
    assert by_name(result)[f"{bomb}!客户.csv"].records == 120


def test_a_member_in_a_method_zipfile_cannot_decode_is_a_problem_naming_it(tmp_path, table_bytes):
    """A Deflate64 member (method 9, what Windows Explorer writes past 2 GB) is refused by name;
    the archive's other members scan."""
    archive = tmp_path / "deflate64.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("big.csv", table_bytes["客户.csv"])
        zf.writestr("客户.csv", table_bytes["客户.csv"])
    data = bytearray(archive.read_bytes())
    local = data.index(b"PK\x03\x04")  # the first member's local header, then its central one
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<H", data, local + 8, 9)
    struct.pack_into("<H", data, central + 10, 9)
    archive.write_bytes(bytes(data))
    result = scan([archive], processes=1)
    found = problems(result)
    assert [p["place"] for p in found] == [f"{archive}!big.csv"]
    assert "compression method" in found[0]["expected"]
    assert by_name(result)[f"{archive}!客户.csv"].records == 120


def test_total_size_member_count_and_depth_are_bounded(tmp_path, table_bytes, monkeypatch):
    data = table_bytes["客户.csv"]
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for i in range(4):
            zf.writestr(f"part{i}.csv", data)
    monkeypatch.setattr(limits, "ARCHIVE_MEMBERS_MAX", 2)
    result = scan([archive], processes=1)
    assert [s.path for s in result.sources if s.kind != "container"] == [
        f"{archive}!part0.csv",
        f"{archive}!part1.csv",
    ]
    assert "at most 2 members" in problems(result)[0]["expected"]
    monkeypatch.setattr(limits, "ARCHIVE_MEMBERS_MAX", 100)
    monkeypatch.setattr(limits, "EXPANDED_BYTES_MAX", 2 * len(data) + 10)
    result = scan([archive], processes=1)
    assert sum(s.records for s in result.sources) == 240
    assert len(problems(result)) == 2 and "in all" in problems(result)[0]["expected"]

    nested = archive
    for level in range(3):
        wrapper = tmp_path / f"level{level}.zip"
        with zipfile.ZipFile(wrapper, "w") as zf:
            zf.write(nested, arcname=nested.name)
        nested = wrapper
    monkeypatch.setattr(limits, "EXPANDED_BYTES_MAX", 1 << 30)
    monkeypatch.setattr(limits, "ARCHIVE_DEPTH_MAX", 2)
    result = scan([nested], processes=1)
    assert result.records == 0
    assert any("nested at most 2 deep" in p["expected"] for p in problems(result))


def test_path_tricks_and_links_are_reported(tmp_path, table_bytes, monkeypatch):
    archive = tmp_path / "tricks.tar"
    with tarfile.open(archive, "w") as tf:
        for name in ("../../etc/客户.csv", "/abs/names.tsv", "C:\\Users\\names.tsv"):
            data = (
                table_bytes["客户.csv"] if name.endswith(".csv") else table_bytes["more/names.tsv"]
            )
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    result = scan([archive], processes=1)
    found = {p["place"]: p["expected"] for p in problems(result)}
    assert "leaves it" in found[f"{archive}!../../etc/客户.csv"]
    assert "leaves it" in found[f"{archive}!/abs/names.tsv"]
    assert "leaves it" in found[f"{archive}!C:\\Users\\names.tsv"]
    assert "link" in found[f"{archive}!passwd"]
    # read in place, never extracted where the names point; the spool is gone afterwards
    assert by_name(result)[f"{archive}!../../etc/客户.csv"].records == 120
    assert not (tmp_path.parent.parent / "etc" / "客户.csv").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_spool_is_private_and_removed_on_an_interrupt(tmp_path, table_bytes, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    archive = tmp_path / "leak.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("客户.csv", table_bytes["客户.csv"])
    seen = []

    def interrupt(src, *args, **kwargs):
        spool = next((tmp_path / "tmp").glob("leaktrace-*"))
        seen.append((oct(spool.stat().st_mode & 0o777), [p.name for p in spool.iterdir()]))
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module("leaktrace.scan.run"), "scan_batches", interrupt)
    with pytest.raises(KeyboardInterrupt):
        scan([archive], processes=1)
    assert seen == [("0o700", ["1.csv"])]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_damaged_member_is_a_problem_not_a_traceback(tmp_path, table_bytes):
    archive = tmp_path / "mixed.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("book.xlsx", b"PK\x03\x04 this is not a workbook")
        zf.writestr("empty.csv", b"")
        zf.writestr("客户.csv", table_bytes["客户.csv"])
    result = scan([archive], processes=1)
    places = {p["place"] for p in problems(result)}
    assert {f"{archive}!book.xlsx", f"{archive}!empty.csv"} <= places
    assert by_name(result)[f"{archive}!客户.csv"].records == 120


def test_container_detection_by_content():
    assert sniff_container(b"PK\x03\x04rest", None, "x.bin") == "zip"
    assert sniff_container(b"7z\xbc\xaf\x27\x1c\x00\x04", None, "x") == "7z"
    assert sniff_container(b"Rar!\x1a\x07\x01\x00", None, "x") == "rar"
    assert sniff_container(b"%PDF-1.7\n", None, "scan") == "pdf"
    tar_head = bytes(257) + b"ustar\x0000"
    assert sniff_container(b"\x1f\x8b\x08", tar_head, "x.gz") == "tar"
    assert sniff_container(b"\x1f\x8b\x08", b"a,b\n1,2\n", "x.csv.gz") is None
    mail = b"Received: from mx\r\nFrom: a@b.cn\r\nTo: c@d.cn\r\nSubject: hi\r\n\r\nbody"
    assert sniff_container(mail, None, "noname") == "eml"
    assert sniff_container(b"From a@b.cn Sat Jan  1 00:00:00 2022\n" + mail, None, "x") == "mbox"
    assert sniff_container("姓名,手机\n张三,13800138000\n".encode("gb18030"), None, "a") is None
    assert sniff_zip(["[Content_Types].xml", "word/document.xml"]) == "docx"
    assert sniff_zip(["[Content_Types].xml", "xl/workbook.xml"]) == "xlsx"
    assert sniff_zip(["客户.csv"]) == "zip"


def test_binary_is_told_from_text_in_any_encoding():
    text = "姓名,身份证号\n张三,11010519491231002X\n" * 50
    assert not looks_binary(text.encode("utf-16-le"))  # no BOM: NULs on every other byte
    assert not looks_binary(text.encode("gb18030"))
    assert not looks_binary(text.encode("utf-8")[:500] + b"\x00" + text.encode("utf-8"))
    assert looks_binary(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    assert looks_binary(b"\x7fELF\x02\x01\x01" + bytes(2000))


def test_help_prefers_the_environment_for_the_password():
    run = CliRunner().invoke(app, ["scan", "--help"], env={"COLUMNS": "200"})
    assert "LEAKTRACE_PASSWORD" in run.output and "process list" in run.output


def write_rar4(path: Path, members: dict[str, bytes], method: int = 0x30) -> Path:
    """A RAR 4 archive, as no free tool writes one: stored members (method 0x30) read directly,
    other methods need the unpacking tool (here the bytes are not really compressed)."""

    def block(kind: int, flags: int, body: bytes) -> bytes:
        head = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head

    out = b"Rar!\x1a\x07\x00" + block(0x73, 0, bytes(6))
    for name, data in members.items():
        raw = name.encode("utf-8")
        fields = struct.pack(
            "<IIBIIBBHI",
            len(data),
            len(data),
            3,
            zlib.crc32(data),
            0,
            20,
            method,
            len(raw),
            0o100644,
        )
        out += block(0x74, 0x8000, fields + raw) + data
    path.write_bytes(out + block(0x7B, 0x4000, b""))
    return path


def test_rar_members_are_scanned(tmp_path, table_bytes, unpacked):
    archive = write_rar4(tmp_path / "leak.rar", table_bytes)
    result = scan([archive], processes=1)
    assert by_name(result)[str(archive)].format == "rar"
    assert counts(result) == counts(unpacked)
    assert by_name(result)[f"{archive}!客户.csv"].records == 120


def test_rar_without_an_unpacking_tool_names_what_to_install(tmp_path, table_bytes, monkeypatch):
    for tool in ("UNRAR_TOOL", "UNAR_TOOL", "BSDTAR_TOOL", "SEVENZIP_TOOL", "SEVENZIP2_TOOL"):
        monkeypatch.setattr(rarfile, tool, "leaktrace-no-such-tool")
    monkeypatch.setattr(rarfile, "CURRENT_SETUP", None)
    archive = write_rar4(tmp_path / "packed.rar", {"客户.csv": table_bytes["客户.csv"]}, 0x33)
    write_rar4(tmp_path / "stored.rar", {"names.tsv": table_bytes["more/names.tsv"]})
    result = scan([archive, tmp_path / "stored.rar"], processes=1)
    [problem] = problems(result)
    assert problem["place"] == f"{archive}!客户.csv"
    assert "apt-get install unar" in problem["expected"]
    assert result.records == 80


def test_gbk_member_names_from_chinese_windows_tools(tmp_path, table_bytes):
    """Zips made on Chinese Windows store GBK names without the UTF-8 flag."""
    archive = tmp_path / "windows.zip"
    gbk = "客户.csv".encode("gbk")
    stand_in = b"x" * (len(gbk) - 4) + b".csv"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(stand_in.decode(), table_bytes["客户.csv"])
    archive.write_bytes(archive.read_bytes().replace(stand_in, gbk))
    result = scan([archive], processes=1)
    assert by_name(result)[f"{archive}!客户.csv"].records == 120


def test_a_workbook_in_a_zip_is_read_as_a_workbook(tmp_path, ingest_header, ingest_people):
    import xlsxwriter

    book_path = tmp_path / "book.bin"  # no suffix: the parts inside the zip decide
    book = xlsxwriter.Workbook(str(book_path))
    sheet = book.add_worksheet("客户")
    for i, row in enumerate([ingest_header, *ingest_people[:30]]):
        sheet.write_row(i, 0, row)
    book.close()
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(book_path, arcname="导出/客户.xlsx")
    result = scan([archive, book_path], processes=1)
    member = by_name(result)[f"{archive}!导出/客户.xlsx"]
    assert member.format == "xlsx" and member.records == 30
    assert by_name(result)[str(book_path)].records == 30


def test_one_member_is_spooled_at_a_time(tmp_path, table_bytes, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    archive = tmp_path / "many.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for i in range(4):
            info = tarfile.TarInfo(f"part{i}.csv")
            info.size = len(table_bytes["客户.csv"])
            tf.addfile(info, io.BytesIO(table_bytes["客户.csv"]))
    run_module = importlib.import_module("leaktrace.scan.run")
    real = run_module.scan_batches
    spooled = []

    def watch(src, *args, **kwargs):
        spooled.append(len(list(next((tmp_path / "tmp").glob("leaktrace-*")).iterdir())))
        return real(src, *args, **kwargs)

    monkeypatch.setattr(run_module, "scan_batches", watch)
    assert scan([archive], processes=1).records == 480
    assert spooled == [1, 1, 1, 1]


@given(
    st.lists(
        st.text(st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=30),
        min_size=2,
        max_size=40,
    ),
    st.sampled_from(["utf-8", "gb18030", "utf-16-le", "utf-16-be"]),
)
@settings(max_examples=200, deadline=None)
def test_text_in_any_encoding_is_never_taken_for_binary(fields, encoding):
    text = "\n".join(",".join(fields[i : i + 3]) for i in range(0, len(fields), 3)) + "\n"
    data = text.encode(encoding, "replace")
    assert not looks_binary(data)
    assert sniff_container(data, None, "leak.txt") in (None, "eml", "mbox")


def test_same_named_7z_members_are_all_scanned(tmp_path, table_bytes):
    archive = tmp_path / "twice.7z"
    with py7zr.SevenZipFile(archive, "w") as szf:
        szf.writestr(table_bytes["客户.csv"], "客户.csv")
        szf.writestr(table_bytes["客户.csv"], "客户.csv")  # an updated copy added again
    result = scan([archive], processes=1)
    assert [s.records for s in result.sources if s.path == f"{archive}!客户.csv"] == [120, 120]


def test_a_zipcrypto_password_set_on_chinese_windows(tmp_path, table_bytes):
    """Older Chinese tools encrypt with the password's GBK bytes; the UTF-8 ones fail there."""
    archive = write_zipcrypto(
        tmp_path / "old.zip", {"客户.csv": table_bytes["客户.csv"]}, "资料".encode("gbk")
    )
    result = scan([archive], processes=1, password="资料")
    assert by_name(result)[f"{archive}!客户.csv"].records == 120


RAR_FILES = Path(__file__).parent / "data" / "rar"  # made by WinRAR: see SOURCE.md there


@pytest.mark.parametrize(
    ("name", "password"),
    [("rar5-solid.rar", None), ("rar5-psw.rar", "password"), ("rar5-hpsw.rar", "password")],
)
def test_compressed_and_encrypted_rar_made_by_winrar(tmp_path, name, password, monkeypatch):
    """Compressed, solid and AES-encrypted RAR5 archives are unpacked by the Debian tool:
    both members are read whole (2048 bytes each, the CRC checked by the tool), nothing reported."""
    monkeypatch.delenv("LEAKTRACE_PASSWORD", raising=False)
    archive = tmp_path / name
    archive.write_bytes((RAR_FILES / name).read_bytes())
    result = scan([archive], processes=1, password=password)
    assert problems(result) == []
    for member in ("stest1.txt", "stest2.txt"):
        assert by_name(result)[f"{archive}!{member}"].bytes == 2048
        assert by_name(result)[f"{archive}!{member}"].format == "text"


@pytest.mark.parametrize("name", ["rar5-psw.rar", "rar5-hpsw.rar"])
@pytest.mark.parametrize("password", [None, "错误"])
def test_a_rar_with_a_missing_or_wrong_password_is_reported(tmp_path, name, password, monkeypatch):
    monkeypatch.delenv("LEAKTRACE_PASSWORD", raising=False)
    archive = tmp_path / name
    archive.write_bytes((RAR_FILES / name).read_bytes())
    result = scan([archive], processes=1, password=password)
    assert result.records == 0
    found = problems(result)
    assert found and all("password" in p["expected"] for p in found)
    assert {p["place"] for p in found} <= {
        str(archive),
        f"{archive}!stest1.txt",
        f"{archive}!stest2.txt",
    }
