"""The breach report in the terminal: every clock with its due time in Shanghai and its state in
words, comparison clocks marked, in Chinese and English, at any width without losing a clock."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from leaktrace.i18n import using
from leaktrace.report.breach_terminal import render_breach_terminal
from tests.test_report_breach import report


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_clock_is_shown_with_its_state_in_words(lang: str) -> None:
    view = report()
    out = io.StringIO()
    with using(lang):
        render_breach_terminal(view, Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert view["title"] in text and view["institution"]["name"] in text
    label = "label_zh" if lang == "zh" else "label_en"
    states = {
        "zh": {"overdue": "已逾期", "met": "已按时完成"},
        "en": {"overdue": "overdue", "met": "met in time"},
    }
    for clock in view["clocks"]:
        assert clock[label] in text
        if clock["state"] in states[lang]:
            assert states[lang][clock["state"]] in text
    comparison = "（仅供对照）" if lang == "zh" else "(comparison)"
    assert (comparison in text) == any(c["informational"] for c in view["clocks"])
