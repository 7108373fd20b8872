"""Encoding and format detection from a file's head and name."""

from __future__ import annotations

import pytest

from leaktrace.errors import InputError
from leaktrace.ingest import open_source
from leaktrace.ingest.encoding import detect_encoding, normalize_encoding
from leaktrace.ingest.sniff import column_names, looks_like_header, sniff_dialect, sniff_text

SAMPLE = (
    "姓名,身份证号,手机\n张伟,110105199001011234,13800138000\n王芳,320102198512120021,13912345678\n"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (SAMPLE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"), "utf-8-sig"),
        (SAMPLE.encode("gbk"), "gb18030"),
        (SAMPLE.encode("utf-16"), "utf-16-le"),
        (b"\xfe\xff" + SAMPLE.encode("utf-16-be"), "utf-16-be"),
        (SAMPLE.encode("utf-16-le"), "utf-16-le"),
        (SAMPLE.encode("utf-16-be"), "utf-16-be"),
        (b"id,phone\n1,138\n", "utf-8"),
    ],
)
def test_detect_encoding(data, expected):
    assert detect_encoding(data, at_eof=True) == expected


def test_detect_tolerates_a_cut_character_and_a_few_bad_bytes():
    data = (SAMPLE * 20).encode("utf-8")
    assert detect_encoding(data[:-1]) == "utf-8"  # cut in the middle of the last character
    assert detect_encoding(data + "李四".encode("gbk")) == "utf-8"


def test_normalize_encoding():
    assert normalize_encoding("GBK") == "gb18030"
    assert normalize_encoding("utf8") == "utf-8"
    with pytest.raises(InputError):
        normalize_encoding("no-such-codec")


@pytest.mark.parametrize(
    ("text", "name", "fmt"),
    [
        ('[{"a": 1}]', "x.txt", "json"),
        ('{"a": 1}\n{"a": 2}\n', "x", "jsonl"),
        ('{\n  "a": 1\n}\n', "x", "json"),
        ("-- MySQL dump\nINSERT INTO `t` VALUES (1);\n", "x.txt", "sql"),
        ("<!DOCTYPE html><p>hi</p>", "x", "html"),
        ("a\tb\n1\t2\n", "x", "tsv"),
        ("a|b|c\n1|2|3\n4|5|6\n", "x", "csv"),
        ("出售资料，联系我。\n量大从优，INSERT INTO 一下\n", "x", "text"),
        ("just one column\n", "x.csv", "csv"),
    ],
)
def test_sniff_text(text, name, fmt):
    assert sniff_text(text, name, at_eof=True) == fmt


def test_header_detection():
    assert looks_like_header(["姓名", "身份证号"], [["张伟", "110105199001011234"]])
    assert looks_like_header(["user_name", "mobile"], [["a", "b"]])  # known labels
    assert looks_like_header(["foo", "bar"], [["x", "13800138000"]])  # words above numbers
    assert not looks_like_header(["张伟", "北京市"], [["王芳", "上海市"]])
    assert not looks_like_header(["张伟", "110105199001011234"], [["王芳", "320102198512120021"]])
    assert not looks_like_header(["姓名", "姓名"], [["a", "b"]])


def test_dialect_quoted_and_header_lines():
    text = '"姓名","地\n址"\n"张伟","北京"\n"王芳","上海"\n'
    dialect = sniff_dialect(text, at_eof=True)
    assert (dialect.delimiter, dialect.quoted, dialect.has_header, dialect.skip_lines) == (
        ",",
        True,
        True,
        2,
    )
    assert dialect.names == ("姓名", "地\n址")


def test_title_line_above_the_table(tmp_path, ingest_people):
    path = tmp_path / "export.csv"
    body = "".join(",".join(r[:3]) + "\n" for r in ingest_people[:10])
    path.write_text("某银行客户信息表\n\n姓名,身份证号,手机\n" + body, encoding="gbk")
    source = open_source(path)
    (batch,) = list(source.batches())
    assert batch.data.schema.names == ["姓名", "身份证号", "手机"]
    assert batch.data.num_rows == 10
    assert source.problems[0].place == "export.csv line 1"


def test_column_names_unique_and_padded():
    assert column_names(["姓名", "", "姓名"], 4) == ["姓名", "col_2", "姓名_2", "col_4"]


def test_header_shorter_than_rows(tmp_path):
    path = tmp_path / "trail.csv"
    path.write_text("姓名,手机\n张伟,13800138000,\n王芳,13912345678,\n", encoding="utf-8")
    source = open_source(path)
    batches = list(source.batches())
    assert batches[0].data.to_pydict() == {
        "姓名": ["张伟", "王芳"],
        "手机": ["13800138000", "13912345678"],
        "col_3": ["", ""],
    }
    assert source.problems[0].place == "trail.csv line 1"


def test_format_and_encoding_flags_override(tmp_path):
    path = tmp_path / "a.dat"
    path.write_bytes("姓名;手机\n张伟;13800138000\n".encode("gbk"))
    source = open_source(path, format="text", encoding="gbk")
    assert (source.format, source.encoding, source.kind) == ("text", "gb18030", "text")
    with pytest.raises(InputError, match="one of"):
        open_source(path, format="parquet")
