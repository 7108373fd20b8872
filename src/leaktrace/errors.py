"""Errors that reach the user: each names the place and what was expected there."""

from __future__ import annotations


class LeaktraceError(Exception):
    """Base of every error leaktrace raises on purpose."""


class InputError(LeaktraceError):
    """The input was unusable: ``place`` says where (file, line, column), ``expected`` what should be there.

    Messages never contain personal data from the input, only positions and shapes.
    """

    def __init__(self, place: str, expected: str, found: str | None = None) -> None:
        self.place = place
        self.expected = expected
        self.found = found
        msg = f"{place}: expected {expected}"
        if found:
            msg += f", found {found}"
        super().__init__(msg)
