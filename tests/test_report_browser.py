"""The HTML reports opened in headless Chromium (Debian's, driven by Playwright; no browser is
downloaded), in Chinese and English: no text wider than its box or the page, the evidence trail
present with the leak's SHA-256, the customer list masked; and the PDF export. With
LEAKTRACE_SCREENSHOTS=1 the top of each page is saved to docs/screenshots/ for the README."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader

from leaktrace import pii
from leaktrace.evidence import Evidence
from leaktrace.i18n import using
from leaktrace.report.evidence_html import evidence_section
from leaktrace.report.pdf import CHROMIUM, CHROMIUM_ARGS, write_report
from leaktrace.report.scan_html import render_scan_html
from leaktrace.report.trace_html import render_trace_html
from leaktrace.report.verify_html import render_html
from leaktrace.scan import scan
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import write_leak
from leaktrace.trace.api import trace
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import Secret
from leaktrace.trace.share import share
from leaktrace.trace.share_input import read_master
from leaktrace.verify import verify

sync_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
LANGS = ("zh", "en")
LEAK_COLUMNS = ["name", "resident_id", "mobile", "address"]
UNMASKED_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
UNMASKED_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

# Every element with text of its own whose content is wider than its box, every element past
# the viewport's edges, and every SVG text outside its drawing (a clipped plot label).
OVERFLOW_JS = """
() => {
  const bad = [];
  const vw = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '');
  if (document.documentElement.scrollWidth > vw + 1)
    bad.push(`page ${document.documentElement.scrollWidth}px wide in a ${vw}px viewport`);
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const ownText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!ownText) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // inside a closed <details>
    const svg = el.closest('svg');
    if (svg) {
      const frame = svg.getBoundingClientRect();
      if (box.left < frame.left - 1 || box.right > frame.right + 1)
        bad.push(`${name(el)} in an svg: ${Math.round(box.left - frame.left)}..`
          + `${Math.round(box.right - frame.left)}px of ${Math.round(frame.width)}px`);
      continue;
    }
    if (style.display !== 'inline' && el.scrollWidth > el.clientWidth + 1)
      bad.push(`${name(el)}: content ${el.scrollWidth}px in a ${el.clientWidth}px box`);
    if (box.right > vw + 1 || box.left < -1)
      bad.push(`${name(el)}: ${Math.round(box.left)}..${Math.round(box.right)}px, viewport ${vw}px`);
  }
  return bad;
}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, launched once for the module."""
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small bank, a leak of it padded with made-up people (CSV, also zipped for the scan:
    the report lists the zip's member) and both results."""
    tmp = tmp_path_factory.mktemp("browser")
    world = make_world(6000, seed=11, out=tmp / "world")
    leak = make_leak(world, "padded", seed=4, size=1.0, columns=LEAK_COLUMNS)
    path = write_leak(leak, tmp / "客户信息.csv", "csv")
    zipped = tmp / "泄露数据.zip"
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "导出/客户信息.csv")
    identifiers = [
        v
        for col in ("resident_id", "mobile")
        if col in leak.rows.columns
        for v in leak.rows[col].drop_nulls().to_list()
    ]
    resold = _resold(world.path, tmp)
    copy = pl.read_csv(resold, infer_schema=False)
    identifiers += [pii.normalize("resident_id", v) or v for v in copy["resident_id"].to_list()]
    key = Secret(bytes(range(40)))
    return {
        "verify": verify(path, world.path),
        "scan": scan([zipped]),
        "trace": trace(
            resold, world.path, ledger=Ledger(f"sqlite:///{tmp / 'l.sqlite'}"), secret=key
        ),
        "sha": {
            "verify": hashlib.sha256(path.read_bytes()).hexdigest(),
            "scan": hashlib.sha256(zipped.read_bytes()).hexdigest(),
            "trace": hashlib.sha256(resold.read_bytes()).hexdigest(),
        },
        "identifiers": identifiers,
    }


def _resold(world: Path, tmp: Path) -> Path:
    """Two recipients' marked copies (one with a long company name) and 120 records of the
    first, as resold."""
    master = read_master(world, tmp)
    ledger = Ledger(f"sqlite:///{tmp / 'l.sqlite'}")
    numbers = master.frame[master.customer_column].to_numpy()
    names = ("某某保险代理有限公司华东区域合作伙伴第三事业部", "某某外呼服务有限公司")
    for i, name in enumerate(names):
        share(
            master.frame,
            name,
            numbers[i * 1_500 : i * 1_500 + 2_500],
            ["name", "resident_id", "mobile", "card_no", "address"],
            tmp / f"copy{i}.csv",
            Secret(bytes(range(40))),
            ledger,
            customer_column=master.customer_column,
            roles=master.roles,
            master_place=str(world),
        )
    out = tmp / "转卖样本.csv"
    pl.read_csv(tmp / "copy0.csv", infer_schema=False).head(120).write_csv(out)
    return out


def _render(case: dict[str, Any], kind: str, lang: str) -> str:
    render = {"verify": render_html, "scan": render_scan_html, "trace": render_trace_html}[kind]
    with using(lang):
        return render(case[kind])


def _open(browser: Any, html: str, width: int = VIEWPORT["width"]) -> Any:
    page = browser.new_page(viewport={"width": width, "height": VIEWPORT["height"]})
    page.set_content(html, wait_until="load")
    return page


def _screenshot(page: Any, name: str) -> None:
    """The full page to docs/screenshots/ when LEAKTRACE_SCREENSHOTS=1 (the README shows them;
    a plain test run leaves the committed files alone)."""
    if os.environ.get("LEAKTRACE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # the first 1,800 px: what a reader sees first (a large leak's lists run long below)
        clip = {"x": 0, "y": 0, "width": 1280, "height": 1800}
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True, clip=clip)


def _section(page: Any, selector: str) -> Any:
    """The report's block ``selector``, which must be there."""
    block = page.locator(selector)
    assert block.count() == 1, selector
    return block


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ["verify", "scan", "trace"])
def test_report_fits(browser: Any, case: dict[str, Any], kind: str, lang: str) -> None:
    page = _open(browser, _render(case, kind, lang))
    try:
        assert page.evaluate(OVERFLOW_JS) == []
    finally:
        page.close()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ["verify", "scan", "trace"])
def test_report_shows_no_personal_value(
    browser: Any, case: dict[str, Any], kind: str, lang: str
) -> None:
    page = _open(browser, _render(case, kind, lang))
    try:
        text = page.inner_text("body")
        assert not [v for v in case["identifiers"] if v in text]
        _screenshot(page, f"{kind}-{lang}.png")
    finally:
        page.close()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ["verify", "scan", "trace"])
def test_report_has_evidence_with_the_leak_hash(
    browser: Any, case: dict[str, Any], kind: str, lang: str
) -> None:
    page = _open(browser, _render(case, kind, lang))
    try:
        block = _section(page, "#evidence")
        assert block.is_visible()
        assert case["sha"][kind] in block.inner_text()
    finally:
        page.close()


@pytest.mark.parametrize("lang", LANGS)
def test_customer_list_is_masked(browser: Any, case: dict[str, Any], lang: str) -> None:
    page = _open(browser, _render(case, "verify", lang))
    try:
        block = _section(page, "#customers")
        text = block.inner_text()
        assert text.strip()
        assert not UNMASKED_ID.search(text) and not UNMASKED_MOBILE.search(text)
    finally:
        page.close()


def test_overflow_check_finds_clipped_text(browser: Any) -> None:
    """The check itself: an unbreakable hash in a narrow box and a label past its plot."""
    page = _open(
        browser,
        '<body><div style="width:120px">' + "ab" * 32 + "</div>"
        '<svg width="100" height="20"><text x="60" y="15">标签文字很长被截断</text></svg></body>',
    )
    try:
        found = page.evaluate(OVERFLOW_JS)
    finally:
        page.close()
    assert any(f.startswith("div:") for f in found)
    assert any(f.startswith("text in an svg") for f in found)


def _evidence_page(evidence: Evidence, lang: str) -> str:
    with using(lang):
        block = evidence_section(evidence)
    return (
        f"<!doctype html><html lang={lang}><meta charset=utf-8>"
        "<body style=\"font-family:system-ui,'Noto Sans CJK SC',sans-serif;"
        f'max-width:760px;margin:2em auto">{block}</body></html>'
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", [1280, 420])
def test_evidence_block_wraps_long_values(
    browser: Any, case: dict[str, Any], lang: str, width: int
) -> None:
    """The block alone, on a desktop and a phone: hashes and paths wrap, nothing overflows."""
    for kind in ("verify", "scan"):
        page = _open(browser, _evidence_page(case[kind].evidence, lang), width)
        try:
            assert page.evaluate(OVERFLOW_JS) == []
            shown = page.inner_text("#evidence")
            assert case["sha"][kind] in shown
            hash_font = page.locator("#evidence .hash").first.evaluate(
                "el => getComputedStyle(el).fontFamily"
            )
            assert "monospace" in hash_font
            if kind == "scan" and width == VIEWPORT["width"]:
                _screenshot(page, f"evidence-{lang}.png")
        finally:
            page.close()
    members = case["scan"].evidence.inputs[0].members
    assert [m.name for m in members] == ["导出/客户信息.csv"]
    assert members[0].sha256 == case["sha"]["verify"]  # the zipped CSV is the verified leak


def _fonts(reader: PdfReader) -> list[dict[str, Any]]:
    """Every font the pages use, with its descendant for composite (Type0) fonts."""
    out = []
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0":
                font = font["/DescendantFonts"][0].get_object()
            out.append(font)
    return out


def _embedded(font: dict[str, Any]) -> bool:
    """The font's glyphs are in the PDF: a font program (FontFile, FontFile2 for TrueType,
    FontFile3 for CFF), or a Type 3 font's own glyph procedures (what Chromium makes of CFF
    OpenType fonts such as Noto Sans CJK)."""
    if font.get("/Subtype") == "/Type3":
        return bool(font.get("/CharProcs"))
    descriptor = font.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else {}
    return any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_embeds_fonts_and_holds_the_text(
    case: dict[str, Any], tmp_path: Path, lang: str
) -> None:
    html = _evidence_page(case["verify"].evidence, lang)
    out = write_report(html, tmp_path / "证据.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(out)
    fonts = _fonts(reader)
    assert fonts and all(_embedded(f) for f in fonts)
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert case["sha"]["verify"] in text
    assert ("证据链" if lang == "zh" else "Evidencetrail") in text
    assert not list(tmp_path.glob(".*tmp"))  # written atomically


def test_pdf_of_the_verify_report_in_chinese(
    browser: Any, case: dict[str, Any], tmp_path: Path
) -> None:
    """The verdict heading, as the browser shows it in Chinese, is text in the PDF."""
    html = _render(case, "verify", "zh")
    page = _open(browser, html)
    try:
        verdict = _section(page, "#verdict")
        heading = verdict.inner_text().strip().splitlines()[0]
    finally:
        page.close()
    assert re.search(r"[\u4e00-\u9fff]", heading)
    reader = PdfReader(write_report(html, tmp_path / "verify-zh.pdf"))
    assert all(_embedded(f) for f in _fonts(reader))
    # Text taken back out of a PDF can name some characters by their Kangxi radical (⾏ for
    # 行): the same glyph, told apart only by NFKC.
    assert _plain(heading) in _plain("".join(p.extract_text() for p in reader.pages))


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", re.sub(r"\s+", "", text))
