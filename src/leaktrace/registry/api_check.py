"""A person's own check, anonymous: the ``/check`` page, the evaluation of one blinded element
(class ``person``, limited per client network and by the global daily budget in the key
process), a bucket's padded entries and the public list of leaks. No route takes or returns the
identifier or its keyed value: the browser blinds, finalizes and matches.

The client network is the socket peer's /24 (IPv4) or /48 (IPv6: the smallest block a home or
an office is commonly given, so one subscriber is one network). Behind a reverse proxy every
peer is the proxy: list its addresses in ``LEAKTRACE_TRUSTED_PROXIES`` (comma-separated; empty
by default, so no header is believed) and the last address of ``X-Forwarded-For``, the one the
proxy itself appended, is used instead when the peer is one of them.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from leaktrace.pii import KINDS as PII_KINDS
from leaktrace.registry import oprf
from leaktrace.registry.api_leaks import _KEY_PROBLEMS, _key_refusal, _refused, key_client
from leaktrace.registry.check import BucketStore, Generation
from leaktrace.registry.identifiers import BUCKET_BITS
from leaktrace.registry.keyd_client import KeyServiceError
from leaktrace.registry.limits import Caller
from leaktrace.registry.page_render import render
from leaktrace.registry.service import registry
from leaktrace.report import breach_words
from leaktrace.report.scan_words import kind_label

#: The environment variable naming the reverse proxies whose ``X-Forwarded-For`` is believed.
TRUSTED_PROXIES_ENV = "LEAKTRACE_TRUSTED_PROXIES"
#: Seconds a bucket or the leaks' list may be reused by a browser or a cache without asking.
MAX_AGE = 300
#: The prefix lengths that make a client network.
IPV4_PREFIX, IPV6_PREFIX = 24, 48
#: The network of every peer that is no IP address.
UNKNOWN_NETWORK = "0.0.0.0/0"

router = APIRouter()


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    blinded: str = Field(pattern=f"^[0-9a-f]{{{oprf.ELEMENT_BYTES * 2}}}$")


class EvaluateOut(BaseModel):
    evaluated: str


def client_network(request: Request, trusted: frozenset[str] | None = None) -> str:
    """The asker's network (``203.0.113.0/24``, ``2001:db8:1::/48``); :data:`UNKNOWN_NETWORK`
    for a peer that is no IP address (a proxy on a unix socket), so that all such share one
    limit."""
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
        return UNKNOWN_NETWORK
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def bucket_store(request: Request) -> BucketStore:
    """The service's store of padded buckets (made on first use, one per process)."""
    store = getattr(request.app.state, "check_store", None)
    if store is None:
        store = request.app.state.check_store = BucketStore(registry(request).engine)
    return store


def _cacheable(
    request: Request, generation: Generation, content: bytes, media_type: str
) -> Response:
    """``content`` with its generation's ETag, public caching, and 304 when the asker has it."""
    headers = {"ETag": generation.etag, "Cache-Control": f"public, max-age={MAX_AGE}"}
    asked = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if generation.etag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


@router.post(
    "/api/v1/check/evaluate",
    tags=["check"],
    response_model=EvaluateOut,
    responses=_KEY_PROBLEMS,
)
def evaluate(request: Request, data: EvaluateIn) -> Any:
    """Evaluate one blinded element for a person's check (anonymous; limited per network and by
    the day's budget: 429 with Retry-After when refused)."""
    caller = Caller("person", None, client_network(request))
    try:
        [evaluated] = key_client(request).evaluate([bytes.fromhex(data.blinded)], caller)
    except KeyServiceError as e:
        return _refused(request, _key_refusal(e))
    return {"evaluated": evaluated.hex()}


@router.get(
    "/api/v1/check/buckets/{bucket}",
    tags=["check"],
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}},
)
def bucket(request: Request, bucket: Annotated[int, Path(ge=0, lt=1 << BUCKET_BITS)]) -> Response:
    """One bucket's entries (16-byte tag, 4-byte leak id), padded with random ones to the size
    every bucket has; cacheable."""
    generation, blob = bucket_store(request).bucket(bucket)
    return _cacheable(request, generation, blob, "application/octet-stream")


@router.get("/api/v1/check/leaks", tags=["check"])
def check_leaks(request: Request) -> Response:
    """The known leaks as a check names them: id, when first seen, the kind of institution
    claimed, the kinds of data; never their data. Cacheable."""
    generation, found = bucket_store(request).leaks()
    body = JSONResponse({"leaks": found}).body
    return _cacheable(request, generation, bytes(body), "application/json")


def check_words() -> dict[str, Any]:
    """The words the page's script shows, in the language in use: kinds of institution, kinds
    of data."""
    return {
        "sectors": {
            code: breach_words.word(breach_words.SECTORS, code) for code in breach_words.SECTORS
        },
        "kinds": {name: kind_label(name) for name in PII_KINDS},
        "not_stated": breach_words.not_stated(),
    }


@router.get("/check", include_in_schema=False)
def check_page(request: Request) -> Response:
    """The page of a person's check, for anyone."""
    return render(request, "check.html", words=check_words)
