"""Turn decoded JSON values into rows: the records of an API envelope found wherever they sit,
and each record's nested fields flattened (``contact.mobile``, ``contacts[].phone``)."""

from __future__ import annotations

import re
from typing import Any

# The values one column takes from a list (``contacts[].phone`` of three contacts) share its
# cell, one per line, so the free-text search still finds each identifier.
LIST_SEP = "\n"

# Keys an API envelope wraps its records in: status, paging and tracing fields. A JSON object
# whose fields outside its arrays of objects all have such names is an envelope, and those
# arrays are its records; any other field makes the object a record itself.
_ENVELOPE_KEY = re.compile(
    r"(?:err|error|res|result|ret|resp|response|return|status|state|http)?"
    r"(?:code|codes|msg|message|messages|status|success|succeeded|ok|error|errors|errno|info|"
    r"desc|description|detail|details|tip|tips|reason|flag)"
    r"|(?:total|page|pages|current|cur|size|limit|offset|start|count|num|cursor|next|prev|"
    r"previous|first|last|has|hasmore|hasnext|more|sort|order|orderby|took|timedout|elapsed|"
    r"cost|timestamp|time|ts|servertime|requestid|reqid|traceid|logid|version|ver|api|"
    r"apiversion|method|action|type|kind|object|link|links|href|url|self)"
    r"(?:count|counts|size|num|no|number|index|page|pages|total|id|cursor|token|key|elements|"
    r"records|rows|items|results)?"
)


def envelope_key(key: str) -> bool:
    """Whether ``key`` names an envelope's own field (code, msg, total, pageSize, trace_id…)."""
    return _ENVELOPE_KEY.fullmatch(re.sub(r"[\W_]", "", key.lower())) is not None


def is_record_list(value: Any) -> bool:
    """A non-empty list of objects (or of rows written as arrays): a list of records."""
    return (
        isinstance(value, list)
        and bool(value)
        and (all(isinstance(v, dict) for v in value) or all(isinstance(v, list) for v in value))
    )


def find_records(value: Any) -> list[tuple[str, list[Any]]] | None:
    """The lists of records in an API envelope, with their paths (``data.list[]``); None when
    ``value`` is not an envelope (then it is one record). Walks objects without recursion."""
    if not isinstance(value, dict):
        return None
    found: list[tuple[str, list[Any]]] = []
    stack: list[tuple[str, dict[str, Any]]] = [("", value)]
    while stack:
        prefix, obj = stack.pop()
        for key, v in obj.items():
            if isinstance(v, dict) and v:
                stack.append((f"{prefix}{key}.", v))
            elif is_record_list(v):
                found.append((f"{prefix}{key}[]", v))
            elif not envelope_key(key):
                return None
    return sorted(found, key=lambda f: f[0]) if found else None


def flatten(value: Any) -> dict[str, str | None]:
    """One row from a JSON value: nested keys joined with '.', a list's values under ``key[]``
    (several in one cell, one per line). A top-level list becomes col_1..col_n; a scalar
    becomes the column ``value``. Iterative: any depth."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(f"col_{i + 1}", v) for i, v in enumerate(value)]
    else:
        return {"value": cell(value)}
    row: dict[str, str | None] = {}
    stack = items[::-1]
    while stack:
        name, v = stack.pop()
        if isinstance(v, dict) and v:
            stack.extend((f"{name}.{k}", x) for k, x in reversed(v.items()))
        elif isinstance(v, list) and v:
            stack.extend((f"{name}[]", x) for x in reversed(v))
        else:
            text = cell(v)
            if name not in row or row[name] is None:
                row[name] = text
            elif text is not None:
                row[name] = f"{row[name]}{LIST_SEP}{text}"
    return row


def cell(v: Any) -> str | None:
    """A scalar's text: strings as they are, numbers as written, true/false; None for null."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict | list):
        return "{}" if isinstance(v, dict) else "[]"  # only empty ones reach here
    return str(v)
