"""What every request of the service shares: the database, the clock, the asker and the
language. Each request's work runs in one transaction that commits before the response leaves,
so that whatever a response or a webhook announces can already be read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.orm import Session

from leaktrace import i18n
from leaktrace.registry import auth, db
from leaktrace.registry.errors import Unauthenticated
from leaktrace.registry.models import WebSession, utcnow
from leaktrace.registry.policy import Principal

LANG_COOKIE = "lt_lang"


@dataclass
class Registry:
    """The running service's state: its engine and how it tells the time (tests set ``clock``)."""

    engine: sa.Engine
    clock: object = field(default=utcnow)
    secure_cookies: bool = False

    def now(self) -> dt.datetime:
        return self.clock()  # type: ignore[operator]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with db.transaction(self.engine) as session:
            yield session


def registry(request: Request) -> Registry:
    return request.app.state.registry


def language(request: Request) -> str:
    """``?lang=``, else the language cookie, else Accept-Language (Chinese first), else English."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in i18n.LANGS:
            return candidate
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


@dataclass(frozen=True)
class Asker:
    """The principal of a request and, for a browser, its session row."""

    principal: Principal
    web_session: WebSession | None = None


def identify(request: Request, *, check_csrf: bool = True) -> Asker:
    """The asker of ``request``: a Bearer API key or a session cookie; Unauthenticated otherwise.
    A session's unsafe request must carry its CSRF token in a header (pages, whose forms carry it
    as a field, check it themselves and pass ``check_csrf=False``)."""
    reg = registry(request)
    header = request.headers.get("authorization", "")
    with reg.transaction() as session:
        if header:
            scheme, _sep, key = header.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise Unauthenticated(i18n._("The API key is not valid."))
            return Asker(auth.from_api_key(session, key.strip(), reg.now()))
        token = request.cookies.get(auth.SESSION_COOKIE)
        if not token:
            raise Unauthenticated(i18n._("Please sign in."))
        principal, row = auth.from_session(session, token, reg.now())
    if check_csrf and request.method not in auth.SAFE_METHODS:
        auth.check_csrf(row, request.headers.get(auth.CSRF_HEADER))
    return Asker(principal, row)


def api_asker(request: Request) -> Asker:
    """The asker of an API request: the routes' dependency. Its one parameter is the request, so
    the CSRF check is no query parameter (``?check_csrf=false``) a forged request could turn off."""
    return identify(request)
