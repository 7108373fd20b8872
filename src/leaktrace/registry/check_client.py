"""A person's check in Python: the steps the page's script takes in the browser (blind the
identifier, have the registry evaluate the blinded element, finalize, fetch the bucket, match
there), for scripts, the demo and the tests. Only the blinded element and the bucket number
leave this process."""

from __future__ import annotations

from typing import Any

import httpx

from leaktrace.registry import oprf
from leaktrace.registry.check import entries_of
from leaktrace.registry.identifiers import TAG_BYTES, bucket_of, oprf_input


def person_check(http: httpx.Client, kind: str, value: str) -> tuple[list[dict[str, Any]], bytes]:
    """The known leaks holding ``value`` (a normalised resident ID or mobile), and the blinded
    element that was sent. Raises ``httpx.HTTPStatusError`` when the registry refuses (429:
    the limit)."""
    input_ = oprf_input(kind, value)
    blind, blinded = oprf.blind(input_)
    r = http.post("/api/v1/check/evaluate", json={"blinded": blinded.hex()})
    r.raise_for_status()
    output = oprf.finalize(input_, blind, bytes.fromhex(r.json()["evaluated"]))
    tag = output[:TAG_BYTES]
    bucket = http.get(f"/api/v1/check/buckets/{bucket_of(tag)}")
    bucket.raise_for_status()
    ids = {leak_id for t, leak_id in entries_of(bucket.content) if t == tag}
    known = http.get("/api/v1/check/leaks")
    known.raise_for_status()
    return [leak for leak in known.json()["leaks"] if leak["id"] in ids], blinded
