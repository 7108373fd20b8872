"""After a full ``make demo`` (the breach report, the bank's enrolment of its 20,000 customers,
the resold list ingested, two people's checks), the registry's SQLite file, the demo's own output
and the temporary folders hold no identifier that went into the registry: neither in plain text
nor as an MD5, SHA-1 or SHA-256 digest in hex or base64 (of the value or of its OPRF input)."""

from __future__ import annotations

import base64
import glob
import hashlib
import io
import re
import tempfile
from pathlib import Path

import polars as pl
from rich.console import Console

from leaktrace import demo


def _forms(value: str) -> set[bytes]:
    out = {value.encode()}
    for message in (value.encode(), f"mobile:{value}".encode(), f"resident_id:{value}".encode()):
        for name in ("md5", "sha1", "sha256"):
            digest = hashlib.new(name, message).digest()
            out |= {digest.hex().encode(), digest.hex().upper().encode()}
            out |= {base64.b64encode(digest), base64.urlsafe_b64encode(digest).rstrip(b"=")}
    return out


def _windows(data: bytes) -> set[bytes]:
    """Every run in ``data`` that could be one of the forms, cut at each length the forms have
    (digits of a mobile or an ID; hex of 32, 40 or 64; base64 of 22 to 44 characters)."""
    out: set[bytes] = set()
    runs = (
        (rb"[0-9Xx]{11,}", (11, 18)),
        (rb"[0-9a-fA-F]{32,}", (32, 40, 64)),
        (rb"[A-Za-z0-9+/_=-]{22,}", (22, 24, 27, 28, 43, 44)),
    )
    for pattern, sizes in runs:
        for m in re.finditer(pattern, data):
            run = m.group()
            for size in sizes:
                out |= {run[i : i + size] for i in range(len(run) - size + 1)}
    return out


def test_after_the_demo_no_identifier_in_the_registry_is_anywhere_it_keeps(
    tmp_path: Path,
) -> None:
    out = tmp_path / "demo-out"
    printed = io.StringIO()
    before = set(glob.glob(f"{tempfile.gettempdir()}/leaktrace-demo-*"))
    demo.run(out, Console(file=printed, width=120))
    customers = pl.read_parquet(
        out / "world" / "customers.parquet", columns=["resident_id", "mobile"]
    )
    leak = pl.read_csv(out / "出售样本.csv", encoding="gbk", infer_schema=False)
    values = set(customers["resident_id"]) | set(customers["mobile"]) | set(leak["证件号码"])
    forbidden = set().union(*(_forms(v) for v in values))
    registry = b"".join(Path(p).read_bytes() for p in glob.glob(f"{out / 'registry.sqlite'}*"))
    assert b"leak_identifiers" in registry and b"enrolled_identifiers" in registry
    assert not _windows(registry) & forbidden
    said = printed.getvalue().encode()
    assert b"known leaks holding it: 1" in said  # the checks ran
    assert not _windows(said) & forbidden
    assert set(glob.glob(f"{tempfile.gettempdir()}/leaktrace-demo-*")) == before  # none left
    # the harness finds what is there: the world's own files hold the identifiers
    world = (out / "world" / "customers.parquet").read_bytes() + (out / "出售样本.csv").read_bytes()
    assert _windows(world) & forbidden
