"""The printable breach report: every field of a realistic Chinese report shown with its label
in both languages, times in Asia/Shanghai with the zone named, fields not stated yet said so,
clocks in words, an overridden grade with its reason, the filer's hostile text inert; in
headless Chromium nothing overflows (screen and A4 print), and the PDF holds the Chinese
title."""

from __future__ import annotations

import copy
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from leaktrace.i18n import _, using
from leaktrace.report.breach_html import breach_pdf, render_breach
from leaktrace.report.breach_words import (
    CAC_FIELDS,
    COUNTS,
    PIPL_FIELDS,
    hours_text,
    local_time,
)
from leaktrace.report.verdict_words import shown
from leaktrace.verify.verdict import Label

LANGS = ("zh", "en")
HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
    "甲" * 400 + "A" * 400,
    "\u202eevil\u202c \u200b\u200dzero\u2066width\u2069 مرحبا",
)
TEXT_FIELDS = [
    f
    for f in (*CAC_FIELDS, *PIPL_FIELDS)
    if f not in ("occurred_at", "incident_type", "cause_category", "data_categories")
]
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def report() -> dict[str, Any]:
    """A bank's report as the registry hands it over: third version, every field stated."""
    return {
        "id": 12,
        "title": "某某银行信用卡中心客户个人信息泄露事件",
        "status": "questioned",
        "institution": {
            "name": "某某银行股份有限公司",
            "sector": "bank",
            "cii": True,
            "central_body": False,
        },
        "regulators": ["上海市互联网信息办公室", "中国人民银行上海总部"],
        "grade": {
            "code": "major",
            "computed": "relatively_major",
            "override": "major",
            "override_reason": "涉及生物识别信息，按从重原则上调一级",
            "reasons": ["涉及个人信息超过100万人", "涉及金融账户信息"],
        },
        "discovered_at": "2026-11-03T01:15:00+00:00",
        "filed_at": "2026-11-03T02:05:00+00:00",
        "handled_at": "2026-11-05T10:00:00+00:00",
        "closed_at": None,
        "version": {
            "number": 3,
            "kind": "supplement",
            "created_at": "2026-11-04T06:30:00+00:00",
            "author": "信息安全部 张伟",
            "fields": {
                "system": "信用卡核心业务系统（营销数据导出接口）",
                "occurred_at": "2026-11-02T17:40:00+00:00",
                "incident_type": "data_leak",
                "harm": "约一百二十万名持卡人的姓名、手机号和卡号在境外论坛被兜售",
                "measures_taken": "关闭导出接口，冻结相关账号，重置合作方访问凭证",
                "development": "11月3日凌晨监测到样本出现，上午确认样本真实",
                "cause": "外呼合作方员工违规导出并转卖客户名单",
                "cause_category": "partner",
                "attack_clues": "导出操作来自合作方办公网段，账号为外呼专员",
                "planned_measures": "终止合作，全面审计合作方数据访问",
                "support_requested": "请求公安机关协助追查买家",
                "scene_preservation": "已保全导出日志和服务器镜像",
                "data_categories": ["name", "mobile", "bank_card", "biometric"],
                "possible_harm": "电信诈骗、冒名办卡",
                "remedies": "对受影响卡片加强交易监控，免费换卡",
                "advice_to_people": "警惕自称银行客服的来电，不要透露验证码",
                "contact": "客服热线 95500 转 8（工作日 9:00—18:00）",
            },
            "counts": {
                "people_affected": 1_203_456,
                "records_affected": 1_500_000,
                "direct_loss_yuan": 350_000,
                "people_disrupted": 0,
                "cii_outage_hours": 1.5,
                "cii_main_function_outage_hours": 6,
            },
        },
        "versions": [
            {
                "number": 1,
                "kind": "initial",
                "created_at": "2026-11-03T02:05:00+00:00",
                "author": "值班员 李娜",
                "changed": ["system", "harm", "measures_taken"],
            },
            {
                "number": 2,
                "kind": "supplement",
                "created_at": "2026-11-03T09:00:00+00:00",
                "author": "信息安全部 张伟",
                "changed": ["cause", "attack_clues"],
            },
            {
                "number": 3,
                "kind": "supplement",
                "created_at": "2026-11-04T06:30:00+00:00",
                "author": "信息安全部 张伟",
                "changed": ["people_affected", "remedies"],
            },
        ],
        "clocks": [
            _clock(
                "CAC",
                "关键信息基础设施运营者 1 小时",
                "CII operator, 1 hour",
                "2026-11-03T02:15:00+00:00",
                None,
                "overdue",
            ),
            _clock(
                "PBOC",
                "人民银行 2 小时",
                "PBOC, 2 hours",
                "2026-11-03T03:15:00+00:00",
                "2026-11-03T04:00:00+00:00",
                "met_late",
            ),
            _clock(
                "NFRA",
                "金融监管总局 总结报告",
                "NFRA summary",
                "2026-11-04T09:00:00+00:00",
                None,
                "due_soon",
                verified=False,
            ),
            _clock(
                "GDPR",
                "GDPR 72 小时（对照）",
                "GDPR 72 hours (comparison)",
                "2026-11-06T01:15:00+00:00",
                None,
                "running",
                informational=True,
            ),
        ],
        "questions": [
            {
                "asked_at": "2026-11-03T08:00:00+00:00",
                "asked_by": "上海市网信办 王芳",
                "text": "请说明合作方的数据访问范围。",
                "answer": "合作方仅能访问营销名单中的三个字段。",
                "answered_at": "2026-11-03T09:30:00+00:00",
            },
            {
                "asked_at": "2026-11-04T07:00:00+00:00",
                "asked_by": "上海市网信办 王芳",
                "text": "受影响人员的通知何时完成？",
                "answer": None,
                "answered_at": None,
            },
        ],
        "attachments": [
            {
                "filename": "核验结果.json",
                "media_type": "application/json",
                "sha256": SHA,
                "size": 48_213,
                "summary": {"verdict": "authentic_ours"},
            },
            {
                "filename": "论坛截图.png",
                "media_type": "image/png",
                "sha256": SHA[::-1],
                "size": 1_204_113,
                "summary": None,
            },
        ],
        "generated_at": "2026-11-04T08:00:00+00:00",
    }


def _clock(
    authority: str,
    zh: str,
    en: str,
    due: str,
    met: str | None,
    state: str,
    *,
    informational: bool = False,
    verified: bool = True,
) -> dict[str, Any]:
    return {
        "rule_id": f"{authority.lower()}-{state}",
        "authority": authority,
        "label_zh": zh,
        "label_en": en,
        "due_at": due,
        "met_at": met,
        "state": state,
        "informational": informational,
        "verified": verified,
    }


class _Page(HTMLParser):
    """The tags with their attributes, and the text a reader sees (no style, no head title)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag not in ("meta", "br", "col"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if "style" not in self._in and "title" not in self._in:
            self.text.append(data)


def _parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    p.close()
    return p


def _defs(page: str) -> dict[str, str]:
    """Each ``<dt>`` label with its ``<dd>`` text, as a reader sees them."""
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page, flags=re.S)
    return {unescape(k): unescape(re.sub(r"<[^>]+>", "", v)) for k, v in pairs}


def _text(page: str) -> str:
    return "".join(_parse(page).text)


@pytest.mark.parametrize("lang", LANGS)
def test_every_field_and_count_shows_under_its_label(lang: str) -> None:
    view = report()
    page = render_breach(view, lang)
    defs = _defs(page)
    fields = view["version"]["fields"]
    with using(lang):
        for name in TEXT_FIELDS:
            assert defs[_(CAC_FIELDS.get(name) or PIPL_FIELDS[name])] == fields[name]
        assert defs[_(CAC_FIELDS["occurred_at"])] == "2026-11-03 01:40 (UTC+8)"
        for name, label in COUNTS.items():
            assert defs[_(label)] == f"{view['version']['counts'][name]:,}"
        verdict = shown(Label.AUTHENTIC_OURS).title
    kinds = {"zh": ("数据泄露", "合作方", "姓名、手机号、银行卡号、生物识别信息")}
    kinds["en"] = (
        "data leak",
        "partner company",
        "Name, Mobile number, Bank card number, biometric information",
    )
    assert defs["事件类型" if lang == "zh" else "Type of incident"] == kinds[lang][0]
    assert defs["原因类别" if lang == "zh" else "Kind of cause"] == kinds[lang][1]
    categories = "个人信息种类" if lang == "zh" else "Categories of personal data"
    assert defs[categories] == kinds[lang][2]
    text = _text(page)
    for part in (
        view["title"],
        view["institution"]["name"],
        *view["regulators"],
        *view["grade"]["reasons"],
        *(q["text"] for q in view["questions"]),
        view["questions"][0]["answer"],
        *(a["filename"] for a in view["attachments"]),
        SHA,
        verdict,
        "2026-11-03 09:15 (UTC+8)",  # discovered
        "2026-11-05 18:00 (UTC+8)",  # handled
    ):
        assert part in text, part
    for v in view["versions"]:
        assert v["author"] in text
    assert (
        "个人信息泄露事件报告 第 12 号，第 3 版（补充报告）"
        if lang == "zh"
        else "Personal information breach report No. 12, version 3 (supplementary report)"
    ) in text


@pytest.mark.parametrize("lang", LANGS)
def test_fields_not_stated_yet_say_so(lang: str) -> None:
    view = report()
    view["version"]["fields"] = dict.fromkeys(view["version"]["fields"])
    view["version"]["fields"]["data_categories"] = []
    view["version"]["counts"] = dict.fromkeys(view["version"]["counts"])
    page = render_breach(view, lang)
    defs = _defs(page)
    missing = "未填写" if lang == "zh" else "not stated"
    with using(lang):
        labels = [
            _(label) for label in (*CAC_FIELDS.values(), *PIPL_FIELDS.values(), *COUNTS.values())
        ]
    assert labels and all(defs[label] == missing for label in labels)
    closed = "结案时间" if lang == "zh" else "Closed"
    assert defs[closed] == missing
    # and closed_at, and the verdict of the screenshot attached without a summary
    assert page.count('class="muted ns"') == len(labels) + 2


@pytest.mark.parametrize("lang", LANGS)
def test_clocks_show_their_state_in_words(lang: str) -> None:
    page = render_breach(report(), lang)
    table = re.search(r'<table id="clock-table".*?</table>', page, flags=re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    texts = [unescape(re.sub(r"<[^>]+>", " ", r)) for r in rows]
    words = {
        "zh": ("已逾期", "逾期完成", "即将到期", "计时中"),
        "en": ("overdue", "met late", "due soon", "running"),
    }[lang]
    for text, state in zip(texts, words, strict=True):
        assert state in text
    with using(lang):
        # overdue since 10:15 on the 3rd, the report made at 16:00 on the 4th (Shanghai)
        assert hours_text(29.75) in texts[0]
        assert hours_text(0.75) in texts[1]  # met 45 minutes late
        assert hours_text(1.0) in texts[2]  # an hour left
    assert ("仅供对照" if lang == "zh" else "for comparison only") in texts[3]
    unconfirmed = "规则尚未与官方原文核对" if lang == "zh" else "not yet confirmed"
    assert unconfirmed in texts[2] and unconfirmed not in texts[0]
    assert ("网信部门" if lang == "zh" else "Cyberspace Administration (CAC)") in texts[0]
    assert ("关键信息基础设施运营者 1 小时" if lang == "zh" else "CII operator, 1 hour") in texts[0]
    assert 'data-state="overdue"' in rows[0]


@pytest.mark.parametrize("lang", LANGS)
def test_an_overridden_grade_shows_its_reason(lang: str) -> None:
    view = report()
    grade = _defs(render_breach(view, lang))["事件级别" if lang == "zh" else "Grade"]
    assert view["grade"]["override_reason"] in grade
    assert ("重大" if lang == "zh" else "major") in grade
    assert ("较大" if lang == "zh" else "relatively major") in grade  # the computed grade
    view["grade"] = {
        "code": "general",
        "computed": "general",
        "override": None,
        "override_reason": None,
        "reasons": [],
    }
    plain = _defs(render_breach(view, lang))["事件级别" if lang == "zh" else "Grade"]
    assert plain == ("一般" if lang == "zh" else "general")


def _hostile_view() -> dict[str, Any]:
    """Every text the filer or the regulator writes replaced by a hostile string."""
    view = report()
    n = iter(range(10_000))

    def bad() -> str:
        return HOSTILE[next(n) % len(HOSTILE)]

    view["title"] = bad()
    view["institution"]["name"] = bad()
    view["regulators"] = [bad(), bad()]
    view["grade"]["override_reason"] = bad()
    view["grade"]["reasons"] = [bad()]
    view["version"]["author"] = bad()
    for f in TEXT_FIELDS:
        view["version"]["fields"][f] = bad()
    for v in view["versions"]:
        v["author"] = bad()
    for c in view["clocks"]:
        c["label_zh"] = c["label_en"] = bad()
    for q in view["questions"]:
        q["asked_by"], q["text"], q["answer"] = bad(), bad(), bad()
        q["answered_at"] = q["asked_at"]
    for a in view["attachments"]:
        a["filename"], a["media_type"] = bad(), bad()
        a["summary"] = {"verdict": bad()}
    return view


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "section",
    "footer",
    "h1",
    "h2",
    "p",
    "dl",
    "dt",
    "dd",
    "span",
    "strong",
    "ul",
    "li",
    "table",
    "colgroup",
    "col",
    "tr",
    "th",
    "td",
    "div",
    "br",
}


@pytest.mark.parametrize("lang", LANGS)
def test_hostile_text_is_shown_inert(lang: str) -> None:
    page = render_breach(_hostile_view(), lang)
    parsed = _parse(page)
    assert {t for t, _a in parsed.tags} <= ALLOWED_TAGS
    assert not [a for _t, attrs in parsed.tags for a, _v in attrs if a.startswith("on")]
    for s in HOSTILE:
        assert s in "".join(parsed.text)
    assert "<script" not in page and "<img" not in page


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_any_text_reads_back_as_written(value: str) -> None:
    """Whatever a field holds, the reader sees exactly it under its label, nothing more."""
    value = value.replace("\r", "")  # HTML turns a carriage return into a line break
    view = report()
    view["version"]["fields"]["harm"] = value
    page = render_breach(view, "en")
    shown_ = _defs(page)["Harm caused"]
    assert shown_ == (value or "not stated")
    assert {t for t, _a in _parse(page).tags} <= ALLOWED_TAGS


def test_times_are_shown_in_shanghai_with_the_zone() -> None:
    assert local_time("2026-11-03T01:15:00+00:00") == "2026-11-03 09:15 (UTC+8)"
    assert local_time("2026-11-03T18:30:00+00:00") == "2026-11-04 02:30 (UTC+8)"  # midnight
    assert local_time("2026-03-29T01:30:00+01:00") == "2026-03-29 08:30 (UTC+8)"  # DST in Europe
    assert local_time("2026-11-03T01:15:00") == "2026-11-03 09:15 (UTC+8)"  # no zone: UTC
    with using("en"):
        assert [hours_text(h) for h in (0.5, 1.0, 24.75, 50)] == [
            "30 min",
            "1 h",
            "24.8 h",
            "2.1 d",
        ]
    with using("zh"):
        assert hours_text(2) == "2 小时"


def test_codes_the_words_do_not_know_show_as_they_are() -> None:
    view = report()
    view["clocks"][0]["state"] = "suspended"
    view["version"]["fields"]["incident_type"] = "ransomware"
    page = render_breach(view, "zh")
    assert "suspended" in _text(page)
    assert _defs(page)["事件类型"] == "ransomware"


def test_the_page_is_self_contained_and_printable() -> None:
    page = render_breach(report(), "zh")
    assert page.startswith("<!doctype html>") and "<html lang=zh-CN>" in page
    assert not re.search(r"(src|href)=|@import|url\(|<script|<link", page)
    assert "@media print" in page and "break-before:page" in page and "@page{size:A4}" in page


# --- in the browser -------------------------------------------------------------------------

sync_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")
from tests.test_report_browser import (  # noqa: E402, F401 (browser: a fixture)
    OVERFLOW_JS,
    _embedded,
    _fonts,
    _open,
    _screenshot,
    browser,
)

A4_CONTENT = 703  # 210 mm less 2 × 12 mm of margin, in CSS pixels


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", ["realistic", "hostile"])
@pytest.mark.parametrize(("width", "media"), [(1280, "screen"), (A4_CONTENT, "print")])
def test_report_fits_in_the_browser_and_on_a4(
    browser: Any,  # noqa: F811 (the fixture imported above)
    lang: str,
    case: str,
    width: int,
    media: str,
) -> None:
    view = report() if case == "realistic" else _hostile_view()
    page = _open(browser, render_breach(view, lang), width)
    try:
        page.emulate_media(media=media)
        assert page.evaluate(OVERFLOW_JS) == []
        assert page.locator("script, img, iframe").count() == 0
        if case == "realistic" and media == "screen":
            _screenshot(page, f"breach-{lang}.png")
        if case == "hostile":
            body = page.inner_text("body")
            assert "<script>alert(1)</script>" in body and "{{7*7}}" in body
    finally:
        page.close()


def test_pdf_holds_the_chinese_title_with_fonts_embedded(tmp_path: Path) -> None:
    view = report()
    data = breach_pdf(view, "zh")
    assert data.startswith(b"%PDF-")
    (tmp_path / "报告.pdf").write_bytes(data)
    reader = PdfReader(tmp_path / "报告.pdf")
    assert len(reader.pages) >= 2  # the incident's fields start a page of their own
    assert all(_embedded(f) for f in _fonts(reader))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert _as_extracted(view["title"]).search(text)
    assert _as_extracted("网信部门事件报告办法").search(text) and SHA in text


def _as_extracted(expected: str) -> re.Pattern[str]:
    """``expected`` as text taken back out of Chromium's PDF may read: a character whose glyph
    is also a radical's can come back as the radical (民 as ⺠, 户 as ⼾), and only those."""
    radical = "[\u2e80-\u2fdf]"
    return re.compile("".join(f"(?:{re.escape(c)}|{radical})" for c in expected))


def test_rendering_leaves_the_view_as_it_was() -> None:
    view = report()
    before = copy.deepcopy(view)
    render_breach(view, "en")
    assert view == before
