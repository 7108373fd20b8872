"""leaktrace: find, verify and trace leaked Chinese personal data.

The public API: ``scan`` (what identifiers a dump holds), ``verify`` (is a leak real, and is it
ours: a :class:`VerifyReport`), ``open_source`` (bytes to rows) and the identifier rules
``normalize``, ``validate``, ``derive``.

``scan`` and ``verify`` here are the functions, so their packages' modules are reached with
``from``: ``from leaktrace.verify import api`` or ``from leaktrace.verify.api import ...``
(``import leaktrace.verify.api as api`` looks ``verify`` up on this package and finds the
function).
"""

from leaktrace.errors import InputError, LeaktraceError
from leaktrace.ingest import open_source
from leaktrace.pii import derive, normalize, validate
from leaktrace.scan import find_spans, find_spans_many, scan
from leaktrace.verify import Label, VerifyReport, verify

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Label",
    "LeaktraceError",
    "VerifyReport",
    "derive",
    "find_spans",
    "find_spans_many",
    "normalize",
    "open_source",
    "scan",
    "validate",
    "verify",
]
