"""Who is asking: an API key (``Authorization: Bearer lt_…``) or a signed-in browser (a session
cookie, with its CSRF token on every request that changes something). Signing in and out.
"""

from __future__ import annotations

import datetime as dt
import functools

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry import audit, credentials
from leaktrace.registry.errors import Refused, Unauthenticated
from leaktrace.registry.models import ApiKey, Organisation, User, WebSession, utcnow
from leaktrace.registry.policy import Principal

SESSION_COOKIE = "lt_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
#: Methods that change nothing, and so need no CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@functools.cache
def _dummy_hash() -> str:
    """Checked against when a user name is unknown, so that both cases take an Argon2
    verification (made at the first sign-in, not at import)."""
    return credentials.hash_password("leaktrace-no-such-user")


def _principal(org: Organisation, role: str, via: str, **who: object) -> Principal:
    return Principal(org_id=org.id, org_kind=org.kind, role=role, via=via, **who)  # type: ignore[arg-type]


def from_api_key(session: Session, key: str, now: dt.datetime) -> Principal:
    """The principal of a key as given; Unauthenticated when it is malformed, unknown or revoked."""
    parts = credentials.split_api_key(key)
    row = None
    if parts is not None:
        row = session.scalars(sa.select(ApiKey).where(ApiKey.prefix == parts[0])).first()
    if (
        parts is None
        or row is None
        or row.revoked_at is not None
        or not credentials.same(row.secret_hash, credentials.digest(parts[1]))
    ):
        raise Unauthenticated(_("The API key is not valid."))
    row.last_used_at = now
    org = session.get_one(Organisation, row.org_id)
    return _principal(org, row.role, "api_key", key_id=row.id, name=row.name)


def from_session(session: Session, token: str, now: dt.datetime) -> tuple[Principal, WebSession]:
    """The principal of a session cookie; Unauthenticated when it is unknown, ended or expired."""
    row = session.scalars(
        sa.select(WebSession).where(WebSession.token_hash == credentials.digest(token))
    ).first()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        raise Unauthenticated(_("Please sign in."))
    user = session.get_one(User, row.user_id)
    if not user.active:
        raise Unauthenticated(_("Please sign in."))
    org = session.get_one(Organisation, user.org_id)
    return _principal(org, user.role, "session", user_id=user.id, name=user.username), row


def check_csrf(row: WebSession, given: str | None) -> None:
    """A session's unsafe request must carry its CSRF token (header or form field)."""
    if not given or not credentials.same(row.csrf_token, given):
        raise Refused(_("The form has expired or did not come from this site; reload and retry."))


def sign_in(
    session: Session, username: str, password: str, now: dt.datetime | None = None
) -> tuple[WebSession, str] | None:
    """A new session for a user whose password matches: the row and the cookie's token. None
    when refused; the refusal is in the audit log once the caller commits."""
    now = now or utcnow()
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    ok = credentials.check_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or not user.active:
        audit.record(
            session, None, "session.refused", "user", user.id if user else None, {}, via="web"
        )
        return None
    token = credentials.new_token()
    row = WebSession(
        token_hash=credentials.digest(token),
        user_id=user.id,
        csrf_token=credentials.new_token(),
        created_at=now,
        expires_at=now + credentials.SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    org = session.get_one(Organisation, user.org_id)
    principal = _principal(org, user.role, "session", user_id=user.id, name=user.username)
    audit.record(session, principal, "session.start", "user", user.id, {})
    return row, token


def sign_out(session: Session, principal: Principal, row: WebSession) -> None:
    row.ended_at = utcnow()
    audit.record(session, principal, "session.end", "user", principal.user_id, {})
