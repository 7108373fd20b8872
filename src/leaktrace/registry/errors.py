"""What the registry's services refuse, as exceptions the API turns into RFC 9457 problems."""

from __future__ import annotations

from leaktrace.i18n import _


class RegistryError(Exception):
    """A refusal with a status, a stable code and a message a person can read."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(RegistryError):
    """Absent, or not visible to the asker: the two are never told apart."""

    status = 404
    code = "not_found"


class Refused(RegistryError):
    """Visible, but the asker's role may not do this."""

    status = 403
    code = "forbidden"


class Unauthenticated(RegistryError):
    status = 401
    code = "unauthenticated"


class Conflict(RegistryError):
    """The object's state does not allow it (e.g. a closed report)."""

    status = 409
    code = "conflict"


class Invalid(RegistryError):
    """The request is well formed but its content is not acceptable."""

    status = 422
    code = "invalid"


def one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``; Invalid naming them otherwise."""
    if value not in allowed:
        raise Invalid(_("Expected one of: {values}.").format(values=", ".join(allowed)), field=name)
    return value
