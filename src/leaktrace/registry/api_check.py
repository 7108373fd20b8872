"""A person's own check, anonymous: the ``/check`` page, the evaluation of one blinded element
(class ``person``, limited per client network and by the global daily budget in the key
process), a bucket's padded entries and the public list of leaks. No route takes or returns the
identifier or its keyed value: the browser blinds, finalizes and matches. The client network is
:func:`leaktrace.registry.networks.client_network`'s.
"""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leaktrace.pii import KINDS as PII_KINDS
from leaktrace.registry import oprf, problems
from leaktrace.registry.api_leaks import _KEY_PROBLEMS, _key_refusal, _refused, key_client
from leaktrace.registry.check import BucketStore, Generation
from leaktrace.registry.identifiers import BUCKET_BITS
from leaktrace.registry.keyd_client import KeyServiceError
from leaktrace.registry.limits import Caller
from leaktrace.registry.networks import client_network
from leaktrace.registry.page_render import render
from leaktrace.registry.service import registry
from leaktrace.report import breach_words
from leaktrace.report.scan_words import kind_label

#: Seconds a bucket or the leaks' list may be reused by a browser or a cache without asking.
MAX_AGE = 300
#: The two routes every check calls, which :class:`FastPath` answers.
EVALUATE_PATH = "/api/v1/check/evaluate"
BUCKETS_PATH = "/api/v1/check/buckets/"
#: Threads of the fast path's round trips, per process.
FAST_THREADS = 16
#: The largest evaluation body the fast path reads (a well-formed one is 80 bytes).
_FAST_BODY = 1024
_BLINDED = re.compile(f"[0-9a-f]{{{oprf.ELEMENT_BYTES * 2}}}")

router = APIRouter(responses=problems.RESPONSES)
T = TypeVar("T")


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    blinded: str = Field(pattern=f"^{_BLINDED.pattern}$")


class EvaluateOut(BaseModel):
    evaluated: str


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
    headers = _cache_headers(generation)
    asked = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if generation.etag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


def _evaluate(request: Request, blinded: str) -> str:
    """The evaluated element of ``blinded`` (hex), for the asker's network."""
    caller = Caller("person", None, client_network(request))
    [evaluated] = key_client(request).evaluate([bytes.fromhex(blinded)], caller)
    return evaluated.hex()


@router.post(
    EVALUATE_PATH,
    tags=["check"],
    response_model=EvaluateOut,
    responses=_KEY_PROBLEMS,
)
def evaluate(request: Request, data: EvaluateIn) -> Any:
    """Evaluate one blinded element for a person's check (anonymous; limited per network and by
    the day's budget: 429 with Retry-After when refused)."""
    try:
        return {"evaluated": _evaluate(request, data.blinded)}
    except KeyServiceError as e:
        return _refused(request, _key_refusal(e))


@router.get(
    BUCKETS_PATH + "{bucket}",
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


class FastPath:
    """The two requests of every check, evaluate and bucket, answered in plain ASGI ahead of the
    framework, whose routing, validation and middleware cost more than the work itself. Only a
    well-formed request is answered here, with the same body and headers (``headers``: the
    service's security headers) as the routes above; anything else goes on to the application,
    which answers it as it answers any request: a conditional bucket request, a malformed
    evaluation, and one the key process refused (it evaluated nothing; the route asks again and
    says why)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        # its own threads for the key process's and the database's round trips: the event
        # loop's executor hands over for a fraction of what anyio's thread pool costs
        self._threads = ThreadPoolExecutor(FAST_THREADS, thread_name_prefix="leaktrace-check")
        weakref.finalize(self, self._threads.shutdown, wait=False)  # its threads end with it

    async def _in_thread(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, call, *args)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            if method == "GET" and path.startswith(BUCKETS_PATH):
                if await self._bucket(scope, send, path[len(BUCKETS_PATH) :]):
                    return
            elif method == "POST" and path == EVALUATE_PATH and _json(scope):
                receive = await self._evaluate(scope, receive, send)
                if receive is None:
                    return
        await self.app(scope, receive, send)

    async def _bucket(self, scope: Scope, send: Send, number: str) -> bool:
        if not (number.isascii() and number.isdigit() and len(number) <= 5):
            return False
        bucket = int(number)
        if bucket >= 1 << BUCKET_BITS or any(k == b"if-none-match" for k, _v in scope["headers"]):
            return False
        generation, blob = await self._in_thread(bucket_store(Request(scope)).bucket, bucket)
        cache = [(k.lower().encode(), v.encode()) for k, v in _cache_headers(generation).items()]
        await self._send(send, blob, b"application/octet-stream", cache)
        return True

    async def _evaluate(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answers a well-formed evaluation and returns None; otherwise the receive channel to
        pass on, the body read so far given again."""
        body, more = b"", True
        while more and len(body) <= _FAST_BODY:
            message = await receive()
            if message["type"] != "http.request":
                return _replay([message], receive)
            body += message.get("body", b"")
            more = message.get("more_body", False)
        blinded = _blinded(body) if not more else None
        if blinded is None:
            chunks = [{"type": "http.request", "body": body, "more_body": more}]
            return _replay(chunks, receive)
        try:
            evaluated = await self._in_thread(_evaluate, Request(scope), blinded)
        except KeyServiceError:  # refused: nothing was evaluated; the route says why
            chunks = [{"type": "http.request", "body": body, "more_body": False}]
            return _replay(chunks, receive)
        out = b'{"evaluated":"' + evaluated.encode() + b'"}'
        await self._send(send, out, b"application/json", [])
        return None

    async def _send(
        self, send: Send, body: bytes, media_type: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        own = {k for k, _v in headers}
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", media_type),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                    *((k, v) for k, v in self.headers if k not in own),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _cache_headers(generation: Generation) -> dict[str, str]:
    return {"ETag": generation.etag, "Cache-Control": f"public, max-age={MAX_AGE}"}


def _json(scope: Scope) -> bool:
    """Whether the request says its body is JSON (anything else is the route's to refuse)."""
    types = [v for k, v in scope["headers"] if k == b"content-type"]
    return len(types) == 1 and types[0].split(b";")[0].strip().lower() == b"application/json"


def _blinded(body: bytes) -> str | None:
    """The blinded element of a well-formed evaluation body; None for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.keys() != {"blinded"}:
        return None
    blinded = data["blinded"]
    return blinded if isinstance(blinded, str) and _BLINDED.fullmatch(blinded) else None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive channel giving ``messages`` first, then ``receive``'s."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
