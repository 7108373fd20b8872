"""Record reading problems on a Source without letting a bad file flood memory with them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from leaktrace.errors import Message
from leaktrace.i18n import N_
from leaktrace.ingest.limits import PROBLEMS_PER_KIND
from leaktrace.ingest.source import Problem


class ProblemLog:
    """Appends the first problems of each kind to ``problems``; the rest are counted and summarised.

    ``finish`` adds one summary Problem per kind that overflowed, carrying the rows it skipped."""

    def __init__(self, name: str, problems: list[Problem], limit: int = PROBLEMS_PER_KIND) -> None:
        self.name = name
        self.problems = problems
        self.limit = limit
        self._seen: Counter[str] = Counter()
        self._extra_rows: Counter[str] = Counter()
        self._what: dict[str, Message] = {}

    def add(
        self,
        kind: str,
        place: str,
        expected: str | Message,
        rows_skipped: int = 0,
        **params: Any,
    ) -> None:
        """Record one problem of ``kind`` (ragged, encoding, …); beyond the limit only count it.

        ``expected`` is a Message, or a message id (marked with ``N_``) that ``params`` fill."""
        self._seen[kind] += 1
        if self._seen[kind] <= self.limit:
            what = expected if isinstance(expected, Message) else Message(expected, **params)
            self.problems.append(Problem(place, what, rows_skipped, kind))
            self._what.setdefault(kind, what)
        else:
            self._extra_rows[kind] += rows_skipped

    def finish(self) -> None:
        """Summarise the problems past the limit, one Problem per kind."""
        for kind, seen in self._seen.items():
            extra = seen - self.limit
            if extra > 0:
                self.problems.append(
                    Problem(
                        self.name,
                        Message(
                            N_("as above, in {extra} more places ({kind}): {what}"),
                            extra=extra,
                            kind=kind,
                            what=self._what[kind],
                        ),
                        self._extra_rows[kind],
                        kind,
                        extra,
                    )
                )
        self._seen.clear()
        self._extra_rows.clear()
