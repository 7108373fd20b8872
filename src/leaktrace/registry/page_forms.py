"""The pages' report forms: what a browser posts, read into the API's own shapes (``ReportIn``,
``SupplementIn``), and every refusal as a message beside its field, so that the form can be shown
again with the person's input kept. Times are typed as wall-clock time in a chosen zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from leaktrace.i18n import _
from leaktrace.registry import rules
from leaktrace.registry.schemas import FIELD_NAMES, Counts, ReportIn, SupplementIn
from leaktrace.report.breach_words import instant

#: Fields typed as text (the others are a time, two choices and the data categories).
TEXT_FIELDS = tuple(
    n
    for n in FIELD_NAMES
    if n not in ("occurred_at", "incident_type", "cause_category", "data_categories")
)
#: Text fields short enough for one line.
LINE_FIELDS = ("system", "contact")
COUNT_FIELDS = tuple(Counts.model_fields)
HOUR_COUNTS = ("cii_outage_hours", "cii_main_function_outage_hours")
#: Time zones offered for typed times; Asia/Shanghai first, the default.
ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)
#: The format of an ``<input type="datetime-local">``.
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class FormErrors(Exception):
    """The form's refusals: field name -> message (``form`` for the form as a whole)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _problem(kind: str) -> str:
    """A pydantic error type in words (its own messages are English only)."""
    if kind in ("missing", "string_too_short"):
        return _("This is needed.")
    if kind in ("string_too_long", "too_long"):
        return _("This is too long.")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return _("This number is out of range.")
    if kind in ("literal_error", "enum"):
        return _("Choose one of the choices given.")
    return _("This value is not valid.")


def refusals(err: ValidationError) -> dict[str, str]:
    """Field name -> message for each error of ``err`` (the first per field)."""
    out: dict[str, str] = {}
    for e in err.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("fields", "counts")]
        out.setdefault(loc[0] if loc else "form", _problem(str(e.get("type", ""))))
    return out


def validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """``model`` from ``data``; FormErrors naming the fields otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise FormErrors(refusals(err)) from None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def values(form: FormData) -> dict[str, Any]:
    """The form as typed, to show it again: text by name, the data categories as a list."""
    out: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    out["data_categories"] = [v for v in form.getlist("data_categories") if isinstance(v, str)]
    return out


def _time(form: FormData, name: str, errors: dict[str, str]) -> str | None:
    """A typed local time in the form's zone as aware UTC (ISO), None when empty."""
    text = _text(form, name)
    if not text:
        return None
    try:
        return rules.parse_local(text, _text(form, "zone") or ZONES[0]).isoformat()
    except ValueError as err:
        errors[name] = str(err)
        return None


def _count(text: str, name: str, errors: dict[str, str]) -> float | int | None:
    if not text:
        return None
    try:
        return float(text) if name in HOUR_COUNTS else int(text)
    except ValueError:
        errors[name] = (
            _("Expected a number.") if name in HOUR_COUNTS else _("Expected a whole number.")
        )
        return None


def _content(form: FormData, errors: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields, counts) as the form gives them; an empty box is None (not stated)."""
    fields: dict[str, Any] = {name: _text(form, name) or None for name in TEXT_FIELDS}
    fields["occurred_at"] = _time(form, "occurred_at", errors)
    for name in ("incident_type", "cause_category"):
        fields[name] = _text(form, name) or None
    fields["data_categories"] = form.getlist("data_categories") or None
    counts = {name: _count(_text(form, name), name, errors) for name in COUNT_FIELDS}
    return fields, counts


def _override(form: FormData) -> dict[str, Any]:
    return {
        "grade_override": _text(form, "grade_override") or None,
        "override_reason": _text(form, "override_reason") or None,
    }


def report_in(form: FormData) -> ReportIn:
    """An initial report from the filing form; FormErrors naming every field refused."""
    errors: dict[str, str] = {}
    discovered = _time(form, "discovered_at", errors)
    if discovered is None and "discovered_at" not in errors:
        errors["discovered_at"] = _("This is needed.")
    fields, counts = _content(form, errors)
    if errors:
        raise FormErrors(errors)
    data = {"title": _text(form, "title"), "discovered_at": discovered}
    return validated(ReportIn, {**data, "fields": fields, "counts": counts, **_override(form)})


def supplement_in(form: FormData, last: Mapping[str, Any]) -> SupplementIn:
    """A new version from the supplement form: the fields that differ from ``last`` (the latest
    version's stored fields), every count, and the kind; FormErrors naming every field refused."""
    errors: dict[str, str] = {}
    handled = _time(form, "handled_at", errors)
    fields, counts = _content(form, errors)
    if errors:
        raise FormErrors(errors)
    changed = {name: value for name, value in fields.items() if value != last.get(name)}
    data = {
        "kind": _text(form, "kind") or "supplement",
        "fields": changed,
        "counts": counts,
        "handled_at": handled,
        **_override(form),
    }
    return validated(SupplementIn, data)


def prefilled(version: Mapping[str, Any], grade: Mapping[str, Any]) -> dict[str, Any]:
    """The supplement form's values from a report's latest version (times in Asia/Shanghai)."""
    fields = version.get("fields") or {}
    out: dict[str, Any] = {name: fields.get(name) or "" for name in FIELD_NAMES}
    if fields.get("occurred_at"):
        out["occurred_at"] = rules.to_shanghai(instant(fields["occurred_at"])).strftime(
            LOCAL_FORMAT
        )
    out["data_categories"] = list(fields.get("data_categories") or [])
    counts = version.get("counts") or {}
    for name in COUNT_FIELDS:
        value = counts.get(name)
        out[name] = "" if value is None else str(value)
    out["zone"] = ZONES[0]
    out["grade_override"] = grade.get("override") or ""
    out["override_reason"] = grade.get("override_reason") or ""
    return out
