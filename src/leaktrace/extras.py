"""The optional parts of leaktrace, installed as extras (``leaktrace[spark]`` for the Spark
engine, ``leaktrace[postgres]`` for PostgreSQL masters): importing one that is not installed
gives an error naming the extra to install, not a bare ImportError."""

from __future__ import annotations

import importlib
from types import ModuleType

from leaktrace.errors import LeaktraceError
from leaktrace.i18n import _


class MissingExtraError(LeaktraceError):
    """An optional package is not installed; the message says which extra installs it."""


def require(module: str, extra: str) -> ModuleType:
    """``module`` imported, or MissingExtraError naming ``pip install 'leaktrace[extra]'`` when
    it (or its package) is not installed. Any other import failure is left as it is."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or not (module == e.name or module.startswith(e.name + ".")):
            raise
        raise MissingExtraError(
            _(
                "{package} is not installed; it comes with the {extra} extra: "
                "pip install 'leaktrace[{extra}]'"
            ).format(package=module.split(".")[0], extra=extra)
        ) from e
