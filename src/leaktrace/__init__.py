"""leaktrace: find, verify and trace leaked Chinese personal data.

The public API: ``scan`` (what identifiers a dump holds), ``open_source`` (bytes to rows) and the
identifier rules ``normalize``, ``validate``, ``derive``.
"""

from leaktrace.errors import InputError, LeaktraceError
from leaktrace.ingest import open_source
from leaktrace.pii import derive, normalize, validate
from leaktrace.scan import find_spans, find_spans_many, scan

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "LeaktraceError",
    "derive",
    "find_spans",
    "find_spans_many",
    "normalize",
    "open_source",
    "scan",
    "validate",
]
