"""Webhooks' secrets, signatures and addresses.

A delivery carries ``Leaktrace-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` computed with
the webhook's secret over ``f"{t}."`` followed by the body's bytes: the receiver checks it with
:func:`verify_signature` (or the same few lines of its own, see ``docs/registry-audit.md``) and
refuses old timestamps, so a captured delivery cannot be replayed later. A webhook's address must
be http(s), carry no credentials, and not lead into the service's own network (loopback, private,
link-local and other non-public addresses) unless ``LEAKTRACE_WEBHOOK_ALLOW_PRIVATE=1``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import os
import secrets
import socket
from urllib.parse import urlsplit

from leaktrace.i18n import _

#: The setting that lets webhooks reach private addresses (tests, on-premise receivers).
ALLOW_PRIVATE_ENV = "LEAKTRACE_WEBHOOK_ALLOW_PRIVATE"
#: The signature's header and its scheme's version.
SIGNATURE_HEADER = "Leaktrace-Signature"
SCHEME = "v1"
#: Seconds a signature's timestamp may be away from the receiver's clock.
TOLERANCE = 300


class AddressRefused(ValueError):
    """A webhook address that may not be used; the message says why in words."""


class HostNotFound(AddressRefused):
    """A webhook address whose host does not resolve (now: it may later)."""


def new_secret() -> str:
    """A webhook's signing secret: 32 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(32)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Leaktrace-Signature`` header's value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},{SCHEME}={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: dt.datetime, tolerance: int = TOLERANCE
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance`` seconds
    of ``now``. Several ``v1=`` entries are allowed (one per secret while a secret is rotated);
    a malformed header is simply not valid."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return False
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body).encode("ascii")
    # every entry is compared, so the time taken does not tell which one matched
    matches = [hmac.compare_digest(expected, s.encode("utf-8")) for s in signatures]
    return any(matches)


def allow_private_from_env() -> bool:
    """Whether ``LEAKTRACE_WEBHOOK_ALLOW_PRIVATE`` is set to 1."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip() == "1"


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` resolves to (a literal address is itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise HostNotFound(_("webhook address: its host cannot be resolved")) from None
    found = []
    for *_rest, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        found.append(address)
    return found


def check_url(url: str, allow_private: bool) -> str:
    """``url`` if a webhook may be sent to it; :class:`AddressRefused` saying why not otherwise.

    Every address the host resolves to must be public, unless ``allow_private``: one private
    answer among public ones is enough to refuse, as the connection may pick it.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise AddressRefused(_("webhook address: not a valid URL")) from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused(_("webhook address: must start with http:// or https://"))
    if parts.username is not None or parts.password is not None:
        raise AddressRefused(_("webhook address: must not hold a user name or password"))
    if not parts.hostname:
        raise AddressRefused(_("webhook address: has no host"))
    if allow_private:
        return parts.geturl()
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _addresses(parts.hostname, port)
    if any(not a.is_global or a.is_multicast for a in addresses):
        raise AddressRefused(
            _(
                "webhook address: its host is a loopback, private or link-local address; set "
                "{setting}=1 to allow it"
            ).format(setting=ALLOW_PRIVATE_ENV)
        )
    return parts.geturl()
