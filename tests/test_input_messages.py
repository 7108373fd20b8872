"""Input errors and scan problems in Chinese and English: shown in the language in use with
their places intact, English and the same in both languages in ``--json``."""

from __future__ import annotations

import csv
import gzip
import io
import json
import pickle
import re
from pathlib import Path

import pytest
import pyzipper

from leaktrace import i18n
from leaktrace.errors import InputError, Message
from leaktrace.ingest import limits
from leaktrace.ingest.opener import open_source
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.source import Problem
from leaktrace.scan import scan
from leaktrace.scan.result import ScanResult
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify

CJK = re.compile(r"[\u4e00-\u9fff]")
# Latin words a Chinese message may keep: codes, options, formats, the names of tools
CODES = {
    "utf",
    "gzip",
    "zip",
    "FFFD",
    "password",
    "LEAKTRACE_PASSWORD",
    "master",
    "columns",
    "resident_id",
    "mobile",
    "bank_card",
    "person_name",
    "customer",
}


def _latin_words(text: str, *places: str) -> set[str]:
    """The Latin words of ``text`` once its places (file names, options) are taken out."""
    for place in sorted(places, key=len, reverse=True):
        text = text.replace(place, "")
    return set(re.findall(r"[A-Za-z][A-Za-z_]+", text))


def _in_both(shown: object) -> tuple[str, str]:
    with i18n.using("zh"):
        zh = str(shown)
    with i18n.using("en"):
        en = str(shown)
    return zh, en


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


def test_a_gbk_file_read_as_utf8_reports_undecodable_bytes_in_chinese(
    tmp_path: Path, ingest_header: list[str], ingest_people: list[list[str]]
) -> None:
    path = tmp_path / "客户名单.csv"
    path.write_bytes(_csv_bytes([ingest_header, *ingest_people[:20]], "gbk"))
    source = open_source(path, encoding="utf-8")
    list(source.batches())
    problem = next(p for p in source.problems if p.kind == "encoding")
    assert problem.place.startswith("客户名单.csv line ")
    zh, en = _in_both(problem.expected)
    assert re.fullmatch(r"utf-8 编码的文本，实有 \d+ 个无法解码的字节；已替换为 U\+FFFD", zh), zh
    assert re.fullmatch(
        r"text in utf-8, found \d+ undecodable byte\(s\); replaced with U\+FFFD", en
    ), en
    assert problem.expected.english() == en  # what --json carries, whatever the language


def test_a_truncated_gzip_is_reported_in_chinese(
    tmp_path: Path, ingest_header: list[str], ingest_people: list[list[str]]
) -> None:
    path = tmp_path / "泄露.csv.gz"
    data = gzip.compress(_csv_bytes([ingest_header, *ingest_people], "utf-8"))
    path.write_bytes(data[: len(data) // 2])
    source = open_source(path)
    list(source.batches())
    problem = next(p for p in source.problems if p.kind == "compression")
    assert re.fullmatch(r"泄露\.csv\.gz after \d+ uncompressed bytes", problem.place)
    zh, en = _in_both(problem.expected)
    assert zh == "完整的 gzip 压缩流，实为被截断；其余内容丢失"
    assert en == "a complete gzip stream, found it truncated; the rest is lost"


def test_an_unknown_encoding_is_an_error_in_either_language(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(_csv_bytes([["姓名"], ["张三"]], "utf-8"))
    with pytest.raises(InputError) as info:
        open_source(path, encoding="no-such-codec")
    zh, en = _in_both(info.value)
    assert zh == "encoding：应为已知的文本编码，实为no-such-codec"
    assert en == "encoding: expected a known text encoding, found no-such-codec"


def _encrypted_zip(path: Path, members: dict[str, bytes]) -> Path:
    with pyzipper.AESZipFile(
        path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as zf:
        zf.setpassword("正确的密码".encode())
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_an_encrypted_archive_without_a_password_is_a_chinese_problem(
    tmp_path: Path,
    ingest_header: list[str],
    ingest_people: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEAKTRACE_PASSWORD", raising=False)
    archive = _encrypted_zip(
        tmp_path / "客户资料.zip",
        {"客户.csv": _csv_bytes([ingest_header, *ingest_people[:30]], "gb18030")},
    )
    result = scan([archive], processes=1)
    (problem,) = [p for s in result.sources for p in s.problems]
    assert (problem["kind"], problem["place"]) == ("member", f"{archive}!客户.csv")
    zh, en = _in_both(problem["message"])
    assert (
        zh == "密码（通过 --password 或环境变量 LEAKTRACE_PASSWORD 提供），实为加密的压缩包内文件"
    )
    assert en == "a password (--password or LEAKTRACE_PASSWORD), found an encrypted member"
    assert problem["expected"] == en
    assert _latin_words(zh) <= CODES


@pytest.fixture(scope="module")
def leak_and_master(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A recipient's copy of 50 customers, and a master that holds no identifier column (a
    branch list exported under the wrong name)."""
    tmp = tmp_path_factory.mktemp("messages")
    world = make_world(200, seed=3, out=tmp / "world")
    leak = make_leak(world, "share", seed=5, size=50, columns=["name", "resident_id", "mobile"])
    leak_path = write_leak(leak, tmp / "leak.csv", "csv")
    master = tmp / "master.csv"
    rows = [["客户号", "分行", "备注"]] + [[f"C{i:05d}", "北京分行", "正常"] for i in range(40)]
    master.write_bytes(_csv_bytes(rows, "gbk"))
    return leak_path, master


def test_a_master_without_columns_to_link_on_is_explained_in_chinese(
    leak_and_master: tuple[Path, Path],
) -> None:
    leak, master = leak_and_master
    with pytest.raises(InputError) as info:
        verify(leak, master)
    zh, en = _in_both(info.value)
    assert zh == (
        f"{master}：应为可用于关联的列：resident_id、mobile、bank_card 或 person_name，"
        "实为现有的列：客户号, 分行, 备注"
    )
    assert en == (
        f"{master}: expected columns to link on: resident_id, mobile, bank_card or "
        "person_name, found columns: 客户号, 分行, 备注"
    )
    assert _latin_words(zh, str(master)) <= CODES


def test_a_master_columns_mapping_to_a_missing_column_is_explained_in_chinese(
    leak_and_master: tuple[Path, Path],
) -> None:
    leak, master = leak_and_master
    with pytest.raises(InputError) as info:
        verify(leak, master, master_columns={"customer": "编号"})
    assert info.value.place == "--master-columns customer=编号"
    zh, en = _in_both(info.value)
    assert zh == (
        f"--master-columns customer=编号：应为{master} 中的列，实为现有的列：客户号, 分行, 备注"
    )
    assert en == (
        f"--master-columns customer=编号: expected a column of {master}, "
        "found columns: 客户号, 分行, 备注"
    )
    assert _latin_words(zh, str(master), info.value.place) == set()


def test_an_error_crosses_processes_and_keeps_its_message() -> None:
    # scan workers send their InputErrors to the parent pickled
    error = InputError(
        "名单.xlsx", "a readable {format} workbook", "a damaged or truncated file", format="xlsx"
    )
    again = pickle.loads(pickle.dumps(error))
    assert (again.place, again.expected, again.found) == (error.place, error.expected, error.found)
    assert _in_both(again) == (
        "名单.xlsx：应为可读取的 xlsx 工作簿，实为已损坏或被截断的文件",
        "名单.xlsx: expected a readable xlsx workbook, found a damaged or truncated file",
    )


def test_the_summary_of_many_problems_is_translated_too() -> None:
    problems: list[Problem] = []
    log = ProblemLog("名单.csv", problems, limit=2)
    for line in range(2, 7):
        log.add(
            "ragged",
            f"名单.csv line {line}",
            "{fields} fields, found {found}; the row is scanned as free text",
            fields=5,
            found=6,
        )
    log.finish()
    assert [p.places for p in problems] == [1, 1, 3]
    summary = problems[-1]
    assert summary.place == "名单.csv"
    zh, en = _in_both(summary.expected)
    assert zh == "同上，另有 3 处（ragged）：5 个字段，实为 6 个；该行按自由文本扫描"
    assert (
        en
        == "as above, in 3 more places (ragged): 5 fields, found 6; the row is scanned as free text"
    )


def _json(result: ScanResult) -> dict:
    doc = json.loads(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
    for key in ("seconds", "mb_per_s"):
        doc.pop(key)
    for key in ("started", "ended", "started_china", "ended_china", "seconds"):
        doc["evidence"].pop(key, None)  # the times of each run
    return doc


def test_scan_json_is_the_same_in_both_languages(
    tmp_path: Path,
    ingest_header: list[str],
    ingest_people: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEAKTRACE_PASSWORD", raising=False)
    folder = tmp_path / "泄露"
    folder.mkdir()
    rows = [ingest_header, *ingest_people]
    lines = _csv_bytes(rows, "gbk").decode("gbk").splitlines()
    for i in range(3, 3 * limits.PROBLEMS_PER_KIND + 9, 3):
        lines[i] += ",多余"  # ragged rows: 2 past the limit, summarised
    (folder / "名单.csv").write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    data = gzip.compress(_csv_bytes(rows, "utf-8"))
    (folder / "截断.csv.gz").write_bytes(data[: len(data) // 2])
    _encrypted_zip(folder / "加密.zip", {"客户.csv": _csv_bytes(rows, "gb18030")})
    (folder / ".隐藏.csv").write_bytes(_csv_bytes(rows, "utf-8"))

    docs = {}
    for lang in ("zh", "en"):
        with i18n.using(lang):
            docs[lang] = _json(scan([folder], processes=1))
    assert docs["zh"] == docs["en"]
    problems = [p for s in docs["zh"]["sources"] for p in s["problems"]]
    assert {p["kind"] for p in problems} >= {"ragged", "compression", "member", "hidden"}
    assert all(set(p) == {"kind", "place", "expected", "rows_skipped", "places"} for p in problems)
    assert not any(CJK.search(p["expected"]) for p in problems)  # English, file names aside
    summary = next(p for p in problems if p["places"] > 1)
    assert summary["expected"].startswith("as above, in 2 more places (ragged): 5 fields, found 6")


def test_a_message_is_english_for_machines_whatever_the_language() -> None:
    inner = Message(
        "{fields} fields, found {found}; the row is scanned as free text", fields=3, found=4
    )
    outer = Message(
        "as above, in {extra} more places ({kind}): {what}", extra=2, kind="ragged", what=inner
    )
    with i18n.using("zh"):
        assert outer.english() == (
            "as above, in 2 more places (ragged): 3 fields, found 4; the row is scanned as free text"
        )
        assert f"{outer}" == str(outer) and CJK.search(str(outer))
