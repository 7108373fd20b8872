"""A breach report in the terminal: what it is, its grade, and each clock with its state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from leaktrace.i18n import _, language
from leaktrace.report.breach_words import GRADES, STATUSES, local_time, state_look, word


def render_breach_terminal(view: Mapping[str, Any], console: Console) -> None:
    """Title, institution, grade and status, then the clocks (due time in Shanghai, state)."""
    grade = view["grade"]
    head = _("Report {id}, version {n}: {title}").format(
        id=view["id"], n=view["version"]["number"], title=view["title"]
    )
    console.print(Text(head, style="bold"))
    console.print(
        Text(
            _("{institution} · grade {grade} · {status}").format(
                institution=view["institution"]["name"],
                grade=word(GRADES, grade["code"]),
                status=word(STATUSES, view["status"]),
            )
        )
    )
    table = Table(_("Authority"), _("Deadline"), _("Due"), _("State"), show_lines=False)
    label = "label_zh" if language() == "zh" else "label_en"
    for clock in view["clocks"]:
        look = state_look(clock["state"])
        name = clock[label] + (_(" (comparison)") if clock["informational"] else "")
        due = local_time(clock["due_at"]) if clock["due_at"] else _("when handling ends")
        table.add_row(
            clock["authority"], name, due, Text(f"{look.symbol} {look.word}", style=look.colour)
        )
    console.print(table)
