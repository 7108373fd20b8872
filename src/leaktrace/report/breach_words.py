"""Words of the breach report and the regulator's dashboard in the language in use: the labels
of a report's fields (CAC measures, PIPL art. 57, counts), of its codes (grades, statuses,
sectors, incident types, causes, data categories, report kinds), the look of a clock's state
(colour, symbol and word, so colour is never the only cue) and times in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from leaktrace.i18n import N_, _

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: The CAC incident-reporting measures' fields, in the measures' order.
CAC_FIELDS = {
    "system": N_("Affected system"),
    "occurred_at": N_("Time of the incident"),
    "incident_type": N_("Type of incident"),
    "harm": N_("Harm caused"),
    "measures_taken": N_("Measures taken"),
    "development": N_("How the incident developed"),
    "cause": N_("Cause"),
    "cause_category": N_("Kind of cause"),
    "attack_clues": N_("Clues to the attacker"),
    "planned_measures": N_("Measures planned"),
    "support_requested": N_("Support requested"),
    "scene_preservation": N_("Preservation of the scene"),
}
#: The notice fields of PIPL art. 57, in its order (the cause is the CAC measures' field).
PIPL_FIELDS = {
    "data_categories": N_("Categories of personal data"),
    "cause": CAC_FIELDS["cause"],
    "possible_harm": N_("Possible harm"),
    "remedies": N_("Remedial measures"),
    "advice_to_people": N_("What people can do to reduce harm"),
    "contact": N_("Contact"),
}
COUNTS = {
    "people_affected": N_("People affected"),
    "records_affected": N_("Records affected"),
    "direct_loss_yuan": N_("Direct economic loss (yuan)"),
    "people_disrupted": N_("People whose daily life was disrupted"),
    "cii_outage_hours": N_("Hours the infrastructure was down as a whole"),
    "cii_main_function_outage_hours": N_("Hours its main functions were down"),
}
FIELDS = {**CAC_FIELDS, **PIPL_FIELDS, **COUNTS}

GRADES = {
    "general": N_("general"),
    "relatively_major": N_("relatively major"),
    "major": N_("major"),
    "particularly_major": N_("particularly major"),
}
STATUSES = {
    "open": N_("open"),
    "questioned": N_("questioned by the regulator"),
    "closed": N_("closed"),
}
SECTORS = {
    "bank": N_("bank"),
    "insurer": N_("insurer"),
    "lender": N_("lender"),
    "payment": N_("payment institution"),
    "other": N_("other"),
}
REPORT_KINDS = {
    "initial": N_("initial report"),
    "supplement": N_("supplementary report"),
    "summary": N_("summary report"),
}
INCIDENT_TYPES = {
    "data_leak": N_("data leak"),
    "cyberattack": N_("cyberattack"),
    "malware": N_("malware"),
    "insider": N_("insider misuse"),
    "misconfiguration": N_("misconfiguration"),
    "other": N_("other"),
}
CAUSES = {
    "insider": N_("insider"),
    "partner": N_("partner company"),
    "external_attack": N_("external attack"),
    "misconfiguration": N_("misconfiguration"),
    "lost_device": N_("lost device"),
    "other": N_("other"),
    "unknown": N_("not known yet"),
}
DATA_CATEGORIES = {
    "name": N_("Name"),
    "resident_id": N_("Resident ID"),
    "mobile": N_("Mobile number"),
    "bank_card": N_("Bank card number"),
    "address": N_("Address"),
    "email": N_("E-mail address"),
    "account": N_("account information"),
    "financial": N_("financial information"),
    "health": N_("health information"),
    "biometric": N_("biometric information"),
    "other": N_("other"),
}
AUTHORITIES = {
    "CAC": N_("Cyberspace Administration (CAC)"),
    "PBOC": N_("People's Bank of China (PBOC)"),
    "NFRA": N_("Financial Regulatory Administration (NFRA)"),
    "GDPR": N_("GDPR supervisory authority"),
}
#: Which code table holds the words of a field whose value is a code.
CODED = {"incident_type": INCIDENT_TYPES, "cause_category": CAUSES}


@dataclass(frozen=True)
class StateLook:
    """How a clock's state shows: its word, a colour and a symbol of its own."""

    word: str
    colour: str
    symbol: str


CLOCK_STATES = {
    "pending": StateLook(N_("not started"), "#555555", "○"),
    "running": StateLook(N_("running"), "#1565c0", "◔"),
    "due_soon": StateLook(N_("due soon"), "#8d6e00", "▲"),
    "overdue": StateLook(N_("overdue"), "#b71c1c", "✖"),
    "met": StateLook(N_("met in time"), "#2e7d32", "✔"),
    "met_late": StateLook(N_("met late"), "#d84315", "◆"),
}


def word(table: dict[str, str], code: str) -> str:
    """The words of ``code`` in ``table``, in the language in use; a code the table does not
    know (a newer service's) as it is."""
    return _(table[code]) if code in table else code


def state_look(state: str) -> StateLook:
    """The look of clock ``state`` with its word translated (an unknown state in grey)."""
    look = CLOCK_STATES.get(state)
    if look is None:
        return StateLook(state, "#555555", "?")
    return StateLook(_(look.word), look.colour, look.symbol)


def not_stated() -> str:
    """What a field not stated yet shows."""
    return _("not stated")


def instant(iso: str) -> dt.datetime:
    """An ISO 8601 time as an aware datetime (UTC when it names no zone)."""
    t = dt.datetime.fromisoformat(iso)
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def local_time(iso: str) -> str:
    """An ISO 8601 time (UTC when it names no zone) in Asia/Shanghai, the zone named:
    ``2026-11-03 09:15 (UTC+8)``."""
    local = instant(iso).astimezone(SHANGHAI)
    offset = local.utcoffset() or dt.timedelta()
    hours, rest = divmod(int(offset.total_seconds()) // 60, 60)
    zone = f"UTC{hours:+d}" + (f":{rest:02d}" if rest else "")
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def hours_text(hours: float) -> str:
    """A span of ``hours`` as a person says it: minutes under an hour, hours under two days,
    days beyond."""
    if hours < 1:
        return _("{n} min").format(n=round(hours * 60))
    if hours < 48:
        return _("{n} h").format(n=f"{hours:.1f}".removesuffix(".0"))
    return _("{n} d").format(n=f"{hours / 24:.1f}".removesuffix(".0"))
