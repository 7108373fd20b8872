"""Identifier kinds of Chinese personal data: normalise, validate with reasons, derive, mask.

Each kind is a :class:`~leaktrace.pii.base.Kind` registered in :data:`KINDS`; the module
functions dispatch on the kind's name. This package imports nothing else of leaktrace.
"""

from __future__ import annotations

from typing import Any

from .address import Address
from .bank_card import BankCard
from .base import Kind, Status, Validation
from .email import Email
from .landline import Landline
from .mobile import Mobile
from .passport import Passport
from .person_name import PersonName
from .plate import Plate
from .resident_id import ResidentId
from .text import fold_width

KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` to :data:`KINDS` under its name (replacing one of the same name)."""
    KINDS[kind.name] = kind
    return kind


for _kind in (
    ResidentId(),
    Mobile(),
    BankCard(),
    Landline(),
    Email(),
    Passport(),
    Plate(),
    PersonName(),
    Address(),
):
    register(_kind)


def _kind(kind: str | Kind) -> Kind:
    if isinstance(kind, Kind):
        return kind
    try:
        return KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown identifier kind {kind!r}; known: {', '.join(KINDS)}") from None


def normalize(kind: str | Kind, raw: str) -> str | None:
    """Canonical form of ``raw`` as ``kind``, or None when it does not have the kind's shape."""
    return _kind(kind).normalize(raw)


def validate(kind: str | Kind, value: str) -> Validation:
    """Validate a normalised value of ``kind``, with every reason it fails."""
    return _kind(kind).validate(value)


def derive(kind: str | Kind, value: str) -> dict[str, Any]:
    """Facts a normalised value of ``kind`` implies (region, birth date, carrier, issuer…)."""
    return _kind(kind).derive(value)


def mask(kind: str | Kind, value: str) -> str:
    """``value`` with its middle hidden, for reports."""
    return _kind(kind).mask(value)


__all__ = [
    "KINDS",
    "Kind",
    "Status",
    "Validation",
    "derive",
    "fold_width",
    "mask",
    "normalize",
    "register",
    "validate",
]
