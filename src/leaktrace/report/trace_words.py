"""The words of a trace, shared by the terminal and the HTML report: the finding in one line, each
suspect's evidence as sentences, and what else could explain it (no personal data: recipients,
share ids, dates and counts only)."""

from __future__ import annotations

import math

from leaktrace.i18n import _, ngettext
from leaktrace.trace.api import TraceReport
from leaktrace.trace.attribute import Suspect


def probability(p: float) -> str:
    """A probability as a person reads it: 3.2e-12 rather than 0.0000000000032."""
    if p >= 0.001:
        return f"{p:.3f}".rstrip("0").rstrip(".")
    if p <= 0:
        return "0"
    return f"{p:.1e}"


def headline(report: TraceReport) -> str:
    """The finding: who is accused, or that nobody can be."""
    a = report.attribution
    if a.accused:
        return ngettext(
            "Accused: {names}",
            "Accused ({count} recipients): {names}",
            len(a.accused),
        ).format(names="、".join(a.accused), count=len(a.accused))
    if not a.linked:
        return _("Nobody can be accused: no record of the leak is one of our customers")
    return _(
        "Nobody can be accused at ε = {epsilon}: the ranking below explains, it does not accuse"
    ).format(epsilon=probability(a.epsilon))


def scope(report: TraceReport) -> str:
    """What the trace worked on."""
    a = report.attribution
    return _(
        "{records} leak records, {linked} linked to {customers} of our customers; marks read "
        "from {read} of them: {positions} positions; {shares} shares in the ledger tested."
    ).format(
        records=f"{a.records:,}",
        linked=f"{a.linked:,}",
        customers=f"{a.customers:,}",
        read=f"{a.read:,}",
        positions=f"{a.positions:,}",
        shares=f"{a.shares_tested:,}",
    )


def why(s: Suspect, report: TraceReport) -> list[str]:
    """The evidence for and against one suspect, as sentences."""
    a = report.attribution
    out = []
    if s.received:
        out.append(
            _(
                "{matched} of the {received} marks this share carried in the leaked records "
                "match it ({changed} of them where its copy differs from our own writing)."
            ).format(matched=s.matched, received=s.received, changed=s.changed_matched)
        )
        out.append(
            _(
                "Chance that a recipient who did not leak scores this high: at most {fap}; "
                "{corrected} after correcting for the {shares} shares holding marks of the leak."
            ).format(
                fap=probability(s.fap),
                corrected=probability(s.corrected_fap),
                shares=a.shares_scored,
            )
        )
    else:
        out.append(_("None of the leak's readable marks fall in this share's records."))
    for c in s.canaries:
        fields = ", ".join(_field(f) for f in c.fields)
        if c.decisive:
            out.append(
                _(
                    "Leak record {record} is canary {index} of this share ({fields}): a "
                    "synthetic customer that exists only in this share's copy."
                ).format(record=c.record + 1, index=c.index + 1, fields=fields)
            )
        else:
            out.append(
                _(
                    "Leak record {record} carries one identifier of canary {index} of this share "
                    "({fields}); one alone can belong to a real person, so it is not decisive."
                ).format(record=c.record + 1, index=c.index + 1, fields=fields)
            )
    if s.tokens:
        out.append(
            _(
                "{count} customer numbers in the leak are this share's tokens (numbers written "
                "only in its copy); chance of finding as many by chance: {p}."
            ).format(count=s.tokens, p=probability(s.token_fap))
        )
    if a.customers:
        out.append(
            _(
                "It received {overlap} of the leak's {customers} linked customers ({share}); "
                "a random allocation of its size would match as many with chance {p}. The "
                "allocation ranks, it never accuses: an insider copying the same customers "
                "from the master explains it as well."
            ).format(
                overlap=f"{s.overlap:,}",
                customers=f"{a.customers:,}",
                share=f"{s.overlap / a.customers:.0%}",
                p=probability(s.allocation_p),
            )
        )
    snap = report.verification.snapshot
    dating = report.dating(s)
    if dating == "before" and snap is not None:
        out.append(
            _(
                "Shared on {date}, before the leak's data was taken (not before {low}): the leak "
                "holds newer values than this copy."
            ).format(date=s.shared_at.date().isoformat(), low=snap.low.isoformat())
        )
    if dating == "after" and snap is not None:
        out.append(
            _(
                "Shared on {date}, after values the leak holds had changed (by {high}): this "
                "copy holds the newer ones."
            ).format(date=s.shared_at.date().isoformat(), high=snap.high.isoformat())
        )
    return out


def alternatives(s: Suspect, report: TraceReport) -> list[str]:
    """What else could explain an accusation, and why it does not (or might)."""
    a = report.attribution
    out = []
    if s.reason == "code":
        out.append(
            _(
                "Another recipient, or our own master, explains these marks only by chance: at "
                "most {corrected} over all shares holding marks of the leak."
            ).format(corrected=probability(s.corrected_fap))
        )
        others = [t for t in a.suspects if t.accused and t.share_id != s.share_id]
        if others:
            out.append(
                _(
                    "Marks of {count} other accused shares are in the leak too: copies were "
                    "combined (collusion or resale through several hands)."
                ).format(count=len(others))
            )
    if s.reason == "token":
        out.append(
            _(
                "The tokens were drawn from our secret for this share alone; another copy, or "
                "our master, holds other numbers there."
            )
        )
    if s.reason == "canary":
        out.append(
            _(
                "A canary is not in our master nor in any other share; a real person holding "
                "two of its identifiers is not a credible explanation."
            )
        )
    return out


def _field(name: str) -> str:
    return {
        "resident_id": _("resident ID"),
        "mobile": _("mobile"),
        "card_no": _("card number"),
    }.get(name, name)


def insiders_headline(report: TraceReport) -> str | None:
    """Which employees' accesses explain the leak, or that none does (None without a log)."""
    r = report.insiders
    if r is None:
        return None
    flagged = [s for s in r.suspects if s.flagged]
    if not flagged:
        return _(
            "No employee's accesses explain the leak at p ≤ {alpha} (corrected for {employees} "
            "employees); {in_log} of its {leaked} linked customers were looked up by anyone."
        ).format(
            alpha=probability(r.alpha),
            employees=f"{r.employees:,}",
            in_log=f"{r.leaked_in_log:,}",
            leaked=f"{r.leaked:,}",
        )
    return _(
        "Employees whose accesses explain the leak: {names} ({explained} of its {leaked} linked "
        "customers; each at corrected p ≤ {alpha}, over {employees} employees)."
    ).format(
        names="、".join(s.employee for s in flagged),
        explained=f"{r.explained:,}",
        leaked=f"{r.leaked:,}",
        alpha=probability(r.alpha),
        employees=f"{r.employees:,}",
    )


def insider_p(corrected: float, log10_p: float, employees: int) -> str:
    """A corrected p-value, by its order of magnitude where it underflows."""
    if corrected > 0:
        return probability(corrected)
    return f"1e{log10_p + math.log10(max(employees, 1)):.0f}"


def actions_text(actions: dict[str, int]) -> str:
    """An employee's accesses to the leaked customers by action, in words."""
    words = {"view": _("viewed"), "print": _("printed"), "export": _("exported")}
    return ", ".join(f"{words.get(a, a)} {n:,}" for a, n in actions.items() if n)
