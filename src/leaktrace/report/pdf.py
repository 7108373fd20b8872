"""Reports as PDF for filing: the HTML report printed by Debian's headless Chromium, driven by
Playwright (the ``pdf`` extra). No browser is ever downloaded; the fonts are embedded in the PDF
(Chinese text needs a CJK font on the machine: Debian's ``fonts-noto-cjk``)."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from leaktrace.errors import LeaktraceError
from leaktrace.extras import require
from leaktrace.i18n import _
from leaktrace.report.files import write_atomic

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright's own builds are not used
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
MARGIN = {"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"}


class PdfError(LeaktraceError):
    """The PDF could not be printed: the message says what to install or what failed."""


def chromium() -> Path:
    """The Chromium that prints PDFs; PdfError naming the Debian packages when it is missing."""
    if not CHROMIUM.is_file():
        raise PdfError(
            _(
                "{path}: expected Chromium to print PDF reports, found none; install it with: "
                "apt-get install chromium fonts-noto-cjk"
            ).format(path=CHROMIUM)
        )
    return CHROMIUM


def render_pdf(html: str) -> bytes:
    """``html`` printed as an A4 PDF with backgrounds, by headless Chromium in a fresh
    temporary profile (removed after). Playwright runs in a thread of its own: its synchronous
    API refuses a thread that runs an event loop already (a notebook, another Playwright)."""
    require("playwright.sync_api", "pdf")
    executable = chromium()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leaktrace-pdf") as pool:
        return pool.submit(_print, html, executable).result()


def _print(html: str, executable: Path) -> bytes:
    from playwright import sync_api  # checked by render_pdf: the pdf extra is installed

    with (
        tempfile.TemporaryDirectory(prefix="leaktrace-chromium-") as profile,
        sync_api.sync_playwright() as pw,
    ):
        try:
            browser = pw.chromium.launch_persistent_context(
                profile, executable_path=str(executable), headless=True, args=list(CHROMIUM_ARGS)
            )
            try:
                page = browser.new_page()
                page.set_content(html, wait_until="load")
                return page.pdf(format="A4", print_background=True, margin=MARGIN)
            finally:
                browser.close()
        except sync_api.Error as e:  # Playwright's message is about the browser, not the report
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise PdfError(
                _("{path}: expected Chromium to print the report, it failed: {reason}").format(
                    path=executable, reason=reason
                )
            ) from None


def html_to_pdf(html: str, path: Path) -> Path:
    """Print ``html`` to the PDF file ``path``, written atomically."""
    return write_atomic(path, render_pdf(html))


def write_report(html: str, path: Path) -> Path:
    """Write a report where the user asked: a PDF when ``path`` ends in .pdf (printed by
    Chromium), the HTML itself otherwise; atomically either way."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        return html_to_pdf(html, path)
    return write_atomic(path, html)
