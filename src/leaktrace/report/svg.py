"""Text in inline SVG that is never clipped: widths measured generously (a Chinese character
is about 1 em wide, a Latin one about 0.6 em), long labels wrapped onto two lines and, beyond
that, abbreviated with the whole text in a ``<title>`` tooltip."""

from __future__ import annotations

import html
import unicodedata

from leaktrace.report.style import FONTS


def esc(x: object) -> str:
    """``x`` as text safe inside HTML and SVG."""
    return html.escape(str(x))


def el(tag: str, text: str, attrs: str = "") -> str:
    """An HTML or SVG element holding ``text`` (escaped); ``attrs`` as written, e.g. ``class=n``."""
    return f"<{tag}{' ' + attrs if attrs else ''}>{esc(text)}</{tag}>"


def text_width(text: str, size: float) -> float:
    """Width in pixels of ``text`` at font ``size``, on the generous side."""
    em = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            em += 1.0
        elif ch in " .,:;'|!il()[]":
            em += 0.35
        else:
            em += 0.62
    return em * size


def _break_at(text: str, width: float, size: float) -> int:
    """The longest prefix of ``text`` fitting ``width``, ending at a space when there is one."""
    fit = 0
    for i in range(1, len(text) + 1):
        if text_width(text[:i], size) > width:
            break
        fit = i
    space = text.rfind(" ", 0, fit + 1)
    return space if fit < len(text) and space > 0 else fit


def wrap(text: str, width: float, size: float, lines: int = 2) -> list[str]:
    """``text`` in at most ``lines`` lines of ``width`` pixels, the last ending in "…" when
    the text does not fit."""
    out: list[str] = []
    rest = text
    while rest:
        if text_width(rest, size) <= width:
            return [*out, rest]
        if len(out) == lines - 1:
            cut = _break_at(rest, width - text_width("…", size), size)
            return [*out, rest[: max(cut, 1)].rstrip() + "…"]
        cut = max(_break_at(rest, width, size), 1)
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return out


def label(text: str, x: float, y: float, width: float, size: float) -> str:
    """An SVG ``<text>`` of ``text`` wrapped into ``width`` (two lines at most, the second
    ``size * 1.2`` below ``y``), with the whole text as its tooltip when it does not fit on
    one line."""
    tip = f"<title>{esc(text)}</title>" if text_width(text, size) > width else ""
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else size * 1.2:.1f}">{esc(line)}</tspan>'
        for i, line in enumerate(wrap(text, width, size))
    )
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}">{tip}{spans}</text>'


def svg_open(width: float, height: float, title: str) -> str:
    """An ``<svg>`` element with the report's fonts and an accessible name."""
    return (
        f'<svg width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{esc(title)}" font-family=\'{esc(FONTS)}\'>'
        f"<title>{esc(title)}</title>"
    )
