"""A text line too long to read at once is read in overlapping pieces: an identifier cut by a
piece's end is found whole, and once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric

from leaktrace.ingest import text_reader
from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.limits import PIECE_OVERLAP
from leaktrace.ingest.lines import line_chunks
from leaktrace.scan import scan
from leaktrace.scan.text import longest_match

PLANTED = ("resident_id", "mobile", "bank_card", "email", "address")
PROSE = "今天天气很好我们去公园散步看见很多老年在跑步"  # no identifier, no province, no name


def value(kind: str, n: int) -> str:
    """The n-th valid value of ``kind`` (python-stdnum computes the check characters)."""
    if kind == "resident_id":
        body = f"440304199003{n % 28 + 1:02d}{n % 1000:03d}"
        return body + ric.calc_check_digit(body + "0")
    if kind == "mobile":
        return f"138{n:08d}"
    if kind == "bank_card":
        body = f"622202{n:012d}"
        return body + luhn.calc_check_digit(body)
    if kind == "email":
        return f"zhang.wei{n}@163.com"
    return f"广东省深圳市南山区科技园{'一二三四五六七八九'[n % 9]}路{n % 500 + 1}号"


def filler(size: int) -> bytes:
    """``size`` bytes of prose (three bytes a character, spaces to make up the rest)."""
    chars = (PROSE * (size // 3 // len(PROSE) + 1))[: size // 3]
    return chars.encode() + b" " * (size % 3)


def found_values(out: Path) -> Counter[tuple[str, str]]:
    """(kind, value) of every identifier in a scan's normalised table, with repeats."""
    table = pq.read_table(out).to_pylist()
    got: Counter[tuple[str, str]] = Counter()
    for row in table:
        got.update((k, row[k]) for k in PLANTED if row[k] is not None)
        got.update((m["kind"], m["value"]) for m in row["more"] or () if m["kind"] in PLANTED)
    return got


def read_in_small_chunks(mp: pytest.MonkeyPatch, size: int) -> None:
    """Read files in chunks of ``size`` bytes, so a line of a few pieces spans several chunks
    (as a 300 MB line spans the 4 MiB chunks files are read in)."""
    chunks = ByteStream.chunks
    mp.setattr(ByteStream, "chunks", lambda self, size=size: chunks(self, size))


def scan_line(tmp: Path, line: bytes) -> tuple[Counter[tuple[str, str]], dict[str, int]]:
    path = tmp / "one_line.txt"
    path.write_bytes(b"\xe5\x87\xba\xe5\x94\xae\n" + line + b"\n")  # "出售", then the line
    result = scan([path], out=tmp / "out.parquet", processes=1)
    assert any("read in pieces" in p["expected"] for p in result.sources[0].problems)
    return found_values(tmp / "out.parquet"), {k: s.valid for k, s in result.kinds.items()}


def test_overlap_covers_the_longest_match_of_any_extractor():
    # 4 bytes is the widest UTF-8 character
    assert 4 * longest_match() <= PIECE_OVERLAP
    assert longest_match() >= 254  # an e-mail address may be that long


def test_values_across_every_piece_boundary_are_found_once(tmp_path, monkeypatch):
    piece = 64 << 10
    monkeypatch.setattr(text_reader, "TEXT_LINE_MAX", piece)
    read_in_small_chunks(monkeypatch, 100_003)
    line = bytearray()
    planted: Counter[tuple[str, str]] = Counter()
    for k in range(1, 50):  # 49 boundaries, a ~3.2 MB line
        kind = PLANTED[k % len(PLANTED)]
        v = value(kind, k)
        raw = v.encode()
        cuts = [i for i in range(1, len(raw)) if not 0x80 <= raw[i] < 0xC0]
        cut = cuts[k * 7 % len(cuts)]  # where the piece boundary falls inside the value
        # the boundary is at k * piece bytes from the line's start
        line += filler(k * piece - cut - 3 - len(line)) + "，".encode() + raw + "，".encode()
        planted[kind, v] += 1
    line += filler(piece // 2)
    got, valid = scan_line(tmp_path, bytes(line))
    assert got == planted
    assert valid == {k: n for k, n in Counter(k for k, _ in planted.elements()).items()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    piece=st.integers(120, 1500),
    items=st.lists(
        st.tuples(st.sampled_from(PLANTED), st.integers(0, 400), st.integers(0, 999)),
        min_size=1,
        max_size=30,
        unique_by=lambda item: (item[0], item[2]),  # distinct values: each to be found once
    ),
)
def test_pieces_find_what_the_whole_line_holds(tmp_path_factory, piece, items):
    """Wherever the pieces' boundaries fall, every planted value is found exactly once."""
    line = b""
    planted: Counter[tuple[str, str]] = Counter()
    for kind, gap, n in items:
        v = value(kind, n)
        line += filler(gap) + "，".encode() + v.encode() + "，".encode()
        planted[kind, v] += 1
    line = filler(3 * piece) + line  # long enough to be read in pieces
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(text_reader, "TEXT_LINE_MAX", piece)
        mp.setattr(text_reader, "PIECE_OVERLAP", 100)  # over the longest value planted
        read_in_small_chunks(mp, 50)
        got, _ = scan_line(tmp_path_factory.mktemp("line"), line)
    assert got == planted


@given(
    line=st.text(st.sampled_from("ab身份证号码，1😀"), min_size=0, max_size=400),
    max_line=st.integers(4, 60),
    overlap=st.integers(0, 40),
    chunk=st.integers(1, 50),
)
def test_pieces_own_the_line_exactly_and_overlap_their_neighbours(line, max_line, overlap, chunk):
    data = line.encode()
    chunks = []
    i = 0
    while i < len(data):  # chunks end between characters, as utf8_chunks gives them
        j = min(len(data), i + chunk)
        while j < len(data) and 0x80 <= data[j] < 0xC0:
            j += 1
        chunks.append(data[i:j])
        i = j
    pieces = [c for c in line_chunks(chunks, max_line, overlap=overlap) if c.piece]
    if len(data) <= max_line:
        assert pieces == []
        return
    own = [p.data[p.lead : len(p.data) - p.ahead] for p in pieces]
    assert b"".join(own) == data
    at = 0
    for p, mine in zip(pieces, own, strict=True):
        assert len(mine) <= max_line
        p.data.decode()  # every piece is cut between characters
        assert p.data == data[at - p.lead : at + len(mine) + p.ahead]
        assert p.lead <= overlap and p.ahead <= overlap
        assert p.lead == min(at, overlap) or overlap - p.lead < 4  # whole characters
        at += len(mine)
    assert pieces[-1].last and pieces[-1].length == len(data)
