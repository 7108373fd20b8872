"""The scan and verify reports rendered whole in Chinese and in English: no English message left
in a Chinese report, the verdict block on top, plots whose labels fit, whose legends name exactly
the colours drawn, whose timeline has dated ticks, and signals with nothing to measure shown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from leaktrace import i18n
from leaktrace.report.scan_html import render_scan_html, write_scan_html
from leaktrace.report.style import FONTS
from leaktrace.report.svg import text_width, wrap
from leaktrace.report.terminal import render_scan
from leaktrace.report.verify_html import render_html
from leaktrace.report.verify_plots import DISAGREES, EARLIER, ticks
from leaktrace.report.verify_terminal import render_verify, signal_table
from leaktrace.scan import scan
from leaktrace.synth.leaks import _corrupt_check, make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import VerifyReport, verify
from leaktrace.verify.fields import FieldAgreement
from leaktrace.verify.forgery import SIGNAL_LABELS, rate_signal

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_RUN = re.compile(r"\b[a-z]{2,}(?:[ ,;:]+[a-z]{2,}){2,}\b")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(3000, seed=8, out=tmp_path_factory.mktemp("render") / "world")


@pytest.fixture(scope="module")
def reports(world: World) -> dict[str, VerifyReport]:
    """Verifications of a stale, a padded and a fabricated leak, and one without master data."""
    out = {}
    for kind in ("stale", "padded", "fabricated"):
        leak = make_leak(world, kind, seed=2, size=1.0)
        out[kind] = verify(write_leak(leak, world.path.parent / f"{kind}.csv", "csv"), world.path)
    out["no_master"] = verify(world.path.parent / "padded.csv")
    return out


def _visible(page: str) -> str:
    """The text a reader sees: no styles, tags or codes (``<code>`` holds the JSON's codes)."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _terminal(render, result, lang: str) -> str:  # noqa: ANN001 - a renderer and what it shows
    buf = io.StringIO()
    render(result, Console(file=buf, width=200), lang)
    return buf.getvalue()


def _figure(page: str, ident: str) -> ET.Element:
    m = re.search(rf'<figure id="{ident}">.*?</figure>', page, re.S)
    assert m, f"no #{ident} figure"
    return ET.fromstring(m.group(0).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" '))


def _text(el: ET.Element) -> str:
    return "".join(t for t in el.itertext())


@pytest.mark.parametrize("kind", ["stale", "padded", "fabricated", "no_master"])
def test_verify_reports_come_out_whole_in_each_language(
    reports: dict[str, VerifyReport], kind: str
) -> None:
    report = reports[kind]
    before = json.dumps(report.to_dict(), sort_keys=True, default=str)
    missed = i18n.misses("zh") | i18n.misses("en")
    zh, en = render_html(report, "zh"), render_html(report, "en")
    assert "<html lang=zh-CN>" in zh and "<html lang=en>" in en
    for page in (zh, en):
        assert FONTS in page and "Noto Sans CJK SC" in FONTS and "Microsoft YaHei" in FONTS
        # every plot's text in the same fonts; the verdict's icon has no text
        assert page.count("<svg") == page.count(f"font-family='{html.escape(FONTS)}'") + 1
        assert page.index('id="verdict"') < page.index("<h2")
        assert f'data-label="{report.verdict.label.value}"' in page
    seen = _visible(zh)
    assert CJK.search(seen) and not ENGLISH_RUN.search(seen), ENGLISH_RUN.findall(seen)
    assert ENGLISH_RUN.search(_visible(en)) and not CJK.search(_visible(en).replace("·", ""))
    term_zh = _terminal(render_verify, report, "zh")
    assert CJK.search(term_zh) and not ENGLISH_RUN.search(term_zh), ENGLISH_RUN.findall(term_zh)
    term_en = _terminal(render_verify, report, "en")
    assert "Verdict: " in term_en and "结论：" in term_zh
    assert (
        i18n.misses("zh") | i18n.misses("en")
    ) == missed  # every message looked up has its translations
    # the JSON is the same whatever the language, reasons as codes with parameters
    assert json.dumps(report.to_dict(), sort_keys=True, default=str) == before
    reasons = json.loads(json.dumps(report.to_dict(), default=str))["verdict"]["reasons"]
    assert reasons and all(set(r) == {"code", "params"} for r in reasons)


def test_the_verdict_block_says_what_to_do_with_an_icon(reports: dict[str, VerifyReport]) -> None:
    report = reports["stale"]
    assert report.verdict.label == "stale" and report.verdict.stale_as_of
    page = render_html(report, "en")
    block = re.search(r'<section id="verdict".*?</section>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "<svg" in block and "--sev:#" in block and "severity: high" in block
    assert f"as of about {report.verdict.stale_as_of.isoformat()}" in block
    assert "see the list" in block
    zh = render_html(report, "zh")
    assert "严重程度：高" in zh and "建议措施" in zh and "历史副本" in zh
    term = _terminal(render_verify, report, "en")
    assert "▲ Verdict: Our data, an old copy (stale; severity: high)" in term


def test_scan_reports_come_out_whole_in_each_language(world: World, tmp_path: Path) -> None:
    """A GBK table with Chinese headers, a tenth of its IDs with a wrong check character."""
    rows = make_leak(world, "share", seed=3, size=1.0).rows
    hit = pl.Series([i % 10 == 0 for i in range(rows.height)])
    ids = pl.when(hit).then(_corrupt_check(rows["resident_id"])).otherwise(rows["resident_id"])
    table = rows.select(
        pl.col("name").alias("姓名"), ids.alias("身份证号"), pl.col("mobile").alias("手机号")
    )
    path = tmp_path / "客户名单.csv"
    path.write_bytes(table.write_csv().encode("gbk"))
    result = scan([path])
    missed = i18n.misses("zh") | i18n.misses("en")
    assert result.kinds["resident_id"].reasons["bad_checksum"] == int(hit.sum())
    zh, en = render_scan_html(result, lang="zh"), render_scan_html(result, lang="en")
    assert "<html lang=zh-CN>" in zh and "<html lang=en>" in en and FONTS in zh
    assert f"校验码错误：{int(hit.sum())} 个" in zh and "居民身份证号" in zh
    assert f"check digit wrong: {int(hit.sum())}" in en and "bad_checksum" not in en + zh
    seen = _visible(zh)
    assert not ENGLISH_RUN.search(seen), ENGLISH_RUN.findall(seen)
    term = _terminal(render_scan, result, "zh")
    assert (i18n.misses("zh") | i18n.misses("en")) == missed
    assert "校验码错误" in term and not ENGLISH_RUN.search(term), ENGLISH_RUN.findall(term)
    assert table["身份证号"][0] not in zh + en + term  # masked samples only
    page = write_scan_html(result, tmp_path / "r" / "scan.html", "zh")
    assert page.read_text(encoding="utf-8") == zh and [p.name for p in page.parent.iterdir()] == [
        "scan.html"
    ]


def _not_measurable(report: VerifyReport) -> VerifyReport:
    empty = rate_signal("card_luhn", SIGNAL_LABELS["card_luhn"], 0, 0, 0, 0.01, 0.01, "upper", True)
    return dataclasses.replace(report, signals=[*report.signals, empty])


@pytest.mark.parametrize(("lang", "words"), [("en", "not measurable"), ("zh", "无法测量")])
def test_signals_with_nothing_to_measure_are_shown_as_such(
    reports: dict[str, VerifyReport], lang: str, words: str
) -> None:
    report = _not_measurable(reports["padded"])
    page = render_html(report, lang)
    fig = _figure(page, "signals")
    rows = [_text(t) for t in fig.iter(f"{SVG}text")]
    assert len([r for r in rows if r == words]) == 1
    with i18n.using(lang):
        from leaktrace.report.verify_words import signal_label

        assert any(signal_label("card_luhn") in r for r in rows)
    assert len(rows) == 2 * len(report.signals)  # every signal a label and a value
    assert words in _terminal(render_verify, report, lang)


def _fills(svg: ET.Element) -> set[str]:
    return {
        el.get("fill", "")
        for el in svg.iter()
        if el.tag in (f"{SVG}rect", f"{SVG}circle") and el.get("fill") not in (None, "none")
    }


def _legend(fig: ET.Element) -> set[str]:
    return {el.get("data-colour", "") for el in fig.iter("span") if el.get("data-colour")}


def test_field_legend_names_only_the_colours_drawn(reports: dict[str, VerifyReport]) -> None:
    report = reports["padded"]
    all_current = [FieldAgreement("resident_id", "resident ID", current=40)]
    some_earlier = [
        FieldAgreement("mobile", "mobile", current=38, historical=2),
        FieldAgreement("address", "address", current=30, disagrees=10),
    ]
    for fields in (report.fields, all_current, some_earlier):
        fig = _figure(render_html(dataclasses.replace(report, fields=fields), "en"), "fields")
        svg = fig.find(f"{SVG}svg")
        assert svg is not None and _fills(svg) == _legend(fig)
    fig = _figure(render_html(dataclasses.replace(report, fields=all_current), "en"), "fields")
    assert _legend(fig) == {_fills(fig.find(f"{SVG}svg")).pop()}  # type: ignore[arg-type]
    assert EARLIER not in _legend(fig) and DISAGREES not in _legend(fig)
    # a field the leak holds no value of is a row that says so, not a gap
    none = [*all_current, FieldAgreement("email", "email", missing=40)]
    fig = _figure(render_html(dataclasses.replace(report, fields=none), "zh"), "fields")
    assert "电子邮箱" in _text(fig) and "无可比对的值" in _text(fig)
    # 38 current and 2 earlier agree in full: 100.0%, orange drawn and named
    fig = _figure(render_html(dataclasses.replace(report, fields=some_earlier), "en"), "fields")
    assert "100.0%" in _text(fig) and EARLIER in _legend(fig) and DISAGREES in _legend(fig)


def test_signal_legend_names_only_the_colours_drawn(reports: dict[str, VerifyReport]) -> None:
    for report in reports.values():
        page = render_html(_not_measurable(report), "zh")
        fig = _figure(page, "signals")
        assert _fills(fig.find(f"{SVG}svg")) == _legend(fig)  # type: ignore[arg-type]


def _bounds(el: ET.Element, size: float) -> list[tuple[float, float]]:
    """The left and right edge of each line of a ``<text>``, by its anchor."""
    out = []
    lines = [t for t in el.iter(f"{SVG}tspan")] or [el]
    for line in lines:
        words = "".join(t for t in (line.text or "",))
        x = float(line.get("x") or el.get("x") or 0)
        w = text_width(words, size)
        anchor = el.get("text-anchor", "start")
        left = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
        out.append((left, left + w))
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("ident", ["fields", "timeline", "signals"])
def test_no_plot_text_leaves_its_box(reports: dict[str, VerifyReport], lang: str, ident: str):
    for report in reports.values():
        page = render_html(_not_measurable(report), lang)
        if f'<figure id="{ident}">' not in page:
            continue
        svg = _figure(page, ident).find(f"{SVG}svg")
        assert svg is not None
        width = float(svg.get("width", 0))
        for el in svg.iter(f"{SVG}text"):
            for left, right in _bounds(el, float(el.get("font-size", 12))):
                assert 0 <= left and right <= width + 0.5, (ident, _text(el))


def test_long_signal_labels_wrap_with_their_whole_text_as_a_tooltip(
    reports: dict[str, VerifyReport],
) -> None:
    report = reports["padded"]
    bank = "中国工商银行股份有限公司北京市分行营业部"
    other = rate_signal(
        "card_other_bank",
        SIGNAL_LABELS["card_other_bank"],
        30,
        100,
        0,
        0.2,
        0.2,
        "upper",
        False,
        params={"bank": bank},
    )
    page = render_html(dataclasses.replace(report, signals=[other]), "en")
    svg = _figure(page, "signals").find(f"{SVG}svg")
    label = next(t for t in svg.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None)  # type: ignore[union-attr]
    assert label.find(f"{SVG}title").text == f"cards whose BIN belongs to a bank other than {bank}"  # type: ignore[union-attr]
    assert len(list(label.iter(f"{SVG}tspan"))) == 2


def test_the_timeline_has_dated_ticks(reports: dict[str, VerifyReport]) -> None:
    report = reports["stale"]
    assert report.snapshot is not None and report.master_as_of is not None
    for lang in ("zh", "en"):
        svg = _figure(render_html(report, lang), "timeline").find(f"{SVG}svg")
        marks = [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("class") == "tick"]  # type: ignore[union-attr]
        assert len(marks) >= 2 and all(re.fullmatch(r"\d{4}(-\d{2})?", m) for m in marks)
        years = {int(m[:4]) for m in marks}
        assert min(years) <= report.snapshot.date.year <= max(years) + 1
        assert max(years) <= report.master_as_of.year + 1


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(dt.date(1950, 1, 1), dt.date(2040, 1, 1)),
    days=st.integers(240, 40 * 365),
)
def test_ticks_are_dates_on_the_axis_years_or_months_by_span(start: dt.date, days: int) -> None:
    stop = start + dt.timedelta(days=days)
    marks = ticks(start, stop)
    assert 2 <= len(marks) <= 9 and marks == sorted(marks)
    assert all(start <= d <= stop and d.day == 1 for d in marks)
    if days >= 730:
        assert all(d.month == 1 for d in marks)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(st.sampled_from("ab cdefg 居民身份证号码（±1）, 'X"), min_size=1, max_size=80),
    width=st.floats(60, 400),
)
def test_wrapped_lines_fit_and_keep_the_text_in_order(text: str, width: float) -> None:
    lines = wrap(text.strip() or "x", width, 12)
    assert 1 <= len(lines) <= 2
    assert all(text_width(line, 12) <= width for line in lines)
    joined = "".join(line.removesuffix("…") for line in lines).replace(" ", "")
    assert (text.strip() or "x").replace(" ", "").startswith(joined)


def test_every_terminal_column_has_a_header(reports: dict[str, VerifyReport]) -> None:
    report = reports["padded"]
    for lang, flag in (("en", "flag"), ("zh", "标记")):
        with i18n.using(lang):
            table = signal_table("t", report.signals)
        headers = [str(c.header) for c in table.columns]
        assert all(headers) and headers[-1] == flag
        assert flag in _terminal(render_verify, report, lang)
