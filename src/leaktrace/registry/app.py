"""The registry's web application: the JSON API, the pages, their errors and their guards.

``create_app(url)`` builds it on a migrated database. Every response carries a strict Content
Security Policy; request bodies larger than :data:`MAX_BODY` are refused before they are read;
each request speaks the asker's language (``?lang=``, a cookie, or Accept-Language).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leaktrace import __version__, i18n
from leaktrace.registry import api, api_check, api_leaks, db, links, pages, problems
from leaktrace.registry.page_render import STATIC, page_error
from leaktrace.registry.service import Registry, language

#: The largest request body accepted: an attachment's limit plus room for the form around it.
MAX_BODY = 21 * 1024 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class BodyLimit:
    """Refuses a body over ``limit`` bytes (413), by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        seen = 0
        refused = started = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                refused = True
                raise _TooLarge
            return message

        async def sent(message: Message) -> None:
            nonlocal started
            if not refused:  # once refused, what the app makes of the cut body is not sent
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counted, sent)
        except _TooLarge:
            pass
        if refused and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        with i18n.using("en"):
            response = problems.problem(
                413,
                "too_large",
                i18n._("The request is too large ({mb} MB at most).").format(
                    mb=self.limit // 2**20
                ),
                scope.get("path", ""),
            )
        await response(scope, _no_receive, send)


class _TooLarge(Exception):
    pass


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def create_app(
    url: str | None = None,
    *,
    engine: sa.Engine | None = None,
    migrate: bool = True,
    clock: Callable[[], Any] | None = None,
) -> FastAPI:
    """The application on ``url`` (or ``engine``), migrated to the newest schema first."""
    engine = engine or db.make_engine(url)
    if migrate:
        db.upgrade(engine)
    app = FastAPI(
        title="leaktrace registry",
        version=__version__,
        description="Breach reports on the regulator's clock: organisations, roles, audit.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI loads its script from a CDN, which the CSP forbids
        redoc_url=None,
    )
    app.state.registry = Registry(engine) if clock is None else Registry(engine, clock)

    def spec() -> dict[str, Any]:
        """FastAPI's spec of the routes, with the links between operations."""
        if app.openapi_schema is None:
            app.openapi_schema = links.add_links(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = spec  # type: ignore[method-assign]
    problems.install(app, page_error=page_error)
    app.include_router(api.router)
    app.include_router(api_leaks.router)
    app.include_router(api_check.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def _speak_and_guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        with i18n.using(language(request)):
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(api_check.FastPath, headers=SECURITY_HEADERS)
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    return app
