"""Where the identifiers are: column typing for tables, span finding for text."""

from leaktrace.scan.result import ColumnReport, KindStats, ScanResult, SourceReport, Span
from leaktrace.scan.run import scan
from leaktrace.scan.scanner import OUT_SCHEMA
from leaktrace.scan.text import find_in_lines, find_spans, find_spans_many

__all__ = [
    "OUT_SCHEMA",
    "ColumnReport",
    "KindStats",
    "ScanResult",
    "SourceReport",
    "Span",
    "find_in_lines",
    "find_spans",
    "find_spans_many",
    "scan",
]
