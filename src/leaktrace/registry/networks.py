"""The asker's network, as the key process's limits count it: the socket peer's /24 (IPv4) or /48
(IPv6: the smallest block a home or an office is commonly given, so one subscriber is one
network). Behind a reverse proxy every peer is the proxy: list its addresses in
``LEAKTRACE_TRUSTED_PROXIES`` (comma-separated; empty by default, so no header is believed) and
the last address of ``X-Forwarded-For``, the one the proxy itself appended, is used instead when
the peer is one of them.
"""

from __future__ import annotations

import ipaddress
import os

from starlette.requests import Request

#: The environment variable naming the reverse proxies whose ``X-Forwarded-For`` is believed.
TRUSTED_PROXIES_ENV = "LEAKTRACE_TRUSTED_PROXIES"
#: The prefix lengths that make a client network.
IPV4_PREFIX, IPV6_PREFIX = 24, 48
#: The network a person's check counts a peer that is no IP address in (a proxy on a unix
#: socket), so that all such share one limit.
UNKNOWN_NETWORK = "0.0.0.0/0"


def peer_network(request: Request, trusted: frozenset[str] | None = None) -> str | None:
    """The asker's network (``203.0.113.0/24``, ``2001:db8:1::/48``), through the ``trusted``
    proxies (default: ``LEAKTRACE_TRUSTED_PROXIES``); None for a peer that is no IP address."""
    if trusted is None:
        trusted = frozenset(
            p.strip() for p in os.environ.get(TRUSTED_PROXIES_ENV, "").split(",") if p.strip()
        )
    peer = request.client.host if request.client else ""
    if peer in trusted:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        peer = forwarded or peer
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def client_network(request: Request, trusted: frozenset[str] | None = None) -> str:
    """:func:`peer_network`, with :data:`UNKNOWN_NETWORK` for a peer that is no IP address."""
    return peer_network(request, trusted) or UNKNOWN_NETWORK
