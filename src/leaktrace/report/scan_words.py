"""Words of the scan reports (terminal and HTML) in the language in use: the names of the
identifier kinds and, for the per-kind reason and flag codes of the validators
(:mod:`leaktrace.pii`), what each means, so ``bad_checksum 52`` reads "check digit wrong: 52"."""

from __future__ import annotations

from collections import Counter

from leaktrace.i18n import N_, _, language
from leaktrace.pii import KINDS

KIND_LABELS = {
    "resident_id": N_("Resident ID"),
    "mobile": N_("Mobile number"),
    "bank_card": N_("Bank card number"),
    "landline": N_("Landline number"),
    "email": N_("E-mail address"),
    "passport": N_("Passport number"),
    "plate": N_("Vehicle plate"),
    "person_name": N_("Person name"),
    "address": N_("Address"),
    "text": N_("free text"),  # a column scanned for identifiers in its text
}

# Why a value is invalid (pii validators' reason codes) and why a valid one is flagged.
REASONS = {
    "bad_checksum": N_("check digit wrong"),
    "bad_length": N_("wrong length"),
    "bad_format": N_("wrong format"),
    "unknown_division": N_("unknown division code"),
    "division_not_in_force_at_birth": N_("division code not in force at birth"),
    "impossible_birth_date": N_("impossible birth date"),
    "future_birth_date": N_("birth date in the future"),
    "unallocated_segment": N_("number segment never allocated"),
    "unknown_area_code": N_("unknown area code"),
    "bad_local_length": N_("local number of the wrong length"),
    "bad_local_number": N_("local number not in use"),
    "bad_local_part": N_("invalid part before the @"),
    "bad_domain": N_("invalid domain"),
    "unknown_surname": N_("surname not known"),
    "unknown_province": N_("unknown province"),
    "no_division": N_("no province, city or county"),
    "no_detail": N_("no street or house detail"),
    "masked": N_("masked"),
    "<empty>": N_("empty"),
}
FLAGS = {"implausible_age": N_("holder over 110 years old")}


def kind_label(name: str) -> str:
    """An identifier kind's name in the language in use (a kind registered later: its own)."""
    if name in KIND_LABELS:
        return _(KIND_LABELS[name])
    return KINDS[name].label if name in KINDS else name


def code_text(code: str) -> str:
    """What a reason or flag code means in the language in use (unknown codes as they are)."""
    words = REASONS.get(code) or FLAGS.get(code)
    return _(words) if words else code


def counts_text(counts: Counter[str], most: int | None = None) -> str:
    """The commonest codes with their counts as a list ("check digit wrong: 52; …"), masked
    values apart (they are counted in their own column)."""
    sep = "；" if language() == "zh" else "; "
    return sep.join(
        _("{what}: {n}").format(what=code_text(code), n=f"{n:,}")
        for code, n in counts.most_common(most)
        if code != "masked"
    )
