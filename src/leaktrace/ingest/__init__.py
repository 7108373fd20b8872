"""Bytes to rows: CSV/TSV, XLSX, JSON/JSONL, SQL dumps, plain text and HTML, in any common Chinese
encoding, streamed in bounded memory. Start with :func:`open_source`."""

from leaktrace.ingest.opener import FORMATS, open_source
from leaktrace.ingest.source import Batch, Problem, Source, string_batch

__all__ = ["FORMATS", "Batch", "Problem", "Source", "open_source", "string_batch"]
