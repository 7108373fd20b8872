"""What a scan returns: per-kind counts and validity, per-source columns and problems."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from leaktrace.evidence import Evidence


@dataclass
class KindStats:
    """Counts for one identifier kind across everything scanned; samples are masked.

    ``flags`` counts valid values by plausibility flag (a holder over 110 years old): they
    pass their standard's rules, so they are counted valid too, but are worth a look."""

    kind: str
    found: int = 0
    valid: int = 0
    invalid: int = 0
    masked: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    @property
    def validity(self) -> float | None:
        """Share of checkable (unmasked) values that are valid; None when nothing was checkable."""
        checkable = self.valid + self.invalid
        return self.valid / checkable if checkable else None

    def merge(self, other: KindStats, max_samples: int = 3) -> None:
        self.found += other.found
        self.valid += other.valid
        self.invalid += other.invalid
        self.masked += other.masked
        self.reasons.update(other.reasons)
        self.flags.update(other.flags)
        for s in other.samples:
            if len(self.samples) < max_samples and s not in self.samples:
                self.samples.append(s)


@dataclass(frozen=True)
class Span:
    """One identifier found in free text: ``text[start:end]`` normalises to ``value``."""

    kind: str
    start: int
    end: int
    value: str
    status: str  # valid | invalid | masked
    reason: str | None = None
    flag: str | None = None  # a valid value's plausibility flag


@dataclass
class ColumnReport:
    """How one table column was typed: by its values first, its header second."""

    name: str
    kind: str | None  # identifier kind, "text" for free-text columns scanned for spans, None
    confidence: float  # share of sampled non-empty values that have the kind's shape


@dataclass
class SourceReport:
    path: str
    format: str
    encoding: str | None
    kind: str  # table | text
    bytes: int
    records: int = 0
    rows_skipped: int = 0
    columns: dict[str, list[ColumnReport]] = field(default_factory=dict)  # per table
    # kind, place, expected (English), rows_skipped, places; and message: what was expected as
    # a Message, for people (str() is in the language in use; not in JSON)
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ScanResult:
    """Everything a scan found. ``out`` is the normalised Parquet table, when one was asked for."""

    sources: list[SourceReport]
    kinds: dict[str, KindStats]
    bytes_read: int
    seconds: float
    out: Path | None = None
    evidence: Evidence | None = None  # the run's evidence trail (inputs' SHA-256, parameters)

    @property
    def records(self) -> int:
        return sum(s.records for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (masked samples only)."""
        d = asdict(self)
        d["out"] = str(self.out) if self.out else None
        d["evidence"] = self.evidence.to_dict() if self.evidence else None
        d["records"] = self.records
        for k, st in self.kinds.items():
            d["kinds"][k]["reasons"] = dict(st.reasons)
            d["kinds"][k]["flags"] = dict(st.flags)
            d["kinds"][k]["validity"] = st.validity
        d["mb_per_s"] = (self.bytes_read / 1e6 / self.seconds) if self.seconds else None
        for src in d["sources"]:
            for p in src["problems"]:
                del p["message"]
        return d
