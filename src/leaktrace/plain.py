"""Results as JSON-ready values: one conversion for every report's ``--json``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Any

from leaktrace.errors import Message


def plain(x: Any) -> Any:
    """``x`` with dataclasses as dicts, enums as their values, dates as ISO strings, paths as
    strings and messages in English (JSON is the same whatever the language in use)."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [plain(v) for v in x]
    if isinstance(x, Enum):
        return x.value
    if isinstance(x, Message):
        return x.english()
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, Path):
        return str(x)
    return x
