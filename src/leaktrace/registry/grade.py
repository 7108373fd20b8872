"""The grade of a breach (一般/较大/重大/特别重大) computed from the counts a report states,
by the quantitative thresholds of the CAC's 《网络安全事件分级指南》 that we could confirm
(``docs/registry-rules.md``), and the rule for overriding it: only with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, get_args

from leaktrace.i18n import N_, _, using
from leaktrace.report.breach_words import GRADES as GRADE_WORDS
from leaktrace.report.breach_words import word

Grade = Literal["general", "relatively_major", "major", "particularly_major"]
# 一般 / 较大 / 重大 / 特别重大, from low to high.
GRADES: tuple[str, ...] = get_args(Grade)

# Characters an override's reason needs at least (a word or two is not a reason).
MIN_REASON = 10


def check_grade(code: str) -> str:
    """``code`` if it is a grade code; ValueError naming the codes otherwise."""
    if code not in GRADES:
        raise ValueError(
            _("unknown grade '{code}'; expected one of {codes}").format(
                code=code, codes=", ".join(GRADES)
            )
        )
    return code


def rank(code: str) -> int:
    """The place of grade ``code`` from 0 (general) to 3 (particularly major)."""
    return GRADES.index(check_grade(code))


def label(code: str, lang: str | None = None) -> str:
    """Grade ``code`` in words: 一般/较大/重大/特别重大 or general/.../particularly major."""
    with using(lang):
        return word(GRADE_WORDS, check_grade(code))


@dataclass(frozen=True)
class Counts:
    """What a report states about an incident's size; None where it is not known."""

    people_affected: int | None
    records_affected: int | None = None  # not a grading count: the guide counts people
    direct_loss_yuan: int | None = None
    people_disrupted: int | None = None  # people whose water, power, transport... stopped
    cii_outage_hours: float | None = None  # the whole infrastructure down
    cii_main_function_outage_hours: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value < 0:
                raise ValueError(_("{field} cannot be negative").format(field=f.name))


@dataclass(frozen=True)
class Threshold:
    """One quantitative line of the guide: ``count`` at or above ``minimum`` is ``grade``."""

    count: str
    minimum: float
    grade: str
    words: str  # N_() text with {minimum}


# 《网络安全事件分级指南》 (annex to the CAC measures of 2025-09-11): "以上" includes the number.
# Only the lines confirmed in the final text are here (docs/registry-rules.md says which not).
THRESHOLDS = (
    Threshold(
        "people_affected",
        100_000_000,
        "particularly_major",
        N_("personal information of {minimum} people or more leaked"),
    ),
    Threshold(
        "people_affected",
        10_000_000,
        "major",
        N_("personal information of {minimum} people or more leaked"),
    ),
    Threshold(
        "people_affected",
        1_000_000,
        "relatively_major",
        N_("personal information of {minimum} people or more leaked"),
    ),
    Threshold(
        "direct_loss_yuan",
        100_000_000,
        "particularly_major",
        N_("direct economic loss of {minimum} yuan or more"),
    ),
    Threshold(
        "people_disrupted",
        10_000_000,
        "particularly_major",
        N_("daily life of {minimum} people or more disrupted"),
    ),
    Threshold(
        "cii_outage_hours",
        6,
        "particularly_major",
        N_("critical information infrastructure down as a whole for {minimum} hours or more"),
    ),
    Threshold(
        "cii_main_function_outage_hours",
        24,
        "particularly_major",
        N_(
            "main functions of critical information infrastructure down for {minimum} hours or more"
        ),
    ),
)


@dataclass(frozen=True)
class GradeResult:
    """The grade reached and, for each threshold that reached it, why in plain words."""

    code: str
    reasons: tuple[str, ...]


def grade(counts: Counts) -> GradeResult:
    """The highest grade any threshold reaches (``general`` when none does); unknown counts
    never raise it."""
    reached = [
        t
        for t in THRESHOLDS
        if (value := getattr(counts, t.count)) is not None and value >= t.minimum
    ]
    if not reached:
        return GradeResult("general", (_("no grading threshold reached"),))
    top = max(rank(t.grade) for t in reached)
    reasons = tuple(
        _("{what}: {grade}").format(
            what=_(t.words).format(minimum=f"{t.minimum:,}"), grade=label(t.grade)
        )
        for t in reached
        if rank(t.grade) == top
    )
    return GradeResult(GRADES[top], reasons)


def effective_grade(computed: str, override: str | None, reason: str | None) -> str:
    """The grade a report runs on: the computed one, or an override given with a reason of at
    least ``MIN_REASON`` characters (ValueError otherwise)."""
    check_grade(computed)
    if override is None:
        return computed
    check_grade(override)
    if reason is None or len(reason.strip()) < MIN_REASON:
        raise ValueError(
            _("overriding the computed grade needs a reason of at least {n} characters").format(
                n=MIN_REASON
            )
        )
    return override
