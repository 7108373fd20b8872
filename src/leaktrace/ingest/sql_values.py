"""Parse the VALUES tuples of SQL INSERTs and the rows of PostgreSQL COPY blocks into strings.

The tuple parser is a two-state machine (expect a tuple / after a tuple) whose tokens are
recognised by compiled regular expressions with possessive quantifiers: a whole tuple is
matched in one call, in linear time, so a statement is parsed at C speed, not char by char."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BARE = r"[^\s'\"(),;]++"
_MY_STRING = r"(?:_\w+\s*+|[xXbBnN])?'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+'"
_MY_DQ_STRING = r'"[^"\\]*+(?:(?:\\.|"")[^"\\]*+)*+"'
_PG_STRING = r"[eE]'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+'|[xXbBnN]?'[^']*+(?:''[^']*+)*+'"

_MY_ESCAPES = {
    "0": "\0",
    "b": "\b",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "Z": "\x1a",
    "%": "\\%",
    "_": "\\_",
}
_PG_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_MY_ESCAPE = re.compile(r"\\(.)|''|\"\"", re.DOTALL)
_PG_E_ESCAPE = re.compile(
    r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{4})|(.))|''", re.DOTALL
)
_COPY_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.DOTALL)

Row = list[str | None]


@dataclass(frozen=True)
class SqlDialect:
    """How string literals are written: MySQL escapes with backslashes, PostgreSQL doubles quotes.

    ``token`` finds a tuple's values as (plain string body, other string, bare word) groups,
    so the common plain string needs no Python-level conversion."""

    token: re.Pattern[str]
    tuple: re.Pattern[str]


def _dialect(plain: str, string: str) -> SqlDialect:
    value = f"{string}|{_BARE}"
    tuple_re = rf"\s*+\(\s*+((?:{value})(?:\s*+,\s*+(?:{value}))*+)?\s*+\)\s*+([,;])?"
    token = rf"{plain}(?!')|({string})|({_BARE})"
    return SqlDialect(re.compile(token, re.DOTALL), re.compile(tuple_re, re.DOTALL))


MYSQL = _dialect(r"'([^'\\]*+)'", f"{_MY_STRING}|{_MY_DQ_STRING}")
POSTGRES = _dialect(r"'([^']*+)'", _PG_STRING)
_NULLS = {"NULL", "null", "Null"}


def scan_tuples(buf: str, pos: int, dialect: SqlDialect, final: bool) -> tuple[list[Row], int, str]:
    """Parse ``(…), (…)`` tuples from ``buf[pos:]`` until the statement ends.

    Returns the rows, the position after them, and the state: 'end' (a ';' or the end of the
    input), 'more' (the text stops inside a tuple: call again with more text from the returned
    position), 'other' (something else follows, e.g. ON DUPLICATE KEY), 'error' (not a tuple)."""
    rows: list[Row] = []
    end = len(buf)
    match_tuple = dialect.tuple.match
    convert = _mysql_value if dialect is MYSQL else _pg_value
    findall = dialect.token.findall
    while True:
        m = match_tuple(buf, pos)
        if m is not None and m.end() == end and not final:
            return rows, pos, "more"  # the separator after it is not read yet
        if m is None:
            if not final and _cut_short(buf, pos):
                return rows, pos, "more"
            return rows, pos, "end" if buf[pos:].strip() in ("", ";") else "error"
        body = m.group(1)
        rows.append(
            [
                plain if not (string or bare) else convert(string) if string else _bare(bare)
                for plain, string, bare in findall(body)
            ]
            if body
            else []
        )
        pos = m.end()
        separator = m.group(2)
        if separator == ",":
            continue
        if separator == ";" or pos >= end:
            return rows, pos, "end"
        return rows, pos, "other"


def _bare(word: str) -> str | None:
    return None if word in _NULLS else word


def _cut_short(buf: str, pos: int) -> bool:
    """Whether a tuple that does not parse may just be cut by the end of the text window."""
    return re.search(r";[ \t]*\r?\n", buf[pos:]) is None


def _mysql_value(token: str) -> str | None:
    first = token[0]
    if first == "'" or first == '"':
        return _unescape_mysql(token[1:-1])
    quote = token.find("'")
    if quote > 0:
        prefix = token[:quote].strip().lower()
        if prefix == "x":
            return "0x" + token[quote + 1 : -1]
        if prefix == "b":
            return "0b" + token[quote + 1 : -1]
        return _unescape_mysql(token[quote + 1 : -1])  # _binary '…', _utf8mb4 '…', N'…'
    return None if token.upper() == "NULL" else token


def _unescape_mysql(s: str) -> str:
    if "\\" not in s and "''" not in s and '""' not in s:
        return s
    return _MY_ESCAPE.sub(_mysql_escape, s)


def _mysql_escape(m: re.Match[str]) -> str:
    char = m.group(1)
    if char is None:
        return m.group(0)[0]  # '' -> ', "" -> "
    return _MY_ESCAPES.get(char, char)


def _pg_value(token: str) -> str | None:
    first = token[0]
    if first == "'":
        body = token[1:-1]
        return body.replace("''", "'") if "''" in body else body
    if token[1:2] == "'":
        body = token[2:-1]
        if first in "eE":
            return _PG_E_ESCAPE.sub(_pg_escape, body)
        if first in "xX":
            return "0x" + body
        if first in "bB":
            return "0b" + body
        return body.replace("''", "'")
    return None if token.upper() == "NULL" else token


def _pg_escape(m: re.Match[str]) -> str:
    octal, hexa, uni, char = m.groups()
    if octal:
        return chr(int(octal, 8))
    if hexa:
        return chr(int(hexa, 16))
    if uni:
        return chr(int(uni, 16))
    if char is None:
        return "'"
    return _PG_ESCAPES.get(char, char)


def copy_row(line: str) -> Row:
    """One row of a PostgreSQL COPY … FROM stdin block: tab-separated, \\N is NULL."""
    return [
        None if f == "\\N" else _COPY_ESCAPE.sub(_copy_escape, f) if "\\" in f else f
        for f in line.split("\t")
    ]


def _copy_escape(m: re.Match[str]) -> str:
    octal, hexa, char = m.groups()
    if octal:
        return chr(int(octal, 8))
    if hexa:
        return chr(int(hexa, 16))
    return _PG_ESCAPES.get(char, char)


def parse_values(text: str, dialect: SqlDialect = MYSQL) -> list[Row]:
    """All rows of a complete VALUES list (``(1,'a'),(2,'b');``); ValueError if it is malformed."""
    rows, pos, state = scan_tuples(text, 0, dialect, final=True)
    if state != "end":
        raise ValueError(f"not a VALUES list at character {pos}")
    return rows
