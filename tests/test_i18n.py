"""Messages in Chinese and English: every message of the code has both texts, the language
follows the locale, and ``--lang`` overrides it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from leaktrace import i18n

ROOT = Path(__file__).resolve().parents[1]


def test_every_message_has_a_chinese_and_an_english_text() -> None:
    # The script extracts every _(), N_() and ngettext() message of src/leaktrace with Babel
    # and fails on a catalogue out of step with the code or on an empty translation.
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "catalogues.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.Big5"}, "zh"),
        ({"LC_ALL": "zh_CN.GB18030", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LANGUAGE": "en_GB:zh_CN", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_language_follows_the_first_locale_variable_set(env: dict[str, str], lang: str) -> None:
    assert i18n.detect(env) == lang


def test_using_switches_and_restores_the_language() -> None:
    before = i18n.language()
    with i18n.using("zh"):
        assert i18n.language() == "zh"
        with i18n.using("en"):
            assert i18n.language() == "en"
        assert i18n.language() == "zh"
    assert i18n.language() == before
    with pytest.raises(ValueError, match="zh, en"):
        i18n.set_language("fr")


def test_no_message_has_two_chinese_texts() -> None:
    """The catalogues are chained into one: a message translated two ways in two of them would
    show whichever comes first, so each English text has one Chinese text everywhere."""
    from babel.messages.pofile import read_po

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((i18n.LOCALE_DIR / "zh" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for m in read_po(f):
                if not m.id:
                    continue
                key = m.id if isinstance(m.id, str) else m.id[0]
                text = m.string if isinstance(m.string, str) else m.string[0]
                first = seen.setdefault(key, (po.stem, text))
                if first[1] != text:
                    clashes.append((key, first, (po.stem, text)))
    assert clashes == []
