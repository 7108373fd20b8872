"""What ``verify`` returns: dataclasses with a JSON-ready ``to_dict`` (no personal data: leak
row numbers, customer ids, counts and masked examples only)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from leaktrace.errors import Message
from leaktrace.evidence import Evidence
from leaktrace.plain import plain
from leaktrace.verify.fields import FieldAgreement
from leaktrace.verify.forgery import Signal
from leaktrace.verify.linkage import ComparisonWeights
from leaktrace.verify.snapshot import SnapshotEstimate
from leaktrace.verify.verdict import Verdict


@dataclass
class LinkageSummary:
    """How the linkage went: pairs compared, links by method, EM estimates."""

    candidate_pairs: int
    first_stage_pairs: int
    linked: int
    exact: int
    probabilistic: int
    patterns: int
    match_share_among_pairs: float
    em_iterations: int
    em_converged: bool
    blocks: list[str]
    weights: list[ComparisonWeights]


@dataclass
class VerifyReport:
    """Everything verification found about one leak."""

    leak: str
    master: str | None
    engine: str
    records: int
    verdict: Verdict
    signals: list[Signal]
    tamper_signals: list[Signal] = field(default_factory=list)  # linked records against ours
    linkage: LinkageSummary | None = None
    fields: list[FieldAgreement] = field(default_factory=list)
    snapshot: SnapshotEstimate | None = None
    master_as_of: dt.date | None = None
    # where master_as_of came from: given, latest_opening, latest_change or none
    master_as_of_source: str | None = None
    customers: list[Any] = field(default_factory=list)  # affected customer ids, sorted
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[Message] = field(default_factory=list)  # str() in the language in use
    matches: pl.DataFrame | None = None  # rid, mid, weight, prob, method (not in to_dict)
    # one row per leak record with its raw values, when asked (verify.records; not in to_dict)
    record_table: pl.DataFrame | None = None
    evidence: Evidence | None = None  # the run's evidence trail (inputs' SHA-256, parameters)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings, enums as their values)."""
        out = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("matches", "record_table")
        }
        out = plain(out)
        out["evidence"] = self.evidence.to_dict() if self.evidence else None
        if self.snapshot is not None:
            out["snapshot"]["support"] = self.snapshot.support
        out["fields"] = [
            dict(d, agree_rate=f.agree_rate)
            for d, f in zip(out["fields"], self.fields, strict=True)
        ]
        return out
