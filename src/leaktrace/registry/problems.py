"""Errors as RFC 9457 problem details (``application/problem+json``): a stable ``type`` per kind,
a title, the status, a detail a person can read, and the offending field where there is one.
Nothing of the request's content is echoed back: a value may be personal data or an attack.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from leaktrace.i18n import N_, _
from leaktrace.registry.errors import RegistryError

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://leaktrace.invalid/problems/"
log = logging.getLogger("leaktrace.registry")

_TITLES = {
    400: N_("Bad request"),
    401: N_("Sign-in needed"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    415: N_("Unsupported media type"),
    422: N_("Invalid request"),
    500: N_("Server error"),
}
#: Details of the framework's own errors, where the title alone would not say what to do
#: (FastAPI's 400 is a body it could not read; its own text is not a person's).
_DETAILS = {400: N_("The request's body could not be read: send JSON in UTF-8, or a form.")}

#: A problem's shape, as the OpenAPI spec declares it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
            },
        },
    },
}
#: The problems any API route may answer with, for the spec (a server error is never planned).
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": title, "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}
    for status, title in _TITLES.items()
    if status != 500
}


def problem(status: int, code: str, detail: str, instance: str = "", **extra: Any) -> JSONResponse:
    """A problem response."""
    body = {
        "type": TYPE_BASE + code,
        "title": _(_TITLES.get(status, "Error")),
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Where each error is and what was expected; the given values are left out."""
    out = []
    for e in exc.errors()[:20]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        out.append({"field": loc[:200], "problem": str(e.get("msg", ""))[:300]})
    return out


def install(app: FastAPI, page_error: Any = None) -> None:
    """Problem responses for every error of ``app``. ``page_error(request, status, detail)``
    renders errors of pages (paths outside ``/api/``) as HTML, when given."""

    def respond(request: Request, status: int, code: str, detail: str, **extra: Any) -> Any:
        if page_error is not None and not request.url.path.startswith("/api/"):
            return page_error(request, status, detail)
        # the route's template, not the path as sent: a path segment may be the attack itself
        instance = getattr(request.scope.get("route"), "path", "")
        return problem(status, code, detail, instance, **extra)

    @app.exception_handler(RegistryError)
    async def _registry(request: Request, exc: RegistryError) -> Any:
        extra = {"field": exc.field} if exc.field else {}
        return respond(request, exc.status, exc.code, exc.detail, **extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        return respond(
            request,
            422,
            "invalid",
            _("The request does not have the expected shape."),
            errors=_validation_errors(exc),
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Any:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        return respond(
            request,
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            _(_DETAILS.get(exc.status_code) or _TITLES.get(exc.status_code, "Error")),
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Any:
        route = getattr(request.scope.get("route"), "path", "(no route)")  # never the path sent
        log.error("server error on %s %s: %s", request.method, route, type(exc).__name__)
        return respond(request, 500, "server_error", _("Something went wrong on our side."))
