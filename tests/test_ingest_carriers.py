"""The carriers insiders use: a Word document's tables and text, a PDF's text layer, e-mail bodies
and attachments (EML, MBOX), each scanned like an archive's members."""

from __future__ import annotations

import csv
import io
import mailbox
import zipfile
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from leaktrace.errors import InputError
from leaktrace.ingest import open_source
from leaktrace.scan import scan
from leaktrace.scan.result import ScanResult


def counts(result: ScanResult) -> dict[str, tuple[int, int, int]]:
    return {k: (s.found, s.valid, s.invalid) for k, s in result.kinds.items()}


def by_name(result: ScanResult) -> dict[str, object]:
    return {s.path: s for s in result.sources}


@pytest.fixture
def people(ingest_people) -> list[list[str]]:
    return ingest_people[:40]


@pytest.fixture
def as_csv(tmp_path, ingest_header, people) -> ScanResult:
    """The same customer table as a plain CSV: the counts each carrier must reproduce."""
    path = tmp_path / "plain.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([ingest_header, *people])
    return scan([path], processes=1)


def test_a_word_documents_table_is_a_table_with_its_header(tmp_path, ingest_header, people, as_csv):
    document = docx.Document()
    document.add_heading("客户资料（内部）", level=1)
    table = document.add_table(rows=2 + len(people), cols=len(ingest_header))
    title = table.rows[0].cells[0].merge(table.rows[0].cells[-1])
    title.text = "2023年贵宾客户名单"  # a title row merged across the table, above the header
    for j, label in enumerate(ingest_header):
        table.rows[1].cells[j].text = label
    for i, row in enumerate(people, 2):
        for j, value in enumerate(row):
            table.rows[i].cells[j].text = value
    document.add_paragraph("如有疑问请联系经办人 13912345678。")
    path = tmp_path / "客户资料.docx"
    document.save(str(path))

    result = scan([path], processes=1)
    sources = by_name(result)
    assert sources[str(path)].format == "docx"
    table_source = sources[f"{path}!table-1.csv"]
    assert table_source.records == len(people)
    kinds = {c.name: c.kind for cols in table_source.columns.values() for c in cols}
    assert kinds["身份证号"] == "resident_id" and kinds["手机"] == "mobile"
    text = dict(counts(scan([path], processes=1)))
    mobiles = as_csv.kinds["mobile"]
    assert text["mobile"][0] == mobiles.found + 1  # the paragraph's contact number
    assert text["resident_id"] == counts(as_csv)["resident_id"]
    assert sources[f"{path}!text.txt"].records >= 1


def test_a_word_document_is_not_taken_for_a_workbook(tmp_path):
    document = docx.Document()
    document.add_paragraph("客户 张三")
    path = tmp_path / "noname"  # no suffix: the content decides
    document.save(str(path))
    with pytest.raises(InputError, match="Word document"):
        open_source(path)
    assert by_name(scan([path], processes=1))[str(path)].format == "docx"


def _pdf(path: Path, pages: list[list[str]]) -> Path:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    for lines in pages:
        c.setFont("STSong-Light", 9)
        for i, line in enumerate(lines):
            c.drawString(30, 800 - 12 * i, line)
        c.showPage()
    c.save()
    return path


def test_a_pdf_text_layer_is_scanned_and_pages_without_text_reported(tmp_path, people, as_csv):
    lines = [" ".join(row[:3]) for row in people]  # name, resident ID, mobile
    path = _pdf(tmp_path / "名单.pdf", [lines[:20], [], lines[20:]])
    result = scan([path], processes=1)
    got = counts(result)
    assert got["resident_id"] == counts(as_csv)["resident_id"]
    assert got["mobile"] == counts(as_csv)["mobile"]
    problems = by_name(result)[str(path)].problems
    assert [p["place"] for p in problems] == [f"{path} page 2"]
    assert "text layer" in problems[0]["expected"]


def test_an_email_body_in_base64_gbk_and_its_csv_attachment(
    tmp_path, ingest_header, people, as_csv
):
    message = EmailMessage()
    message["From"] = "内鬼 <insider@example.cn>"
    message["To"] = "buyer@example.com"
    message["Subject"] = "资料样本"
    body = "样本如下：\n" + "\n".join(" ".join(r[:3]) for r in people[:10]) + "\n"
    message.set_content(body.encode("gbk"), "text", "plain", cte="base64")
    message.replace_header("Content-Type", 'text/plain; charset="gbk"')
    table = io.StringIO()
    csv.writer(table).writerows([ingest_header, *people])
    message.add_attachment(
        table.getvalue().encode("gb18030"), "text", "csv", filename="客户.csv", cte="base64"
    )
    path = tmp_path / "leak.eml"
    path.write_bytes(message.as_bytes())
    assert b"base64" in path.read_bytes() and "张".encode("gbk") not in path.read_bytes()

    result = scan([path], processes=1)
    sources = by_name(result)
    assert sources[f"{path}!客户.csv"].records == len(people)
    body_source = sources[f"{path}!body-1.txt"]
    assert body_source.encoding == "gb18030"
    ids = counts(result)["resident_id"]
    assert ids[0] == counts(as_csv)["resident_id"][0] + 10  # the body's ten and the attachment's
    assert counts(result)["email"][0] >= 2  # the header addresses


def test_an_mbox_holds_messages_scanned_one_by_one(tmp_path, people):
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(path)
    for i in range(3):
        message = EmailMessage()
        message["From"] = f"seller{i}@example.cn"
        message["Subject"] = f"第{i + 1}批"
        message.set_content(" ".join(people[i][:3]) + "\n", charset="utf-8", cte="quoted-printable")
        box.add(message)
    box.close()
    result = scan([path], processes=1)
    names = [s.path for s in result.sources]
    for i in (1, 2, 3):
        assert f"{path}!message-{i}.eml!body-1.txt" in names
    assert result.kinds["resident_id"].found == 3


def test_an_archive_inside_an_email_is_opened(tmp_path, ingest_header, people, as_csv):
    zipped = io.BytesIO()
    table = io.StringIO()
    csv.writer(table).writerows([ingest_header, *people])
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("客户.csv", table.getvalue())
    message = EmailMessage()
    message["From"] = "a@example.cn"
    message.set_content("见附件")
    message.add_attachment(zipped.getvalue(), "application", "zip", filename="资料.zip")
    path = tmp_path / "mail.eml"
    path.write_bytes(message.as_bytes())
    result = scan([path], processes=1)
    assert by_name(result)[f"{path}!资料.zip!客户.csv"].records == len(people)
    assert counts(result)["resident_id"] == counts(as_csv)["resident_id"]


def test_an_encrypted_pdf_opens_with_the_password(tmp_path, people, monkeypatch):
    from pypdf import PdfReader, PdfWriter

    monkeypatch.delenv("LEAKTRACE_PASSWORD", raising=False)
    plain = _pdf(tmp_path / "plain.pdf", [[" ".join(row[:3]) for row in people[:5]]])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt("内部2024", algorithm="AES-256")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as f:
        writer.write(f)
    assert scan([path], processes=1, password="内部2024").kinds["resident_id"].found == 5
    for password, words in [(None, "a password"), ("wrong", "the password that opens it")]:
        result = scan([path], processes=1, password=password)
        assert result.kinds == {}
        [problem] = by_name(result)[str(path)].problems
        assert words in problem["expected"]
