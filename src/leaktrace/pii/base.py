"""The contract every identifier kind fulfils: scalar rules for one value, the same rules as
Polars expressions for millions, and the words and patterns that help find it.

A kind is a small class registered in ``leaktrace.pii.KINDS`` (Presidio-style recognisers): it
carries its own header/context words, its free-text candidate pattern and its validation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa


class Status(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MASKED = "masked"  # shape of the kind with some characters hidden (110105********1234)


@dataclass(frozen=True)
class Validation:
    """Result of validating one normalised value; ``reasons`` are stable codes like 'bad_checksum'."""

    status: Status
    reasons: tuple[str, ...] = field(default=())
    # Observations that do not make the value invalid: plausibility flags (the kind's FLAGS,
    # e.g. 'implausible_age') and others such as 'unknown_bin' for a card.
    notes: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID

    @classmethod
    def of(cls, reasons: list[str], notes: tuple[str, ...] = ()) -> Validation:
        """Status from ordered reasons: none is valid, only 'masked' is masked, else invalid."""
        if not reasons:
            return cls(Status.VALID, (), notes)
        status = Status.MASKED if reasons == ["masked"] else Status.INVALID
        return cls(status, tuple(reasons), notes)


class Kind(ABC):
    """One identifier kind. Subclasses set the class variables and implement the methods."""

    name: ClassVar[str]  # "resident_id"
    label: ClassVar[str]  # "Resident ID"
    strong: ClassVar[bool]  # True when a check digit or strict structure makes matches reliable
    header_words: ClassVar[
        tuple[str, ...]
    ]  # column headers that suggest the kind (中文 and English)
    context_words: ClassVar[tuple[str, ...]]  # words near a span in free text that raise confidence
    # Candidate pattern for free text, in the common subset of Rust regex (Polars) and Python re:
    # no look-around, no backreferences. Matches are passed to normalize/validate.
    pattern: ClassVar[str]
    # Digit kinds: lengths of a maximal run of digits (masks and a trailing X included, no
    # separators) that normalize accepts; empty for kinds that are not digit runs.
    run_lengths: ClassVar[frozenset[int]] = frozenset()
    # Values matching this (whole) are already normal: normalize returns them unchanged. Bulk
    # scans skip normalising a column whose values all match; None when no such shortcut.
    canonical: ClassVar[str | None] = None
    # Reasons the compiled fast path reports, numbered from 1 (see :meth:`column_codes`).
    FAST_REASONS: ClassVar[tuple[str, ...]] = ()
    # Plausibility flags: a value passing every rule of its standard stays valid but may be
    # unlikely (a holder over 110 years old); the scan counts it apart. Compiled checks number
    # them after FAST_REASONS, and give one only to a value that passes every check.
    FLAGS: ClassVar[tuple[str, ...]] = ()

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

    def column_codes(self, values: pa.Array) -> tuple[np.ndarray, pa.Array | None] | None:
        """The compiled checks over a whole string column: one code per value (0 valid, i the
        reason ``FAST_REASONS[i - 1]``, valid with the flag ``FLAGS[i - 1 - len(FAST_REASONS)]``
        for the codes after those, or one of the special codes of
        :mod:`leaktrace.pii.columns`: not of the kind, left to :meth:`finish_expr`, empty, left
        to the Polars rules) and the normalised values where they differ from the raw ones
        (else None). None for kinds without a compiled path."""
        return None

    def finish_expr(self, e: pl.Expr) -> pl.Expr:
        """The last check of values that passed the compiled ones (code 253): null or a reason."""
        return self.reason_expr(e)

    @abstractmethod
    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        """Polars version of :meth:`validate` on normalised values: null when valid, else the
        first failing reason code ('masked' for masked values)."""

    def flag_expr(self, e: pl.Expr) -> pl.Expr:
        """The plausibility flag (one of :attr:`FLAGS`) of values :meth:`reason_expr` finds
        valid, else null; only meaningful on valid values."""
        return pl.lit(None, dtype=pl.String)


def first_reason(checks: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """The code of the first check whose condition holds, else null (a null condition is false)."""
    (code, cond), *rest = checks
    chain = pl.when(cond).then(pl.lit(code))
    for code, cond in rest:
        chain = chain.when(cond).then(pl.lit(code))
    return chain.otherwise(pl.lit(None, dtype=pl.String))


def full(pattern: str) -> str:
    """``pattern`` anchored at both ends, for ``str.contains`` (Python callers use re.fullmatch)."""
    return f"^(?:{pattern})$"
