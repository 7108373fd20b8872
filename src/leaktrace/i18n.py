"""Messages in Chinese and English: gettext catalogues (``locale/<lang>/LC_MESSAGES/*.po``,
read with Babel) and the language in use.

The language is Chinese where the locale is Chinese (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``,
``LANG``) and English elsewhere; ``--lang zh|en`` overrides it. Message ids are the English
texts; every one has a Chinese and an English entry (``tests/test_i18n.py`` checks). A catalogue
per part of the code (``cli``, ``report``, ``verify``, ``input``) keeps their editors apart;
lookups go through all of them.
"""

from __future__ import annotations

import gettext
import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LANGS = ("zh", "en")
LOCALE_DIR = Path(__file__).with_name("locale")
# The process's language, and a context variable over it so that each request of the registry's
# service speaks its own (a thread started without a context falls back to the process's).
_process = "en"
_current: ContextVar[str | None] = ContextVar("leaktrace_language", default=None)
_misses: set[tuple[str, str]] = set()


def detect(env: Mapping[str, str] | None = None) -> str:
    """``zh`` when the first locale variable set names Chinese, ``en`` otherwise."""
    env = os.environ if env is None else env
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            first = value.split(":")[0].lower()
            return "zh" if first.startswith("zh") else "en"
    return "en"


def check(lang: str) -> str:
    """``lang`` if it is one leaktrace speaks; ValueError otherwise."""
    if lang not in LANGS:
        raise ValueError(f"expected one of {', '.join(LANGS)}, found {lang!r}")
    return lang


def set_language(lang: str) -> None:
    """Speak ``lang`` (``zh`` or ``en``) from now on."""
    global _process
    _process = check(lang)
    _current.set(None)


def language() -> str:
    """The language in use."""
    return _current.get() or _process


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Speak ``lang`` inside the block (the one in use when None), then go back."""
    token = _current.set(check(lang) if lang else language())
    try:
        yield language()
    finally:
        _current.reset(token)


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """Every catalogue of ``lang`` chained into one (compiled in memory from the .po files)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    chain: gettext.GNUTranslations | None = None
    for po in sorted((LOCALE_DIR / check(lang) / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        t = gettext.GNUTranslations(buf)
        if chain is None:
            chain = t
        else:
            chain.add_fallback(t)
    if chain is None:
        raise FileNotFoundError(f"{LOCALE_DIR / lang}: no message catalogue")
    chain.add_fallback(_Missing(lang))
    return chain


class _Missing(gettext.NullTranslations):
    """The end of the chain: a message no catalogue has is shown in English and remembered."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def gettext(self, message: str) -> str:
        _misses.add((self.lang, message))
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        _misses.add((self.lang, msgid1))
        return msgid1 if n == 1 else msgid2


def _(message: str) -> str:
    """``message`` in the language in use."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message with a count, in the language in use."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogues without translating it yet (tables of texts that
    are translated where they are shown)."""
    return message


def misses(lang: str) -> set[str]:
    """Messages looked up in ``lang`` but found in no catalogue since the start (for the
    tests: a message outside the catalogues is one nobody translated)."""
    return {message for language, message in _misses if language == lang}
