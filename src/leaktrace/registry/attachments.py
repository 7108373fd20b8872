"""Evidence attached to a report: a ``leaktrace verify`` result, as its JSON (``--json``) or its
HTML report (``--report``). The bytes are kept as given with their SHA-256; the verdict is read
from the JSON so that a regulator sees it without opening the file. Anything else is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry import audit, reports
from leaktrace.registry.errors import Conflict, Invalid, NotFound
from leaktrace.registry.models import Attachment, utcnow
from leaktrace.registry.policy import Principal

#: The largest attachment accepted (a verify HTML report with its plots is well under this).
MAX_BYTES = 20 * 1024 * 1024
_SHA256 = re.compile(rb"\b[0-9a-f]{64}\b")


def safe_filename(name: str) -> str:
    """The last part of a client's file name, without control or format characters, ≤ 120."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    return kept[:120] or "attachment"


def _verify_json(content: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("verdict"), dict):
        return None
    verdict = data["verdict"]
    evidence = data.get("evidence") if isinstance(data.get("evidence"), dict) else {}
    inputs = evidence.get("inputs") if isinstance(evidence.get("inputs"), list) else []
    linkage = data.get("linkage") if isinstance(data.get("linkage"), dict) else {}
    return {
        "kind": "verify_json",
        "verdict": str(verdict.get("label", ""))[:40],
        "records": data.get("records") if isinstance(data.get("records"), int) else None,
        "linked": linkage.get("linked") if isinstance(linkage.get("linked"), int) else None,
        "inputs_sha256": [
            str(i["sha256"])[:64] for i in inputs if isinstance(i, dict) and i.get("sha256")
        ][:20],
    }


def _verify_html(content: bytes) -> dict[str, Any] | None:
    head = content[:2048].lstrip().lower()
    if not (head.startswith(b"<!doctype html") or head.startswith(b"<html")):
        return None
    if b'id="evidence"' not in content and b"id=evidence" not in content:
        return None
    return {
        "kind": "verify_html",
        "verdict": None,
        "inputs_sha256": sorted({m.decode() for m in _SHA256.findall(content)})[:20],
    }


def attach(
    session: Session,
    principal: Principal,
    report_id: int,
    filename: str,
    content: bytes,
    now: dt.datetime | None = None,
) -> Attachment:
    """Keep a verify result as evidence on the principal's own report."""
    report = reports.get(session, principal, report_id)
    reports.require(principal, "report.supplement")
    if report.status == "closed":
        raise Conflict(_("The report is closed."))
    if len(content) > MAX_BYTES:
        raise Invalid(
            _("The file is too large ({mb} MB at most).").format(mb=MAX_BYTES // 2**20),
            field="file",
        )
    summary = _verify_json(content)
    media_type = "application/json"
    if summary is None:
        summary = _verify_html(content)
        media_type = "text/html"
    if summary is None:
        raise Invalid(
            _(
                "Expected the result of leaktrace verify: its JSON (--json) or its HTML "
                "report (--report)."
            ),
            field="file",
        )
    attachment = Attachment(
        report_id=report.id,
        filename=safe_filename(filename),
        media_type=media_type,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        summary=summary,
        uploaded_by=principal.user_id,
        uploaded_at=now or utcnow(),
    )
    session.add(attachment)
    session.flush()
    audit.record(
        session,
        principal,
        "report.attach",
        "attachment",
        attachment.id,
        {"report_id": report.id, "sha256": attachment.sha256, "size": attachment.size},
    )
    return attachment


def get(session: Session, principal: Principal, report_id: int, attachment_id: int) -> Attachment:
    """An attachment of a report the principal may read."""
    report = reports.get(session, principal, report_id)
    found = session.scalars(
        sa.select(Attachment).where(
            Attachment.id == attachment_id, Attachment.report_id == report.id
        )
    ).first()
    if found is None:
        raise NotFound(_("No attachment {id} on this report.").format(id=attachment_id))
    audit.record(session, principal, "attachment.read", "attachment", found.id, {})
    return found
