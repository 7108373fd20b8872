"""The contract every identifier kind fulfils: scalar rules for one value, the same rules as
Polars expressions for millions, and the words and patterns that help find it.

A kind is a small class registered in ``leaktrace.pii.KINDS`` (Presidio-style recognisers): it
carries its own header/context words, its free-text candidate pattern and its validation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

import polars as pl


class Status(str, Enum):
    VALID = "valid"
    INVALID = "invalid"
    MASKED = "masked"  # shape of the kind with some characters hidden (110105********1234)


@dataclass(frozen=True)
class Validation:
    """Result of validating one normalised value; ``reasons`` are stable codes like 'bad_checksum'."""

    status: Status
    reasons: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID


class Kind(ABC):
    """One identifier kind. Subclasses set the class variables and implement the methods."""

    name: ClassVar[str]  # "resident_id"
    label: ClassVar[str]  # "Resident ID"
    strong: ClassVar[bool]  # True when a check digit or strict structure makes matches reliable
    header_words: ClassVar[tuple[str, ...]]  # column headers that suggest the kind (中文 and English)
    context_words: ClassVar[tuple[str, ...]]  # words near a span in free text that raise confidence
    # Candidate pattern for free text, in the common subset of Rust regex (Polars) and Python re:
    # no look-around, no backreferences. Matches are passed to normalize/validate.
    pattern: ClassVar[str]

    # --- scalar ---------------------------------------------------------------
    @abstractmethod
    def normalize(self, raw: str) -> str | None:
        """Canonical form of ``raw`` (full-width digits folded, separators and prefixes removed),
        or None when it does not have this kind's shape at all."""

    @abstractmethod
    def validate(self, value: str) -> Validation:
        """Validate a normalised value, giving every reason it fails."""

    def derive(self, value: str) -> dict[str, Any]:
        """Facts implied by a valid value (region, birth date, carrier, issuer…)."""
        return {}

    def mask(self, value: str) -> str:
        """The value with its middle hidden, for reports."""
        if len(value) <= 4:
            return "*" * len(value)
        keep = max(1, len(value) // 4)
        return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]

    # --- vectorised (same rules, for columns) ---------------------------------
    @abstractmethod
    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        """Polars version of :meth:`normalize`: a String expression, null where not this kind."""

    @abstractmethod
    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        """Polars version of :meth:`validate` on normalised values: null when valid, else the
        first failing reason code ('masked' for masked values)."""
