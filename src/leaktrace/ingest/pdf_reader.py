"""A PDF's text layer (pypdf) as one text member, ``text.txt``, page by page; pages without text
(scans, which would need OCR) are reported."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, PyPdfError

from leaktrace.errors import InputError
from leaktrace.i18n import N_
from leaktrace.ingest.archives import NEED_PASSWORD, WRONG_PASSWORD
from leaktrace.ingest.member import Member, MemberError
from leaktrace.ingest.problems import ProblemLog

_ERRORS = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError)


def pdf_members(
    path: Path, name: str, password: str | None, log: ProblemLog
) -> Generator[Member, None, None]:
    """The text of every page, a page's lines after the previous page's."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(password or ""):
            raise InputError(
                name, WRONG_PASSWORD if password else NEED_PASSWORD, N_("an encrypted PDF")
            )
    except DependencyError:
        raise InputError(
            name, N_("a PDF encryption leaktrace can undo"), N_("AES without 'cryptography'")
        ) from None
    except _ERRORS:
        raise InputError(name, N_("a readable PDF"), N_("a damaged one")) from None
    yield Member("text.txt", lambda: _pages(reader, name, log), format="text", encoding="utf-8")


def _pages(reader: PdfReader, name: str, log: ProblemLog) -> Iterator[bytes]:
    try:
        pages = list(reader.pages)
    except _ERRORS:
        raise MemberError(N_("a readable page tree"), N_("a damaged one")) from None
    for number, page in enumerate(pages, 1):
        try:
            text = page.extract_text()
        except _ERRORS:
            log.add("pdf page", f"{name} page {number}", N_("a readable page, found a damaged one"))
            continue
        if not text.strip():
            log.add(
                "pdf page",
                f"{name} page {number}",
                N_("a text layer, found none (an image? leaktrace does no OCR)"),
            )
            continue
        yield (text.rstrip("\n") + "\n").encode("utf-8", "replace")
