"""A large file scanned in byte ranges by several processes gives what one process gives:
the same counts, problems (with the same line numbers) and normalised rows."""

from __future__ import annotations

import csv
import dataclasses
import io
import random

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from same_scan import assert_split_matches_one_process

from leaktrace.ingest import open_source
from leaktrace.ingest.quote_rows import Layout, settle
from leaktrace.ingest.split import row_starts, split
from leaktrace.scan import run
from leaktrace.synth.corpus import write_table_dump, write_text_dump

ID = "11010519491231002X"


def test_split_table_scan_matches_one_process(tmp_path, monkeypatch):
    path = tmp_path / "leak.csv"
    write_table_dump(path, 400_000, seed=7)  # ~ 0.4 MB of bank-export rows
    with path.open("a", encoding="utf-8") as f:
        f.write("only,three,fields\n")  # a ragged row near the end: counted once, same line
    assert_split_matches_one_process(tmp_path, path, monkeypatch, in_file_order=False)


def test_split_text_scan_matches_one_process(tmp_path, monkeypatch):
    path = tmp_path / "post.txt"
    write_text_dump(path, 300_000, seed=8)
    assert_split_matches_one_process(tmp_path, path, monkeypatch, in_file_order=False)


def test_split_gb18030_table(tmp_path, monkeypatch):
    src = tmp_path / "utf8.csv"
    write_table_dump(src, 200_000, seed=9)
    path = tmp_path / "gbk.csv"
    path.write_bytes(src.read_text(encoding="utf-8").encode("gb18030"))
    assert open_source(path).encoding == "gb18030"
    assert_split_matches_one_process(tmp_path, path, monkeypatch, in_file_order=False)


def test_quoted_newlines_never_split_a_row(tmp_path, monkeypatch):
    rng = random.Random(3)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["姓名", "备注", "手机"])
    for i in range(3000):
        note = "第一行\n第二行" if rng.random() < 0.3 else f"客户{i}"
        w.writerow([f"张{i}", note, f"138{i:08d}"])
    path = tmp_path / "quoted.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    src = open_source(path)
    assert src.dialect is not None and src.dialect.quoted and src.dialect.skip_lines == 1
    parts = split(src, 4)
    assert len(parts) == 4
    data = path.read_bytes()
    for p in parts:
        assert p.part is not None
        assert data[: p.part.start].count(b'"') % 2 == 0
        assert p.part.first_line == data[: p.part.start].count(b"\n") + 1
    assert_split_matches_one_process(tmp_path, path, monkeypatch, in_file_order=False)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.lists(
            st.sampled_from(["a", '"q"', '"x\ny"', '""', '"a""b"', "1"]), min_size=1, max_size=3
        ),
        min_size=1,
        max_size=12,
    ),
    at=st.integers(0, 200),
)
def test_row_starts_are_row_boundaries(tmp_path_factory, rows, at):
    data = "".join(",".join(r) + "\n" for r in rows).encode()
    path = tmp_path_factory.mktemp("rs") / "f.csv"
    path.write_bytes(data)
    ((offset, before),) = row_starts(str(path), [at], quoted=True)
    assert offset >= min(at, len(data))
    assert offset in (0, len(data)) or data[offset - 1 : offset] == b"\n"
    assert data[:offset].count(b'"') % 2 == 0 or offset == len(data)
    assert before == data[:offset].count(b"\n")
    # it is the first such place: no row start lies between the target and it
    starts = [i + 1 for i, c in enumerate(data) if c == 10 and data[: i + 1].count(b'"') % 2 == 0]
    assert not [s for s in starts if min(at, len(data)) <= s < offset]


def test_interrupted_split_scan_stops_its_workers_and_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "leak.csv"
    write_table_dump(path, 300_000, seed=11)
    out = tmp_path / "o.parquet"
    monkeypatch.setattr(run, "SPLIT_MIN", 1)
    started: list[run._Worker] = []
    real_init = run._Worker.__init__

    def spy(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(run._Worker, "__init__", spy)

    def boom(_done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.scan([path], out=out, progress=boom, processes=2)
    assert len(started) == 2
    assert all(w.proc.poll() is not None for w in started)  # ended, not left running
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leak.csv"]


def test_more_processes_than_rows(tmp_path, monkeypatch):
    # Ranges are cut between rows: a worker left without one ends at once.
    path = tmp_path / "post.txt"
    path.write_text(f"张伟 {ID}\n李娜 {ID}\n", encoding="utf-8")
    monkeypatch.setattr(run, "SPLIT_MIN", 1)
    got = run.scan([path], processes=6)
    assert got.records == 2
    assert got.kinds["resident_id"].valid == 2


def test_worker_reports_input_errors_whole_and_other_errors_by_type_only(tmp_path):
    import io
    import pickle

    from leaktrace.ingest.source import Part, Source
    from leaktrace.scan import worker

    def reply(order: object) -> tuple[str, object]:
        frames = io.BytesIO()
        worker.run(io.BytesIO(pickle.dumps(order)), frames)
        frames.seek(0)
        return pickle.load(frames)

    part = Part(0, 10, 1, 1)
    missing = tmp_path / "gone.csv"  # removed after it was split
    status, value = reply((Source(missing, "csv", "utf-8", "table", 10, part=part), None))
    assert status == "input" and value[0] == str(missing)  # place, expected, found

    post = tmp_path / "p.txt"
    post.write_text(f"张伟 {ID}\n", encoding="utf-8")
    src = dataclasses.replace(open_source(post), part=part)
    status, value = reply((src, tmp_path / "no" / "dir" / "o.tmp"))
    assert (status, value) == ("error", "FileNotFoundError")  # no message: it may quote data


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_split_damaged_csv_matches_one_process(tmp_path, monkeypatch, encoding):
    # Quotes opened early and never closed flip the quote parity counted from the file's
    # start: the ranges must still start where the whole read starts a row.
    rng = random.Random(5)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["姓名", "身份证号", "手机号", "备注"])
    lines = []
    for i in range(6000):
        note = "来电\n改号" if i % 9 == 4 else f"客户{i}"
        row = io.StringIO()
        csv.writer(row, lineterminator="\n").writerow([f"张{i}", ID, f"138{i:08d}", note])
        text = row.getvalue()
        if rng.random() < 0.003:
            text = text.replace(",", ',"', 1)  # a quote opened and never closed
        elif rng.random() < 0.003:
            text = text.replace(",", ",,", 1)  # ragged
        elif rng.random() < 0.003:
            text = text.replace("张", '张"', 1)  # a quote inside a value
        lines.append(text)
    path = tmp_path / "damaged.csv"
    path.write_bytes((buf.getvalue() + "".join(lines)).encode(encoding))
    whole = run.scan([path], processes=1)
    assert whole.kinds["mobile"].valid == 6000
    src = open_source(path)
    assert src.dialect is not None
    layout_rows = settle(path.read_bytes(), final=True, layout=Layout(b",", 4))
    ends = [0, *layout_rows.ends.tolist()]
    row_begins = {ends[i] for i in layout_rows.starts().tolist()}
    for part in split(src, 7):
        assert part.part is not None and part.part.start in row_begins
    assert_split_matches_one_process(tmp_path, path, monkeypatch, in_file_order=False)


_TOKENS = ["a", '"q"', '"x\ny"', '"open', 'b"c', '"', "1", 'z"', '"a""b"']


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(st.sampled_from(_TOKENS), min_size=3, max_size=3), max_size=40),
    at=st.lists(st.integers(0, 400), min_size=1, max_size=4),
)
def test_row_starts_agree_with_the_whole_read(tmp_path_factory, rows, at):
    data = "".join(",".join(r) + "\n" for r in rows).encode()
    path = tmp_path_factory.mktemp("rs") / "f.csv"
    path.write_bytes(data)
    layout = Layout(b",", 3)
    whole = settle(data, final=True, layout=layout)
    ends = [0, *whole.ends.tolist()]
    begins = sorted({ends[i] for i in whole.starts().tolist()} | {len(data)})
    for target, (offset, before) in zip(
        sorted(at), row_starts(str(path), sorted(at), True, layout), strict=True
    ):
        assert offset == next(b for b in begins if b >= min(target, len(data)))
        assert before == data[:offset].count(b"\n")


def test_row_starts_found_near_the_target_agree_with_the_whole_read(tmp_path):
    # Rows with rare multi-line remarks leave long stretches with no quote open: a row start
    # is found near each target without walking from the file's start, and must be the one
    # the whole read has there, damage or not.
    rng = random.Random(9)
    rows = []
    for i in range(20000):
        note = "来电\n改号" if rng.random() < 0.01 else f"客户{i}"
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([f"张{i}", ID, f"138{i:08d}", note])
        text = out.getvalue()
        if rng.random() < 0.003:
            text = text.replace(",", ',"', 1)
        rows.append(text)
    data = ("姓名,身份证号,手机号,备注\n" + "".join(rows)).encode()
    path = tmp_path / "rare.csv"
    path.write_bytes(data)
    layout = Layout(b",", 4)
    whole = settle(data, final=True, layout=layout)
    ends = [0, *whole.ends.tolist()]
    begins = sorted({ends[i] for i in whole.starts().tolist()} | {len(data)})
    targets = sorted(rng.randrange(len(data)) for _ in range(60))
    for target, (offset, before) in zip(
        targets, row_starts(str(path), targets, True, layout), strict=True
    ):
        assert offset == next(b for b in begins if b >= target)
        assert before == data[:offset].count(b"\n")
