"""The regulator's dashboard: breaches over time, people affected, causes, institutions, grades,
response times, and the reports overdue or due soon, over exactly the reports the viewer may read.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.registry import rules
from leaktrace.registry.models import Deadline, Organisation, Report
from leaktrace.registry.policy import Principal, visible_reports

#: A clock due within this is "due soon" on the dashboard.
DUE_SOON = dt.timedelta(hours=24)
#: Months shown on the time plot.
MONTHS = 12


def _month(when: dt.datetime) -> str:
    return rules.to_shanghai(when).strftime("%Y-%m")


def _months_back(now: dt.datetime, n: int) -> list[str]:
    local = rules.to_shanghai(now)
    year, month = local.year, local.month
    out = []
    for _i in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def data(session: Session, principal: Principal, now: dt.datetime) -> dict[str, Any]:
    """The dashboard's figures for ``principal`` (the policy's reports only)."""
    rows = session.execute(
        sa.select(
            Report.id,
            Report.title,
            Report.status,
            Report.grade,
            Report.people_affected,
            Report.cause_category,
            Report.discovered_at,
            Report.filed_at,
            Organisation.name,
        )
        .join(Organisation, Organisation.id == Report.org_id)
        .where(visible_reports(principal))
    ).all()
    months = _months_back(now, MONTHS)
    per_month = {m: {"month": m, "count": 0, "people": 0} for m in months}
    institutions: dict[str, list[int]] = {}
    for r in rows:
        m = per_month.get(_month(r.discovered_at))
        if m is not None:
            m["count"] += 1
            m["people"] += r.people_affected or 0
        inst = institutions.setdefault(r.name, [0, 0])
        inst[0] += 1
        inst[1] += r.people_affected or 0
    response = [max(0.0, (r.filed_at - r.discovered_at).total_seconds() / 3600) for r in rows]
    due = _due(session, principal, now)
    return {
        "totals": {
            "reports": len(rows),
            "open": sum(r.status != "closed" for r in rows),
            "people": sum(r.people_affected or 0 for r in rows),
            "overdue": len({d["report_id"] for d in due if d["state"] == "overdue"}),
            "median_response_hours": statistics.median(response) if response else None,
        },
        "months": list(per_month.values()),
        "causes": Counter(r.cause_category or "unknown" for r in rows).most_common(),
        "grades": Counter(r.grade for r in rows).most_common(),
        "institutions": sorted(
            ((name, c, p) for name, (c, p) in institutions.items()), key=lambda t: (-t[1], t[0])
        )[:10],
        "response_hours": response,
        "due": due,
    }


def _due(session: Session, principal: Principal, now: dt.datetime) -> list[dict[str, Any]]:
    """Unmet, binding clocks overdue or due within :data:`DUE_SOON`, soonest first."""
    rows = session.execute(
        sa.select(Deadline, Report.title, Organisation.name)
        .join(Report, Report.id == Deadline.report_id)
        .join(Organisation, Organisation.id == Report.org_id)
        .where(
            visible_reports(principal),
            Report.status != "closed",
            Deadline.met_at.is_(None),
            Deadline.due_at.is_not(None),
            Deadline.informational.is_(False),
            Deadline.due_at < now + DUE_SOON,
        )
        .order_by(Deadline.due_at)
    ).all()
    return [
        {
            "report_id": d.report_id,
            "title": title,
            "institution": name,
            "authority": d.authority,
            "label_zh": d.label_zh,
            "label_en": d.label_en,
            "due_at": d.due_at.isoformat(),
            "state": "overdue" if d.due_at <= now else "due_soon",
        }
        for d, title, name in rows
    ]
