"""Organisations, users, API keys and webhooks: made from the command line (the operator) or by an
organisation's own admin through the API, always within that organisation.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry import audit, credentials, webhooks
from leaktrace.registry.errors import Conflict, Invalid, NotFound, Refused, one_of
from leaktrace.registry.models import (
    AUTHORITIES,
    ORG_KINDS,
    SECTORS,
    ApiKey,
    Delivery,
    DeliveryAttempt,
    Organisation,
    User,
    Webhook,
    utcnow,
)
from leaktrace.registry.policy import Principal

#: Roles each kind of organisation may give.
ROLES_OF = {
    "institution": ("viewer", "reporter", "admin"),
    "regulator": ("viewer", "reviewer", "admin"),
}


def _admin_of(principal: Principal | None, org_id: int) -> None:
    """The command line may act on any organisation; an API principal only as its own admin."""
    if principal is None:
        return
    if not principal.may("org.manage"):
        raise Refused(_("Your role may not do this."))
    if principal.org_id != org_id:
        raise NotFound(_("No such organisation."))


def create_org(
    session: Session,
    name: str,
    kind: str,
    sector: str | None = None,
    authority: str | None = None,
    cii: bool = False,
    central_body: bool = False,
) -> Organisation:
    """A new institution (with its sector) or regulator (with the authority it speaks for)."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid(_("A name needs 1 to 200 characters."), field="name")
    one_of("kind", kind, ORG_KINDS)
    if kind == "institution":
        one_of("sector", sector or "", SECTORS)
    else:
        one_of("authority", authority or "", AUTHORITIES)
    if session.scalar(sa.select(Organisation.id).where(Organisation.name == name)):
        raise Conflict(_("An organisation of that name exists."))
    org = Organisation(
        name=name,
        kind=kind,
        sector=sector if kind == "institution" else None,
        authority=authority if kind == "regulator" else None,
        cii=cii,
        central_body=central_body,
    )
    session.add(org)
    session.flush()
    audit.record(session, None, "org.create", "organisation", org.id, {"kind": kind})
    return org


def org_by_name(session: Session, name: str) -> Organisation:
    org = session.scalars(sa.select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        raise NotFound(_("No such organisation."))
    return org


def _check_role(org: Organisation, role: str) -> None:
    one_of("role", role, ROLES_OF[org.kind])


def create_user(
    session: Session,
    principal: Principal | None,
    org_id: int,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
) -> User:
    """A new user of ``org_id`` with an Argon2id-hashed password."""
    _admin_of(principal, org_id)
    org = session.get_one(Organisation, org_id)
    _check_role(org, role)
    if session.scalar(sa.select(User.id).where(User.username == username)):
        raise Conflict(_("That user name is taken."))
    try:
        password_hash = credentials.hash_password(password)
    except ValueError:
        raise Invalid(
            _("A password needs at least {n} characters.").format(n=credentials.MIN_PASSWORD),
            field="password",
        ) from None
    user = User(
        org_id=org.id,
        username=username,
        display_name=display_name,
        password_hash=password_hash,
        role=role,
    )
    session.add(user)
    session.flush()
    audit.record(session, principal, "user.create", "user", user.id, {"role": role})
    return user


def users(session: Session, principal: Principal) -> list[User]:
    _admin_of(principal, principal.org_id)
    return list(
        session.scalars(sa.select(User).where(User.org_id == principal.org_id).order_by(User.id))
    )


def create_key(
    session: Session, principal: Principal | None, org_id: int, name: str, role: str
) -> tuple[ApiKey, str]:
    """A new API key of ``org_id``: the row, and the key itself (shown once, never stored)."""
    _admin_of(principal, org_id)
    org = session.get_one(Organisation, org_id)
    _check_role(org, role)
    made = credentials.new_api_key()
    key = ApiKey(
        org_id=org.id,
        name=name.strip()[:200] or "key",
        prefix=made.prefix,
        secret_hash=made.secret_hash,
        role=role,
        created_by=principal.user_id if principal else None,
    )
    session.add(key)
    session.flush()
    audit.record(session, principal, "key.create", "api_key", key.id, {"role": role})
    return key, made.key


def keys(session: Session, principal: Principal) -> list[ApiKey]:
    _admin_of(principal, principal.org_id)
    return list(
        session.scalars(
            sa.select(ApiKey).where(ApiKey.org_id == principal.org_id).order_by(ApiKey.id)
        )
    )


def revoke_key(session: Session, principal: Principal, key_id: int) -> ApiKey:
    """Revoke a key of the principal's organisation: another's is absent (404) to every role,
    like a report; the role is checked on the principal's own keys."""
    key = session.scalars(
        sa.select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == principal.org_id)
    ).first()
    if key is None:
        raise NotFound(_("No such key."))
    _admin_of(principal, principal.org_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(session, principal, "key.revoke", "api_key", key.id, {})
    return key


def create_webhook(
    session: Session, principal: Principal, url: str, events: list[str]
) -> tuple[Webhook, str]:
    """A webhook of the principal's organisation: the row, and its signing secret (shown once)."""
    _admin_of(principal, principal.org_id)
    try:
        url = webhooks.check_url(url, webhooks.allow_private_from_env())
    except ValueError as e:
        raise Invalid(str(e), field="url") from None
    secret = webhooks.new_secret()
    hook = Webhook(org_id=principal.org_id, url=url, secret=secret, events=sorted(set(events)))
    session.add(hook)
    session.flush()
    audit.record(session, principal, "webhook.create", "webhook", hook.id, {"events": hook.events})
    return hook, secret


def _webhook(session: Session, principal: Principal, webhook_id: int) -> Webhook:
    """A webhook of the principal's organisation (another's is absent to every role)."""
    hook = session.scalars(
        sa.select(Webhook).where(Webhook.id == webhook_id, Webhook.org_id == principal.org_id)
    ).first()
    if hook is None:
        raise NotFound(_("No such webhook."))
    _admin_of(principal, principal.org_id)
    return hook


def webhooks_of(session: Session, principal: Principal) -> list[Webhook]:
    _admin_of(principal, principal.org_id)
    return list(
        session.scalars(
            sa.select(Webhook).where(Webhook.org_id == principal.org_id).order_by(Webhook.id)
        )
    )


def disable_webhook(session: Session, principal: Principal, webhook_id: int) -> Webhook:
    hook = _webhook(session, principal, webhook_id)
    if hook.active:
        hook.active = False
        audit.record(session, principal, "webhook.disable", "webhook", hook.id, {})
    return hook


def deliveries(
    session: Session, principal: Principal, webhook_id: int
) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    """A webhook's delivery log, newest first, with every attempt."""
    hook = _webhook(session, principal, webhook_id)
    found = list(
        session.scalars(
            sa.select(Delivery)
            .where(Delivery.webhook_id == hook.id)
            .order_by(Delivery.id.desc())
            .limit(200)
        )
    )
    attempts: dict[int, list[DeliveryAttempt]] = {d.id: [] for d in found}
    for a in session.scalars(
        sa.select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(attempts))
        .order_by(DeliveryAttempt.id)
    ):
        attempts[a.delivery_id].append(a)
    return [(d, attempts[d.id]) for d in found]
