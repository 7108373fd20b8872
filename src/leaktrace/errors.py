"""Errors and problem texts that reach the user: each names the place and what was expected there,
in the language in use for people and in English for machines (``--json``)."""

from __future__ import annotations

from typing import Any

from leaktrace.i18n import N_, _


class Message:
    """A text for people kept as its English message id (marked with ``N_``) and its parameters:
    ``str()`` gives it in the language in use, ``english()`` the same text for ``--json``.

    Parameters are places, counts, codes or other Messages, never personal data."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def english(self) -> str:
        """The text in English, the same whatever the language in use (for JSON)."""
        return _filled(self.msgid, {k: _english(v) for k, v in self.params.items()})

    def __str__(self) -> str:
        return _filled(_(self.msgid), {k: _shown(v) for k, v in self.params.items()})

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Message({self.english()!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Message) and self.msgid == other.msgid and self.params == other.params
        )

    def __hash__(self) -> int:
        return hash(self.msgid)


class Verbatim(Message):
    """A text shown as it is in every language: a name, a code, a library's own words."""

    __slots__ = ()

    def __init__(self, text: str) -> None:
        super().__init__("{text}", text=text)

    def __str__(self) -> str:
        return self.english()


def as_message(text: str | Message, **params: Any) -> Message:
    """``text`` itself when it is a Message, else the Message of that id filled by ``params``."""
    return text if isinstance(text, Message) else Message(text, **params)


def expected_found(expected: Message, found: Message | None) -> Message:
    """One Message saying what was expected and found (or expected alone), without a place."""
    if found is None:
        return expected
    return Message(N_("{expected}, found {found}"), expected=expected, found=found)


def _filled(text: str, params: dict[str, Any]) -> str:
    """``text`` with its fields filled; without parameters, as it is (a lone brace is no field)."""
    return text.format(**params) if params else text


def _english(value: Any) -> Any:
    """A parameter for JSON: a Message in English, anything else as it is."""
    return value.english() if isinstance(value, Message) else value


def _shown(value: Any) -> Any:
    """A parameter as shown: a Message in the language in use, anything else as it is."""
    return str(value) if isinstance(value, Message) else value


class LeaktraceError(Exception):
    """Base of every error leaktrace raises on purpose."""


class InputError(LeaktraceError):
    """The input was unusable: ``place`` says where (file, line, column), ``expected`` what should
    be there and ``found`` what was (Messages; ``params`` fill both when given as message ids).

    Messages never contain personal data from the input, only positions and shapes. ``str()``
    gives the whole message in the language in use; the place is never translated.
    """

    def __init__(
        self,
        place: str,
        expected: str | Message,
        found: str | Message | None = None,
        **params: Any,
    ) -> None:
        self.place = place
        self.expected = as_message(expected, **params)
        self.found = None if found is None else as_message(found, **params)
        super().__init__(place, self.expected, self.found)

    def what(self) -> Message:
        """What was expected and found, without the place (a Problem names the place itself)."""
        return expected_found(self.expected, self.found)

    def __str__(self) -> str:
        if self.found is None:
            return _("{place}: expected {expected}").format(
                place=self.place, expected=self.expected
            )
        return _("{place}: expected {expected}, found {found}").format(
            place=self.place, expected=self.expected, found=self.found
        )
