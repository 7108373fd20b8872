"""Plain text, forum posts and HTML: one row per line, long lines in pieces."""

from __future__ import annotations

import tracemalloc

from leaktrace.ingest import open_source


def lines_of(path) -> tuple[list[str], list[int]]:
    source = open_source(path)
    texts: list[str] = []
    firsts: list[int] = []
    for batch in source.batches():
        assert batch.data.schema.names == ["text"]
        firsts.append(batch.first_row)
        texts.extend(batch.data.column("text").to_pylist())
    return texts, firsts


def test_forum_post_lines(tmp_path, ingest_people):
    post = ["出售银行客户资料，样例如下：", ""] + [" ".join(r[:3]) for r in ingest_people[:5]]
    post += ["", "联系QQ 12345，量大从优"]
    path = tmp_path / "post.txt"
    path.write_text("\r\n".join(post) + "\r\n", encoding="gbk")
    source = open_source(path)
    assert (source.format, source.kind, source.encoding) == ("text", "text", "gb18030")
    texts, firsts = lines_of(path)
    assert texts == post
    assert firsts == [1]


def test_utf16_le_without_bom(tmp_path, ingest_people):
    post = ["样例数据:"] + [" ".join(r) for r in ingest_people[:20]]
    path = tmp_path / "post.txt"
    path.write_bytes("\n".join(post).encode("utf-16-le"))
    assert open_source(path).encoding == "utf-16-le"
    assert lines_of(path)[0] == post


def test_html_is_stripped_to_text(tmp_path, ingest_people):
    person = ingest_people[0]
    html = f"""<!DOCTYPE html><html><head><title>资料</title>
    <style>td {{ color: red }}</style><script>var x = "{person[1]}x";</script></head>
    <body><div class="post"><p>出售数据&amp;样例</p>
    <table><tr><td>{person[0]}</td><td>{person[1]}</td></tr></table>
    <br>联系方式 {person[2]}</div></body></html>"""
    path = tmp_path / "thread.html"
    path.write_text(html, encoding="utf-8")
    source = open_source(path)
    assert (source.format, source.kind) == ("html", "text")
    texts = [t.strip() for t in lines_of(path)[0]]
    assert texts == ["资料", "出售数据&样例", f"{person[0]}\t{person[1]}", f"联系方式 {person[2]}"]
    assert not any("color" in t or "var x" in t for t in texts)


def test_long_line_read_in_pieces_bounded_memory(tmp_path):
    path = tmp_path / "one.txt"
    piece = ("身份证号110105199001011234，手机13800138000。" * 20_000).encode()  # ~1.1 MB
    with path.open("wb") as f:
        f.write(b"first line\n")
        for _ in range(60):  # one ~66 MB line
            f.write(piece)
        f.write(b"\nlast line\n")
    tracemalloc.start()
    source = open_source(path)
    total, rows, last_first = 0, 0, None
    for batch in source.batches():
        for text in batch.data.column("text").to_pylist():
            own = text[slice(*batch.own)] if batch.own else text  # pieces overlap
            total += len(own.encode())
            rows += 1
        last_first = batch.first_row
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert total == len("first line") + 60 * len(piece) + len("last line")
    assert rows > 60  # the long line came in pieces of at most 1 MiB
    assert last_first == 3
    assert [p.place for p in source.problems] == ["one.txt line 2"]
    assert "read in pieces" in str(source.problems[0].expected)
    assert peak < 40 << 20


def test_binary_garbage_does_not_sink_text(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"ok line\n\xff\xfe\xfa bad \x80\x81\nstill fine \xe4\xb8\xad\n")
    source = open_source(path, format="text", encoding="utf-8")
    texts = [t for b in source.batches() for t in b.data.column("text").to_pylist()]
    assert texts[0] == "ok line" and texts[2] == "still fine 中"
    assert "\ufffd" in texts[1]
    assert source.problems[0].place.startswith("mixed.txt line 2")


def test_a_range_from_the_middle_keeps_a_leading_zero_width_no_break_space(tmp_path):
    # U+FEFF is a BOM only at the file's start: a range that starts with it reads as the whole.
    import dataclasses

    from leaktrace.ingest.source import Part

    path = tmp_path / "t.txt"
    data = "第一行\n\ufeff第二行\n".encode()
    path.write_bytes(data)
    start = data.index(b"\n") + 1
    source = dataclasses.replace(open_source(path), part=Part(start, len(data), 2, 2))
    got = [t for b in source.batches() for t in b.data.column("text").to_pylist()]
    assert got == lines_of(path)[0][1:] == ["\ufeff第二行"]
