"""The regulator's dashboard plots: well-formed SVG with a title in both languages, what each
draws (bars per month and the people line, bars per label with long labels cut by "…", the
response-time histogram with its deadlines named and counted, the board of clocks due), "no
reports yet" for no data, hostile labels inert; in headless Chromium every label stays inside
its plot and no two labels overlap."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.i18n import using
from leaktrace.report.breach_words import hours_text
from leaktrace.report.dashboard_svg import bars, breaches_over_time, deadline_board, response_times

LANGS = ("zh", "en")
SVG = "{http://www.w3.org/2000/svg}"
LONG = "某某保险代理有限公司华东区域合作伙伴第三事业部某某外呼服务有限公司上海分公司客户服务中心"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>{{7*7}}\u202eevil'
NOTHING = {"zh": "暂无报告", "en": "no reports yet"}


def _months(n: int) -> list[dict[str, Any]]:
    """``n`` months from 2025-01, with counts and people affected spread over six decades."""
    return [
        {
            "month": f"{2025 + i // 12}-{i % 12 + 1:02d}",
            "count": (i * 7) % 11,
            "people": 10 ** (i % 7) if i % 5 else 0,
        }
        for i in range(n)
    ]


CAUSES = [("外部攻击", 14), ("内部人员", 9), (LONG, 3), ("设备丢失", 0)]
HOURS = [0.1, 0.4, 0.9, 1.5, 1.9, 2.5, 3.9, 4.0, 6, 30, 80, 200, 1500]


def _svg(svg: str) -> ET.Element:
    """The plot as XML (it must be well-formed), with its <title> checked."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title") is not None and root.get("aria-label")
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _plots(lang: str) -> dict[str, str]:
    title = "事件原因" if lang == "zh" else "Causes"
    return {
        "months": breaches_over_time(_months(14), lang=lang),
        "many-months": breaches_over_time(_months(40), lang=lang),
        "causes": bars(CAUSES, title, lang=lang),
        "hostile": bars([(HOSTILE, 2), (HOSTILE * 3, 1)], HOSTILE * 4, lang=lang),
        "hours": response_times(HOURS, lang=lang),
        "one-hour": response_times([0.5], lang=lang),
        "empty-months": breaches_over_time([], lang=lang),
        "empty-bars": bars([], title, lang=lang),
        "empty-hours": response_times([], lang=lang),
    }


@pytest.mark.parametrize("lang", LANGS)
def test_reports_per_month_draws_a_bar_and_a_point_each(lang: str) -> None:
    months = _months(14)
    root = _svg(breaches_over_time(months, lang=lang))
    rects = root.findall(f"{SVG}rect")
    points = root.findall(f"{SVG}circle")
    assert len(rects) == len(points) == len(months)
    heights = [float(r.get("height")) for r in rects]
    counts = [m["count"] for m in months]
    assert heights.index(max(heights)) == counts.index(max(counts))
    assert heights[counts.index(0)] == 0
    tips = ["".join(r.find(f"{SVG}title").itertext()) for r in rects]
    assert all(m["month"] in tip for m, tip in zip(months, tips, strict=True))
    texts = _texts(root)
    assert ("每月泄露事件报告数" if lang == "zh" else "Breach reports per month") in texts
    assert ("100万" if lang == "zh" else "1M") in texts  # the people axis reaches a million
    # people on a log scale: each tenfold more people is the same step up
    ys = {m["people"]: float(c.get("cy")) for m, c in zip(months, points, strict=True)}
    assert ys[10] - ys[100] == pytest.approx(ys[10_000] - ys[100_000])
    assert ys[0] == ys[1]  # no one and one person both at the axis' foot


@pytest.mark.parametrize("lang", LANGS)
def test_bars_keep_order_and_cut_long_labels_with_an_ellipsis(lang: str) -> None:
    root = _svg(bars(CAUSES, "事件原因", lang=lang))
    widths = [float(r.get("width")) for r in root.findall(f"{SVG}rect")]
    assert widths[0] > widths[1] > widths[2] > 0 and widths[3] <= 1
    labels = [t for t in root.iter(f"{SVG}text") if t.find(f"{SVG}tspan") is not None]
    shown = ["".join(t.find(f"{SVG}tspan").itertext()) for t in labels]
    assert shown[:2] == ["外部攻击", "内部人员"]
    long_label = labels[2]
    lines = ["".join(s.itertext()) for s in long_label.findall(f"{SVG}tspan")]
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert LONG.startswith("".join(lines)[:-1])
    assert "".join(long_label.find(f"{SVG}title").itertext()) == LONG  # whole, as the tooltip
    assert ["14", "9", "3", "0"] == [t for t in _texts(root) if t.isdigit()]


@pytest.mark.parametrize("lang", LANGS)
def test_response_times_count_each_bin_and_name_the_deadlines(lang: str) -> None:
    root = _svg(response_times(HOURS, lang=lang))
    tips = ["".join(r.find(f"{SVG}title").itertext()) for r in root.findall(f"{SVG}rect")]
    counts = [int(t.rsplit(":", 1)[1].replace(",", "")) for t in tips]
    assert sum(counts) == len(HOURS)
    assert counts[:6] == [2, 1, 2, 2, 2, 0]  # <30 min, <1 h, <2 h, <4 h, <8 h, <24 h
    assert counts[-1] == 1  # 1,500 h: the open bin past 30 days
    texts = _texts(root)
    with using(lang):
        for mark in ("1", "2", "4", "72"):
            assert ("{} 小时" if lang == "zh" else "{} h").format(mark) in texts
        assert hours_text(720) in texts  # the last edge
    lines = root.findall(f"{SVG}line[@stroke-dasharray]")
    assert len(lines) == 4
    summary = next(t for t in texts if "%" in t)
    # within 1 h: 3 of 13; within 4 h: 8 (4.0 h is within); within 72 h: 10
    assert re.search(r"1 (h|小时)\D*23%.*4 (h|小时)\D*62%.*72 (h|小时)\D*77%", summary)


def test_response_times_take_other_deadlines() -> None:
    root = _svg(response_times([0.2, 5, 13], marks=(12,), lang="en"))
    assert "12 h" in _texts(root)
    assert len(root.findall(f"{SVG}line[@stroke-dasharray]")) == 1
    assert "within 12 h: 67%" in "".join(_texts(root))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=1, max_size=40),
    st.lists(st.sampled_from([0.5, 1, 2, 4, 12, 24, 72, 500, 5000]), min_size=1, unique=True),
)
def test_every_report_lands_in_one_bin_and_every_deadline_is_drawn(
    hours: list[float], marks: list[float]
) -> None:
    root = _svg(response_times(hours, marks=tuple(marks), lang="en"))
    tips = ["".join(r.find(f"{SVG}title").itertext()) for r in root.findall(f"{SVG}rect")]
    assert sum(int(t.rsplit(":", 1)[1].replace(",", "")) for t in tips) == len(hours)
    assert len(root.findall(f"{SVG}line[@stroke-dasharray]")) == len(marks)
    texts = _texts(root)
    assert all(f"{m:g} h" in texts for m in marks)


@pytest.mark.parametrize("lang", LANGS)
def test_no_data_gives_a_small_plot_saying_so(lang: str) -> None:
    for svg in (
        breaches_over_time([], lang=lang),
        bars([], "t", lang=lang),
        response_times([], lang=lang),
    ):
        root = _svg(svg)
        assert NOTHING[lang] in _texts(root)
        assert float(root.get("height")) < 80
    assert NOTHING[lang] in deadline_board([], lang=lang)


@pytest.mark.parametrize("lang", LANGS)
def test_hostile_labels_are_inert(lang: str) -> None:
    svg = bars([(HOSTILE, 2)], HOSTILE, lang=lang)
    root = _svg(svg)  # still well-formed
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}img", "script")]
    assert not [k for e in root.iter() for k in e.attrib if k.startswith("on")]
    assert "<script" not in svg and "<img" not in svg
    assert any(HOSTILE in "".join(t.itertext()) for t in root.iter(f"{SVG}title"))
    board = deadline_board(
        [{"title": HOSTILE, "institution": HOSTILE, "due_at": None, "state": "overdue"}],
        lang=lang,
    )
    assert "<script" not in board and "<img" not in board and "{{7*7}}" in board


@pytest.mark.parametrize("lang", LANGS)
def test_the_board_shows_state_in_words_and_time_in_shanghai(lang: str) -> None:
    items = [
        {
            "title": "信用卡客户信息泄露",
            "institution": "某某银行",
            "state": "overdue",
            "due_at": "2026-11-03T02:15:00+00:00",
        },
        {
            "title": "保单信息泄露",
            "institution": "某某保险",
            "state": "due_soon",
            "due_at": "2026-11-03T16:30:00+00:00",
        },
    ]
    board = deadline_board(items, lang=lang)
    rows = re.findall(r"<tr>(.*?)</tr>", board)[1:]
    assert len(rows) == 2
    assert ("已逾期" if lang == "zh" else "overdue") in rows[0]
    assert "2026-11-03 10:15 (UTC+8)" in rows[0] and "某某银行" in rows[0]
    assert ("即将到期" if lang == "zh" else "due soon") in rows[1]
    assert "2026-11-04 00:30 (UTC+8)" in rows[1]  # past midnight in Shanghai


# --- in the browser -------------------------------------------------------------------------

sync_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")
from leaktrace.report.style import BASE_CSS  # noqa: E402
from tests.test_report_browser import OVERFLOW_JS, _open, browser  # noqa: E402, F401 (a fixture)

# Pairs of SVG texts of one plot whose boxes overlap (labels drawn over each other).
OVERLAP_JS = """
() => {
  const bad = [];
  for (const svg of document.querySelectorAll('svg')) {
    const boxes = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, p] = boxes[i], [b, q] = boxes[j];
        if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1)
          bad.push(`${a} / ${b}`);
      }
  }
  return bad;
}
"""


def _page(chromium: Any, body: str, lang: str, width: int = 1280) -> Any:
    """``body`` on a page of the reports' style, open in Chromium ``width`` pixels wide."""
    return _open(
        chromium,
        f"<!doctype html><html lang={lang}><meta charset=utf-8><style>{BASE_CSS}</style>"
        f"<body>{body}</body></html>",
        width,
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("plot", sorted(_plots("en")))
def test_plot_labels_stay_inside_and_apart(
    browser: Any,  # noqa: F811 (the fixture imported above)
    lang: str,
    plot: str,
) -> None:
    page = _page(browser, _plots(lang)[plot], lang)
    try:
        assert page.evaluate(OVERFLOW_JS) == []
        assert page.evaluate(OVERLAP_JS) == []
        assert page.locator("script, img").count() == 0
    finally:
        page.close()


def test_overlap_check_finds_labels_drawn_over_each_other(
    browser: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    svg = (
        '<svg width="300" height="40"><text x="10" y="20">报告数</text>'
        '<text x="30" y="24">people</text><text x="200" y="20">apart</text></svg>'
    )
    page = _page(browser, svg, "zh")
    try:
        assert page.evaluate(OVERLAP_JS) == ["报告数 / people"]
    finally:
        page.close()


@pytest.mark.parametrize("lang", LANGS)
def test_the_board_fits_a_narrow_column(
    browser: Any,  # noqa: F811 (the fixture imported above)
    lang: str,
) -> None:
    items = [
        {
            "title": LONG * 3,
            "institution": "x" * 300,
            "state": "met_late",
            "due_at": "2026-11-03T02:15:00+00:00",
        }
    ]
    page = _page(browser, deadline_board(items, lang=lang), lang, width=480)
    try:
        assert page.evaluate(OVERFLOW_JS) == []
    finally:
        page.close()
