"""Decode JSON keeping numbers' literal text, at any depth: fast C decoders first, and an
iterative parser (no recursion, so no depth limit) for values nested deeper than they allow."""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from typing import Any

import msgspec

# Numbers keep their literal text: an 18-digit ID written as a JSON number stays exact. The
# standard decoder gives ints and floats as text; msgspec gives exact ints (str(int) is their
# literal text, JSON having no leading zeros) and floats as text.
_PY = json.JSONDecoder(parse_int=str, parse_float=str)
_FAST = msgspec.json.Decoder(float_hook=str)
_WS = re.compile(r"[ \t\r\n]*")
_SCALAR = re.compile(
    r"(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)|(true|false|null|NaN|-?Infinity)"
)
_CONSTANTS = {"true": True, "false": False, "null": None}


def decode_bytes(data: bytes) -> Any:
    """One JSON value from UTF-8 ``data``; raises ValueError (JSONDecodeError) if it is not one."""
    try:
        return _FAST.decode(data)
    except (msgspec.DecodeError, RecursionError):
        text = data.decode()
        value, end = raw_decode(text, _WS.match(text).end())  # type: ignore[union-attr]
        if _WS.match(text, end).end() != len(text):  # type: ignore[union-attr]
            raise json.JSONDecodeError("Extra data", text, end) from None
        return value


def decode_lines(data: bytes) -> list[Any] | None:
    """Every line of UTF-8 ``data`` decoded (blank lines skipped), or None if one fails."""
    try:
        return _FAST.decode_lines(data)
    except (msgspec.DecodeError, RecursionError):
        return None


def decode_array(data: bytes) -> list[Any] | None:
    """``data``, a JSON array in UTF-8, decoded by the fast decoder; None if it fails (or nests
    too deep for it)."""
    try:
        value = _FAST.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    return value if isinstance(value, list) else None


def raw_decode(text: str, pos: int) -> tuple[Any, int]:
    """The JSON value starting at ``text[pos]`` and the position after it, at any depth.

    Raises json.JSONDecodeError where the value is broken or cut off."""
    try:
        return _PY.raw_decode(text, pos)
    except RecursionError:
        return _deep_decode(text, pos)


def _deep_decode(text: str, pos: int) -> tuple[Any, int]:
    """``raw_decode`` with an explicit stack instead of recursion (for deeply nested values)."""
    stack: list[list[Any]] = []  # open containers: [list] or [dict, key of the pending value]
    i = pos
    while True:
        c = text[i : i + 1]
        if c == "{" or c == "[":
            i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
            close = "}" if c == "{" else "]"
            if text[i : i + 1] == close:
                value, i = ({} if c == "{" else []), i + 1
            elif c == "[":
                stack.append([[]])
                continue
            else:
                key, i = _key(text, i)
                stack.append([{}, key])
                continue
        elif c == '"':
            value, i = scanstring(text, i + 1)
        else:
            m = _SCALAR.match(text, i)
            if m is None:
                raise json.JSONDecodeError("Expecting value", text, i)
            value, i = (m[1] if m[1] else _CONSTANTS.get(m[2], m[2])), m.end()
        # hand the value to its container, closing the containers that end here
        while True:
            if not stack:
                return value, i
            frame = stack[-1]
            container = frame[0]
            if len(frame) == 1:
                container.append(value)
            else:
                container[frame[1]] = value
            i = _WS.match(text, i).end()  # type: ignore[union-attr]
            c = text[i : i + 1]
            close = "]" if len(frame) == 1 else "}"
            if c == ",":
                i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
                if len(frame) == 2:
                    frame[1], i = _key(text, i)
                break
            if c != close:
                raise json.JSONDecodeError(f"Expecting ',' delimiter or '{close}'", text, i)
            value, i = stack.pop()[0], i + 1


def _key(text: str, i: int) -> tuple[str, int]:
    """An object's key and the position of its value (after the colon)."""
    if text[i : i + 1] != '"':
        raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, i)
    key, i = scanstring(text, i + 1)
    i = _WS.match(text, i).end()  # type: ignore[union-attr]
    if text[i : i + 1] != ":":
        raise json.JSONDecodeError("Expecting ':' delimiter", text, i)
    return key, _WS.match(text, i + 1).end()  # type: ignore[union-attr]
