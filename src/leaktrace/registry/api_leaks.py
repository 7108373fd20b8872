"""The API of keyed identifiers: leaks (ingested by the operator, a regulator's admin key), an
institution's enrolment (its blinded elements evaluated within its quota, its tags stored), and
its alerts with their matched tags. No route takes or returns an identifier: elements are
blinded, tags are keyed.

A leak sent to ``POST /leaks`` is held in memory only (an anonymous memory file the scan reads),
never in a temporary file; it is limited by the service's body limit. Larger leaks go through
``leaktrace registry ingest`` on the registry's machine.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from leaktrace.errors import InputError
from leaktrace.i18n import _
from leaktrace.registry import alerts, enrolments, leaks, oprf, problems
from leaktrace.registry.api import AskerDep, Id
from leaktrace.registry.errors import Invalid
from leaktrace.registry.keyd_client import (
    BatchTooLarge,
    InvalidElement,
    KeyClient,
    KeyServiceError,
    TryLater,
)
from leaktrace.registry.limits import Caller
from leaktrace.registry.models import Leak
from leaktrace.registry.networks import peer_network
from leaktrace.registry.reports import require
from leaktrace.registry.service import Asker, registry

#: Elements per evaluation request and tags per enrolment request.
MAX_ELEMENTS = 10_000
_ELEMENT_HEX = oprf.ELEMENT_BYTES * 2

_KEY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": title,
        "content": {problems.MEDIA_TYPE: {"schema": problems.PROBLEM_SCHEMA}},
    }
    for status, title in ((429, "Too many requests"), (503, "Key process unavailable"))
}
router = APIRouter(prefix="/api/v1", responses=problems.RESPONSES)


@dataclass(frozen=True)
class KeyRefused:
    """How the API answers a key process's refusal: status, code, detail, and when to retry."""

    status: int
    code: str
    detail: str
    retry_after: float | None


def _key_refusal(e: KeyServiceError) -> KeyRefused:
    """A key process's refusal as the API answers it."""
    if isinstance(e, TryLater):
        return KeyRefused(429, "rate_limited", str(e), e.retry_after)
    if isinstance(e, InvalidElement | BatchTooLarge):
        return KeyRefused(422, "invalid", str(e), None)
    return KeyRefused(503, "key_unavailable", _("The key process is not available."), None)


def key_client(request: Request) -> KeyClient:
    """The service's client of the key process (``app.state.keys``, else ``LEAKTRACE_KEYD``)."""
    keys = getattr(request.app.state, "keys", None)
    if keys is None:
        keys = request.app.state.keys = KeyClient.from_env()
    return keys


def _refused(request: Request, e: KeyRefused) -> JSONResponse:
    response = problems.problem(
        e.status, e.code, e.detail, getattr(request.scope.get("route"), "path", "")
    )
    if e.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(e.retry_after)))
    return response


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    elements: list[Annotated[str, Field(pattern=f"^[0-9a-f]{{{_ELEMENT_HEX}}}$")]] = Field(
        min_length=1, max_length=MAX_ELEMENTS
    )


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bucket: int = Field(ge=0, le=65535)
    tag: str = Field(pattern="^[0-9a-f]{32}$")


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[TagIn] = Field(max_length=MAX_ELEMENTS)
    replace: bool = False
    final: bool = False


@router.post(
    "/leaks",
    tags=["leaks"],
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
    responses=_KEY_PROBLEMS,
)
async def ingest_leak(
    request: Request,
    asker: AskerDep,
    source: Annotated[str, Query(min_length=1, max_length=200)],
    first_seen: dt.datetime | None = None,
    claimed_org: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> JSONResponse:
    """Ingest a leak (its file as the body): scanned in memory, its identifiers keyed and stored
    as tags only, then matched against every enrolment (the operator: a regulator's admin)."""
    require(asker.principal, "leak.ingest")
    if first_seen is not None and first_seen.tzinfo is None:
        raise Invalid(_("Give the time with its zone."), field="first_seen")
    content = await request.body()
    reg = registry(request)
    info = leaks.LeakInfo(
        leaks.check_source(source),
        first_seen or reg.now(),
        claimed_org,
    )
    try:
        keys = key_client(request)
        done = await run_in_threadpool(_ingest_bytes, reg.engine, content, info, keys, asker)
    except KeyServiceError as e:
        return _refused(request, _key_refusal(e))
    with reg.transaction() as session:
        body = leaks.view(session.get_one(Leak, done.leak_id))
    body["alerts"] = len(done.alerts)
    return JSONResponse(body, status_code=201, headers={"Location": "/api/v1/leaks"})


def _ingest_bytes(
    engine: sa.Engine, content: bytes, info: leaks.LeakInfo, keys: KeyClient, asker: Asker
) -> leaks.Ingested:
    """Ingest ``content`` from an anonymous memory file (never on disk)."""
    fd = os.memfd_create("leak")
    try:
        os.write(fd, content)
        path = Path(f"/proc/self/fd/{fd}")
        try:
            return leaks.ingest(engine, [path], info, keys, principal=asker.principal)
        except InputError as e:
            raise Invalid(str(e).replace(str(path), "body"), field="body") from None
    finally:
        os.close(fd)


@router.get("/leaks", tags=["leaks"])
def list_leaks(request: Request, asker: AskerDep) -> dict[str, Any]:
    """The leaks the asker may see (a regulator every one, an institution those that matched
    it): metadata only."""
    with registry(request).transaction() as session:
        found = session.scalars(leaks.visible_leaks(asker.principal).order_by(Leak.id.desc()))
        return {"items": [leaks.view(leak) for leak in found]}


@router.post("/enrol/evaluate", tags=["enrolment"], responses=_KEY_PROBLEMS)
def enrol_evaluate(request: Request, asker: AskerDep, data: EvaluateIn) -> Any:
    """Evaluate an institution's blinded elements with the key, charged to its quota (two per
    declared customer): the registry sees blinded elements only."""
    reg = registry(request)
    n = len(data.elements)
    with reg.transaction() as session:
        left = enrolments.charge(session, asker.principal, n, reg.now())
    caller = Caller("institution", asker.principal.key_id, peer_network(request))
    try:
        evaluated = key_client(request).evaluate([bytes.fromhex(e) for e in data.elements], caller)
    except KeyServiceError as e:
        with reg.transaction() as session:
            enrolments.refund(session, asker.principal, n)
        return _refused(request, _key_refusal(e))
    return {"elements": [e.hex() for e in evaluated], "remaining": left}


@router.post("/enrol/tags", tags=["enrolment"])
def enrol_tags(request: Request, asker: AskerDep, data: TagsIn) -> dict[str, Any]:
    """Enrol (bucket, tag) pairs of the institution's customers (``replace``: drop its earlier
    ones first; ``final``: the last batch, after which the enrolment is matched against the
    leaks already stored); how many it has enrolled, and the alerts that raised."""
    tags = [(t.bucket, bytes.fromhex(t.tag)) for t in data.tags]
    with registry(request).transaction() as session:
        total, raised = enrolments.enrol_tags(
            session, asker.principal, tags, data.replace, data.final
        )
    return {"enrolled": total, "alerts": raised}


@router.get("/alerts", tags=["alerts"])
def list_alerts(request: Request, asker: AskerDep) -> dict[str, Any]:
    """The asker's institution's alerts: which leak, how many of its customers, when."""
    with registry(request).transaction() as session:
        found = alerts.alerts_of(session, asker.principal)
        known = {
            leak.id: leak
            for leak in session.scalars(
                sa.select(Leak).where(Leak.id.in_({a.leak_id for a in found}))
            )
        }
        return {"items": [alerts.view(a, known[a.leak_id]) for a in found]}


@router.get("/alerts/{alert_id}/matches", tags=["alerts"])
def alert_matches(request: Request, asker: AskerDep, alert_id: Id) -> dict[str, Any]:
    """One alert's matched tags (keyed: only the institution's own map names the customers)."""
    reg = registry(request)
    with reg.transaction() as session:
        tags = alerts.alert_tags(session, asker.principal, alert_id, reg.now())
    return {"alert_id": alert_id, "tags": [t.hex() for t in tags]}
