"""Strip HTML to its visible text while streaming (stdlib html.parser; script and style dropped)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser

_BLOCK = {
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol", "p", "pre", "section",
    "table", "tbody", "thead", "tr", "ul", "title",
}  # fmt: skip
_HIDDEN = {"script", "style", "noscript", "template"}
_CELL = {"td", "th"}
_LINE_BREAKS = re.compile(r"[ \t]*\n[ \t\n]*")
_SPACES = re.compile(r"\s+")


class _TextOf(HTMLParser):
    """Collects visible text: block elements end lines, table cells are separated by tabs,
    and runs of whitespace in text (newlines too) become one space, as a browser shows them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(_SPACES.sub(" ", data))

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def html_text(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Turn UTF-8 HTML chunks into UTF-8 text chunks, one line per block, blank lines dropped."""
    parser = _TextOf()
    last_newline = True
    for chunk in chunks:
        parser.feed(chunk.decode())
        text = parser.take()
        if text:
            text = _LINE_BREAKS.sub("\n", text)
            if last_newline:
                text = text.lstrip("\n")
            if text:
                last_newline = text.endswith("\n")
                yield text.encode()
    parser.close()
    if tail := parser.take().strip():
        yield tail.encode() + b"\n"
