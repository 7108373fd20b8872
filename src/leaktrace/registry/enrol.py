"""The institution's side of enrolment, run on its own machine: its master read, every resident ID
and mobile blinded here (RFC 9497), the blinded elements evaluated through the registry's API, the
outputs finalized here, and only (bucket, tag) pairs sent back. The map from tag to customer number
stays here, in the Parquet file the user names; :func:`matches` uses it to name the customers an
alert's tags stand for. No identifier, and no keyed value the registry could link to one without
its key, leaves this process.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from leaktrace.errors import InputError, LeaktraceError
from leaktrace.i18n import N_, _
from leaktrace.registry import oprf
from leaktrace.registry.identifiers import KINDS, checked_values, oprf_input, tag_and_bucket
from leaktrace.report.files import atomic_path
from leaktrace.trace.share_input import read_master

#: Elements per request to ``/api/v1/enrol/evaluate`` and tags per ``/api/v1/enrol/tags``.
BATCH = 10_000
#: Seconds to wait for the registry.
TIMEOUT = 120.0
#: The environment variable holding the institution's API key (never a command-line argument).
API_KEY_ENV = "LEAKTRACE_API_KEY"


class RegistryRefused(LeaktraceError):
    """The registry answered with a problem: its status and what it said."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(
            _("the registry refused ({status}): {detail}").format(status=status, detail=detail)
        )
        self.status = status


@dataclass(frozen=True)
class Enrolled:
    """What an enrolment did: customers read, identifiers keyed (per kind), tags the registry
    holds for the institution now, and the map file written."""

    customers: int
    keyed: dict[str, int]
    enrolled: int
    map_path: Path


def api_key_from_env() -> str:
    """The API key in ``LEAKTRACE_API_KEY``; an error saying where to put it when unset."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise LeaktraceError(
            _("set {env} to the institution's API key (it is never taken as an argument)").format(
                env=API_KEY_ENV
            )
        )
    return key


def client(url: str, api_key: str, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An HTTP client of the registry at ``url`` with the institution's key."""
    return httpx.Client(
        base_url=url.rstrip("/"),
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=TIMEOUT,
        transport=transport,
    )


def _call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """The JSON of a successful answer; RegistryRefused with the problem's detail otherwise."""
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as e:
        raise LeaktraceError(
            _("{url}: the registry cannot be reached ({error})").format(
                url=str(http.base_url), error=type(e).__name__
            )
        ) from None
    if response.is_success:
        return response.json()
    try:
        detail = str(response.json().get("detail", ""))
    except ValueError:
        detail = response.reason_phrase
    raise RegistryRefused(response.status_code, detail)


def customer_identifiers(master: str | Path) -> tuple[pl.DataFrame, int]:
    """Every (customer, kind, value) of the master's valid resident IDs and mobiles, normalised,
    and the number of customers read. The master is read in a private temporary directory,
    removed after."""
    with tempfile.TemporaryDirectory(prefix="leaktrace-enrol-") as work:
        read = read_master(master, Path(work))
        frame, customer = read.frame, read.customer_column
        parts = []
        for column, kind in read.roles.items():
            if kind not in KINDS:
                continue
            values, _skipped = checked_values(kind, frame.get_column(column))
            parts.append(
                pl.DataFrame(
                    {"customer": frame.get_column(customer), "kind": kind, "value": values}
                ).drop_nulls("value")
            )
    if not parts:
        raise InputError(
            str(master), N_("a column of resident IDs or mobiles among the master's columns")
        )
    found = pl.concat(parts).unique(maintain_order=True)
    return found, frame.height


def _key_batch(http: httpx.Client, batch: pl.DataFrame) -> list[tuple[int, bytes]]:
    """The (bucket, tag) of each pair of ``batch``: blinded here, evaluated by the registry,
    finalized here."""
    inputs = [oprf_input(k, v) for k, v in batch.iter_rows()]
    blinded = [oprf.blind(i) for i in inputs]
    answer = _call(
        http, "POST", "/api/v1/enrol/evaluate", json={"elements": [b.hex() for _r, b in blinded]}
    )
    evaluated = [bytes.fromhex(e) for e in answer["elements"]]
    if len(evaluated) != len(inputs):
        raise RegistryRefused(502, _("the registry answered a different number of elements"))
    return [
        tag_and_bucket(oprf.finalize(i, r, e))
        for i, (r, _b), e in zip(inputs, blinded, evaluated, strict=True)
    ]


def write_map(path: Path, tags: pl.DataFrame) -> None:
    """The map (tag in hex, customer number) to ``path`` as Parquet, atomically."""
    with atomic_path(path) as tmp:
        tags.write_parquet(tmp)


def enrol(
    master: str | Path,
    http: httpx.Client,
    map_path: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Enrolled:
    """Enrol the master's customers with the registry ``http`` speaks to: each distinct resident
    ID and mobile keyed through the API, its tag uploaded (replacing what the institution had
    enrolled before), and the map of tags to customers written to ``map_path``."""
    found, customers = customer_identifiers(master)
    distinct = found.select("kind", "value").unique(maintain_order=True)
    batches = [distinct.slice(start, BATCH) for start in range(0, distinct.height, BATCH)]
    keyed: list[pl.DataFrame] = []
    done = enrolled = 0
    for i, batch in enumerate(batches):
        pairs = _key_batch(http, batch)
        answer = _call(
            http,
            "POST",
            "/api/v1/enrol/tags",
            json={
                "tags": [{"bucket": b, "tag": t.hex()} for b, t in pairs],
                "replace": i == 0,
                "final": i == len(batches) - 1,
            },
        )
        enrolled = int(answer["enrolled"])
        keyed.append(batch.with_columns(tag=pl.Series([t.hex() for _b, t in pairs])))
        done += batch.height
        if progress:
            progress(done, distinct.height)
    tags = (
        found.join(pl.concat(keyed), on=["kind", "value"], how="inner")
        .select("tag", "customer")
        .unique()
        .sort("tag", "customer")
        if keyed
        else pl.DataFrame(schema={"tag": pl.String, "customer": pl.Int64})
    )
    write_map(map_path, tags)
    counts = distinct.get_column("kind").value_counts()
    return Enrolled(
        customers,
        {k: int(n) for k, n in counts.iter_rows()},
        enrolled,
        map_path,
    )


def matches(http: httpx.Client, map_path: Path) -> list[dict[str, Any]]:
    """Each alert of the institution with the customer numbers its matched tags stand for, read
    from the map ``map_path`` (tags the map does not hold are counted as ``unknown``)."""
    try:
        mapping = pl.read_parquet(map_path, columns=["tag", "customer"])
    except (OSError, pl.exceptions.PolarsError) as e:
        raise InputError(str(map_path), N_("the map written by leaktrace registry enrol")) from e
    out = []
    for alert in _call(http, "GET", "/api/v1/alerts")["items"]:
        got = _call(http, "GET", f"/api/v1/alerts/{alert['id']}/matches")
        tags = pl.DataFrame({"tag": got["tags"]}, schema={"tag": pl.String})
        named = tags.join(mapping, on="tag", how="left")
        customers = named.get_column("customer").drop_nulls().unique().sort().to_list()
        unknown = int(named.filter(pl.col("customer").is_null()).height)
        out.append({**alert, "customers": customers, "unknown": unknown})
    return out
