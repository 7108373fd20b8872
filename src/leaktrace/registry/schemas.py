"""The shapes the registry's API accepts and returns (pydantic): reports, versions, questions,
users, keys, webhooks. Unknown fields are refused (422), never ignored; text has a length limit.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leaktrace.i18n import _
from leaktrace.registry.grade import Grade
from leaktrace.registry.outbox import EVENTS

Text = Annotated[str, Field(max_length=20_000)]
Line = Annotated[str, Field(min_length=1, max_length=300)]
Count = Annotated[int, Field(ge=0, le=10_000_000_000)]
IncidentType = Literal[
    "data_leak", "cyberattack", "malware", "insider", "misconfiguration", "other"
]
CauseCategory = Literal[
    "insider", "partner", "external_attack", "misconfiguration", "lost_device", "other", "unknown"
]
DataCategory = Literal[
    "name",
    "resident_id",
    "mobile",
    "bank_card",
    "address",
    "email",
    "account",
    "financial",
    "health",
    "biometric",
    "other",
]
GradeCode = Grade
Role = Literal["viewer", "reporter", "reviewer", "admin"]
EventName = Literal[EVENTS]  # type: ignore[valid-type]

#: The report's fields: the CAC measures' (unit and system; time, type, grade, harm, measures
#: taken; development; cause; attack clues; planned measures and support; the scene), then PIPL
#: art. 57's (categories of data, cause, possible harm, remedies, what people can do, a contact).
FIELD_NAMES = (
    "system",
    "occurred_at",
    "incident_type",
    "harm",
    "measures_taken",
    "development",
    "cause",
    "cause_category",
    "attack_clues",
    "planned_measures",
    "support_requested",
    "scene_preservation",
    "data_categories",
    "possible_harm",
    "remedies",
    "advice_to_people",
    "contact",
)


#: What no stored text may hold: NUL (PostgreSQL refuses it in text) and unpaired surrogates
#: (no UTF-8 for them). Refused as invalid (422) before they reach either database.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text() -> str:
    """Why a text holding :data:`UNSTORABLE` characters is refused."""
    return _("Text may not hold NUL characters or unpaired surrogates.")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: object) -> object:
        if isinstance(value, str) and UNSTORABLE.search(value):
            raise ValueError(unstorable_text())
        return value


class Aware(Strict):
    @field_validator("*", mode="after")
    @classmethod
    def _aware(cls, value: object) -> object:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise ValueError("give the time with its UTC offset, e.g. 2026-11-03T09:15:00+08:00")
        return value


class Fields(Aware):
    """A report's content; on a supplement, only the fields given change."""

    system: Text | None = None
    occurred_at: dt.datetime | None = None
    incident_type: IncidentType | None = None
    harm: Text | None = None
    measures_taken: Text | None = None
    development: Text | None = None
    cause: Text | None = None
    cause_category: CauseCategory | None = None
    attack_clues: Text | None = None
    planned_measures: Text | None = None
    support_requested: Text | None = None
    scene_preservation: Text | None = None
    data_categories: list[DataCategory] | None = Field(default=None, max_length=11)
    possible_harm: Text | None = None
    remedies: Text | None = None
    advice_to_people: Text | None = None
    contact: Text | None = None


class Counts(Strict):
    """An incident's size, as the CAC's grading guide counts it (``registry.grade``)."""

    people_affected: Count | None = None
    records_affected: Count | None = None
    direct_loss_yuan: Count | None = None
    people_disrupted: Count | None = None
    cii_outage_hours: Annotated[float, Field(ge=0, le=1_000_000)] | None = None
    cii_main_function_outage_hours: Annotated[float, Field(ge=0, le=1_000_000)] | None = None


class ReportIn(Aware):
    """An initial report."""

    title: Line
    discovered_at: dt.datetime
    fields: Fields = Fields()
    counts: Counts = Counts()
    grade_override: GradeCode | None = None
    override_reason: Text | None = None


class SupplementIn(Aware):
    """A new version: a supplement, or the summary after handling."""

    kind: Literal["supplement", "summary"] = "supplement"
    fields: Fields = Fields()
    counts: Counts | None = None
    grade_override: GradeCode | None = None
    override_reason: Text | None = None
    handled_at: dt.datetime | None = None


class TextIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=20_000)]


class HandledIn(Aware):
    handled_at: dt.datetime


class UserIn(Strict):
    username: Annotated[str, Field(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")]
    password: Annotated[str, Field(min_length=12, max_length=1000)]
    role: Role
    display_name: Annotated[str, Field(max_length=200)] = ""


class KeyIn(Strict):
    name: Line
    role: Role


class WebhookIn(Strict):
    url: Annotated[str, Field(min_length=8, max_length=2000)]
    events: list[EventName] = Field(min_length=1, max_length=len(EVENTS))


class LoginIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]
