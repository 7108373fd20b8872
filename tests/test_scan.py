"""scan: column typing by values, span finding in prose, the normalised table, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric
from typer.testing import CliRunner

from leaktrace.cli import app
from leaktrace.pii import KINDS
from leaktrace.scan import OUT_SCHEMA, find_spans, find_spans_many, scan
from leaktrace.scan.scanner import count_records
from leaktrace.synth.corpus import make_documents


def rid(body17: str) -> str:
    """A resident ID with its check character computed by python-stdnum (independent of ours)."""
    return body17 + ric.calc_check_digit(body17 + "0")  # it ignores the last character


def card(body: str) -> str:
    return body + luhn.calc_check_digit(body)


ID1 = rid("11010519491231002")  # Beijing Chaoyang, 1949-12-31, female
ID2 = rid("44030419900307123")  # Shenzhen Futian, 1990-03-07, male
ID3 = rid("32010219851111456")
BAD_ID = ID2[:-1] + ("0" if ID2[-1] != "0" else "1")
CARD1 = card("622202100112345678")  # ICBC, 19 digits
CARD2 = card("621700123456789")  # CCB, 16 digits


def kinds_values(spans):
    return {(s.kind, s.value, s.status) for s in spans}


def test_find_spans_in_a_seller_post():
    post = (
        "出售某银行信用卡客户资料，样本如下：\n"
        f"张伟 {ID1} 13812345678 北京市朝阳区建国路88号\n"
        f"李秀英\t{ID2}\t139-1234-5678\t{CARD1}\n"
        f"订单号 202311051230450001 联系邮箱 seller_01@qq.com\n"
    )
    found = kinds_values(find_spans(post))
    assert ("resident_id", ID1, "valid") in found
    assert ("resident_id", ID2, "valid") in found
    assert ("mobile", "13812345678", "valid") in found
    assert ("mobile", "13912345678", "valid") in found
    assert ("bank_card", CARD1, "valid") in found
    assert ("email", "seller_01@qq.com", "valid") in found
    assert ("person_name", "张伟", "valid") in found
    assert ("person_name", "李秀英", "valid") in found
    assert any(k == "address" and v.startswith("北京市朝阳区") for k, v, _ in found)
    # the order number is no identifier of any kind
    assert not any(v == "202311051230450001" for _, v, _ in found)


def test_span_offsets_point_at_the_identifier():
    text = f"客户王芳的手机号是１３９１２３４５６７８，身份证{ID3}"
    spans = find_spans(text)
    by_kind = {s.kind: s for s in spans}
    m = by_kind["mobile"]
    assert text[m.start : m.end] == "１３９１２３４５６７８"
    assert m.value == "13912345678"
    assert text[by_kind["resident_id"].start : by_kind["resident_id"].end] == ID3
    assert by_kind["person_name"].value == "王芳"


def test_masked_and_forged_ids_in_prose():
    text = f"身份证 110105********1234 手机 138****5678 伪造 {BAD_ID}"
    found = kinds_values(find_spans(text))
    assert ("resident_id", "110105********1234", "masked") in found
    assert ("mobile", "138****5678", "masked") in found
    assert ("resident_id", BAD_ID, "invalid") in found


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_scan_table_types_columns_by_values_not_headers(tmp_path):
    # headers lie: 手机 holds IDs, 证件 holds phones; one row is forged
    rows = [
        ("姓名", "手机", "证件", "备注"),
        ("张伟", ID1, "13812345678", "VIP客户"),
        ("王芳", ID2, "15912345678", "已联系"),
        ("刘洋", BAD_ID, "18612345678", "无"),
        ("陈静", ID3, "17712345678", f"备用卡 {CARD2}"),
    ]
    csv = write(tmp_path / "leak.csv", "\n".join(",".join(r) for r in rows) + "\n", "gb18030")
    out = tmp_path / "leak.parquet"
    res = scan([csv], out=out)
    cols = {c.name: c.kind for c in res.sources[0].columns["leak"]}
    assert cols["手机"] == "resident_id"
    assert cols["证件"] == "mobile"
    assert cols["姓名"] == "person_name"
    rid_stats = res.kinds["resident_id"]
    assert (rid_stats.found, rid_stats.valid, rid_stats.invalid) == (4, 3, 1)
    assert rid_stats.reasons["bad_checksum"] == 1
    assert res.kinds["mobile"].valid == 4
    table = pq.read_table(out)
    assert table.schema == OUT_SCHEMA
    assert table.num_rows == 4
    assert table.column("resident_id").to_pylist() == [ID1, ID2, BAD_ID, ID3]
    assert table.column("bank_card").to_pylist()[3] == CARD2
    # samples shown to people are masked
    assert all("*" in s for s in rid_stats.samples)
    assert not any(ID1 in s for s in rid_stats.samples)


def test_scan_text_file_writes_one_record_per_person_line(tmp_path):
    post = write(
        tmp_path / "post.txt",
        f"样本：\n张伟 {ID1} 13812345678\n王芳 {ID2} 15912345678\n无关的一行\n",
    )
    out = tmp_path / "post.parquet"
    res = scan([post], out=out)
    assert res.records == 2
    t = pq.read_table(out).to_pylist()
    assert [(r["person_name"], r["resident_id"], r["mobile"], r["row"]) for r in t] == [
        ("张伟", ID1, "13812345678", 2),
        ("王芳", ID2, "15912345678", 3),
    ]


def test_interrupted_scan_leaves_no_output(tmp_path):
    post = write(tmp_path / "p.txt", f"张伟 {ID1}\n" * 10)
    out = tmp_path / "o.parquet"

    def boom(_done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scan([post], out=out, progress=boom)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [post]


runner = CliRunner()


def test_cli_scan_json_goes_to_stdout_alone(tmp_path):
    post = write(tmp_path / "p.txt", f"张伟 {ID1} 13812345678\n")
    r = runner.invoke(app, ["scan", str(post), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["kinds"]["resident_id"]["valid"] == 1
    assert doc["kinds"]["mobile"]["valid"] == 1
    assert ID1 not in r.stdout  # samples are masked


def test_cli_scan_human_summary_and_exit_codes(tmp_path):
    post = write(tmp_path / "p.txt", f"张伟 {ID1} 13812345678\n")
    r = runner.invoke(app, ["scan", str(post)], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    assert "Resident ID" in r.stdout and ID1 not in r.stdout
    missing = runner.invoke(app, ["scan", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1
    assert "nope.csv" in missing.stderr
    empty = write(tmp_path / "empty.csv", "")
    r = runner.invoke(app, ["scan", str(empty)])
    assert r.exit_code == 1 and "empty.csv" in r.stderr
    assert runner.invoke(app, ["scan", "--bogus"]).exit_code == 2


def test_html_report_is_self_contained_masked_and_escaped(tmp_path):
    from leaktrace.report.files import write_atomic
    from leaktrace.report.scan_html import render_scan_html

    hostile = tmp_path / "<img src=x onerror=alert(1)>.txt"
    write(hostile, f"张伟 {ID1} 13812345678\n")
    res = scan([hostile])
    page = write_atomic(tmp_path / "r" / "scan.html", render_scan_html(res))
    html = page.read_text(encoding="utf-8")
    assert "<img" not in html and "&lt;img src=x" in html
    assert ID1 not in html and "13812345678" not in html  # masked only
    assert "http" not in html  # nothing fetched from anywhere
    assert [p.name for p in page.parent.iterdir()] == ["scan.html"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(5_000, 5_040), st.sampled_from(sorted(KINDS))), max_size=200
    ).filter(bool)
)
def test_records_counted_as_the_commonest_kind_of_each_line(rows: list[tuple[int, str]]) -> None:
    """Counting records without building them: a line with two IDs and one mobile is two."""
    found = pl.DataFrame(rows, schema={"line": pl.Int64, "kind": pl.String}, orient="row")
    per_line = found.group_by("line", "kind").len().group_by("line").agg(pl.col("len").max())
    assert count_records(found) == per_line.get_column("len").sum()


def test_spans_of_many_texts_point_at_the_labelled_identifiers() -> None:
    """One pass over many documents: each span is the document's own, multi-line offsets hold
    (the labels say where each identifier is), and a text alone gives the same spans."""
    docs = make_documents(300, 9)
    many = find_spans_many([d.text for d in docs])
    assert many[7] == find_spans(docs[7].text)
    hits = total = 0
    for doc, spans in zip(docs, many, strict=True):
        for s in spans:
            assert 0 <= s.start < s.end <= len(doc.text) and "\n" not in doc.text[s.start : s.end]
        got = {(s.kind, s.start, s.end) for s in spans if s.status == "valid"}
        for label in doc.labels:
            if label.status == "valid" and label.kind in ("resident_id", "mobile", "bank_card"):
                total += 1
                hits += (label.kind, label.start, label.end) in got
    assert total > 500 and hits / total > 0.99


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # "联系您的…" is no name: the search goes on to the contact after it
        ("否则将联系您的紧急联系人胡利（132-1171-8828）。", ["胡利"]),
        # a role word before the name is not part of it, alone or after a comma
        ("违章查询：吉M05354，车主孟玉华，2023-01-27在永州市超速", ["孟玉华"]),
        ("联系人吐尔逊·阿迪力 13800138000", ["吐尔逊·阿迪力"]),
        ("姓名：迪丽拜尔·伊力哈木，手机13800138000", ["迪丽拜尔·伊力哈木"]),
        # 司 marks 公司 (a company), but not in the compound surnames 司马 and 司徒
        ("司马莹 17752818378", ["司马莹"]),
        ("客户华为公司的电话13800138000", []),
        ("请联系我们的客服，电话13800138000", []),
        # rarer surnames (冶, 谌); 楼 is left out of them, as every forum has a 楼主
        ("冶丽华 632726580507406 谌刚 13800138000", ["冶丽华", "谌刚"]),
        ("楼主：阿杰 13800138000", []),
    ],
)
def test_names_in_prose(text: str, names: list[str]) -> None:
    assert [s.value for s in find_spans(text) if s.kind == "person_name"] == names
