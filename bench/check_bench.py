"""A person's check under load: ``python -m bench.check_bench [--identifiers N]``.

PostgreSQL on loopback (the tests' throwaway server) holds N keyed identifiers, loaded by binary
COPY with the primary key and index built after; their tags are random 16-byte strings, which is
what OPRF outputs are, so buckets fill as they would (binomial, mean N / 65,536). A key process
with the person limits lifted (one client network sends everything), the registry as it is run
(``leaktrace serve --workers 2`` on that key process), and, from a second process, an asyncio client doing what the page does per
check: blind (done before the clock starts: the browsers' work), POST the blinded element,
finalize, GET the bucket, match. It runs for ``--seconds`` after a warm-up and reports checks
per second, p50/p99 latency of a check, and the key process's evaluations per CPU second; then
the key process alone, fed batches. The result is appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvloop

from bench.results import append_section, header
from leaktrace.registry import db, oprf
from leaktrace.registry.check import ENTRY_BYTES, PACK_BUCKETS
from leaktrace.registry.identifiers import TAG_BYTES, bucket_of, oprf_input, tag_and_bucket
from leaktrace.registry.keyd import new_key, running
from leaktrace.registry.keyd_client import KEYD_ENV, KeyClient
from leaktrace.registry.limits import Caller

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from postgres_server import start_postgres  # noqa: E402  (the tests' helper, not a package)

#: Seconds of load before the clock starts (connections opened, caches and plans warm).
WARM_UP = 10.0
#: Mobiles the load client cycles through, drawn from this seed; the first PLANTED are stored.
POOL, POOL_SEED, PLANTED = 20_000, 5, 1_000
#: Rows per COPY chunk.
CHUNK = 2_000_000
SECTORS = ("bank", "insurer", "lender", "payment", "other")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_ROW = np.dtype(
    [("fields", ">i2"), ("l1", ">i4"), ("bucket", ">i4"), ("l2", ">i4"), ("tag", "V16"),
     ("l3", ">i4"), ("leak", ">i4"), ("l4", ">i4"), ("kind", ">i2")]
)  # fmt: skip


def _rows(rng: np.random.Generator, n: int, leaks: int) -> bytes:
    """``n`` rows of ``leak_identifiers`` in COPY's binary format (no header)."""
    tags = rng.bytes(n * TAG_BYTES)
    raw = np.frombuffer(tags, dtype=np.uint8).reshape(n, TAG_BYTES)
    rows = np.empty(n, dtype=_ROW)
    rows["fields"], rows["l1"], rows["l2"], rows["l3"], rows["l4"] = 4, 4, TAG_BYTES, 4, 2
    rows["bucket"] = raw[:, 0].astype(np.int32) << 8 | raw[:, 1]
    rows["tag"] = np.frombuffer(tags, dtype="V16")
    rows["leak"] = rng.integers(1, leaks + 1, n)
    rows["kind"] = rng.integers(1, 3, n)
    return rows.tobytes()


def load(url: str, n: int, leaks: int, seed: int, planted: bytes = b"") -> dict[str, float]:
    """``leaks`` leaks and ``n`` keyed identifiers among them (random tags, then the COPY rows
    ``planted``), packed per bucket for the checks; seconds taken by each step."""
    import psycopg

    rng = np.random.default_rng(seed)
    times: dict[str, float] = {}
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(1, leaks + 1):
            conn.execute(
                "INSERT INTO leaks (id, source, first_seen_at, claimed_sector, data_kinds, counts,"
                " ingested_by, created_at) VALUES (%s, %s, now() - %s * interval '1 day', %s,"
                " %s, '{}', 'bench', now())",
                (i, f"bench {i}", i * 7, SECTORS[i % len(SECTORS)],
                 '["resident_id", "mobile", "name"]'),
            )  # fmt: skip
        conn.execute("SELECT setval('leaks_id_seq', %s)", (leaks,))
        conn.execute("ALTER TABLE leak_identifiers DROP CONSTRAINT leak_identifiers_pkey")
        conn.execute("DROP INDEX ix_leak_identifiers_leak_id")
        started = time.perf_counter()
        with conn.cursor() as cur:
            statement = (
                "COPY leak_identifiers (bucket, tag, leak_id, kind) FROM STDIN (FORMAT BINARY)"
            )
            with cur.copy(statement) as copy:
                copy.write(_COPY_HEADER)
                for start in range(0, n, CHUNK):
                    copy.write(_rows(rng, min(CHUNK, n - start), leaks))
                copy.write(planted + b"\xff\xff")
        times["copy"] = time.perf_counter() - started
        conn.execute("SET maintenance_work_mem = '2GB'")
        started = time.perf_counter()
        conn.execute("ALTER TABLE leak_identifiers ADD PRIMARY KEY (bucket, tag, leak_id)")
        conn.execute("CREATE INDEX ix_leak_identifiers_leak_id ON leak_identifiers (leak_id)")
        times["index"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SET work_mem = '1GB'")
        conn.execute(PACK_BUCKETS)
        times["pack"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE leak_identifiers")
        conn.execute("VACUUM ANALYZE leak_buckets")
        times["vacuum"] = time.perf_counter() - started
        largest = conn.execute(
            "SELECT max(c) FROM (SELECT sum(entries) c FROM leak_buckets GROUP BY bucket) t"
        ).fetchone()
        times["largest_bucket"] = float(largest[0] if largest else 0)
    return times


def _mobiles(size: int) -> list[str]:
    """The mobiles the load client checks, the first :data:`PLANTED` of them stored."""
    rng = np.random.default_rng(POOL_SEED)
    return [str(n) for n in rng.integers(13_000_000_000, 19_999_999_999, size)]


def _pool(size: int) -> list[tuple[bytes, bytes, bytes]]:
    """(input, blind, blinded element) of :func:`_mobiles`: the browsers' first step."""
    out = []
    for number in _mobiles(size):
        input_ = oprf_input("mobile", number)
        blind, blinded = oprf.blind(input_)
        out.append((input_, blind, blinded))
    return out


def _planted(key: bytes) -> bytes:
    """COPY rows of the keyed values of the first :data:`PLANTED` mobiles checked, in leak 1."""
    tags = [tag_and_bucket(oprf.evaluate(key, oprf_input("mobile", m)))[1] for m in _mobiles(POOL)]
    rows = np.empty(PLANTED, dtype=_ROW)
    rows["fields"], rows["l1"], rows["l2"], rows["l3"], rows["l4"] = 4, 4, TAG_BYTES, 4, 2
    rows["bucket"] = [bucket_of(t) for t in tags[:PLANTED]]
    rows["tag"] = np.frombuffer(b"".join(tags[:PLANTED]), dtype="V16")
    rows["leak"], rows["kind"] = 1, 2
    return rows.tobytes()


def _matches(entries: bytes, tag: bytes) -> int:
    """How many of a bucket's entries carry ``tag`` (found by ``bytes.find``, kept when at an
    entry's start): the browser's match, in C rather than a Python loop over 2,048 entries."""
    found, at = 0, entries.find(tag)
    while at >= 0:
        found += at % ENTRY_BYTES == 0
        at = entries.find(tag, at + 1)
    return found


class _Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator such as wrk: a request
    written whole, the response's head read to its blank line and its body by Content-Length
    (the registry answers every check's request so)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """The status and body of ``method path`` (a JSON ``body`` when given)."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + body)
        try:
            lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            length = next(
                int(v) for k, _c, v in (h.partition(b":") for h in lines[1:])
                if k.lower() == b"content-length"
            )  # fmt: skip
            return int(lines[0].split()[1]), await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, StopIteration, ValueError) as e:
            writer.close()
            self._streams = None
            raise RuntimeError(f"{method} {path.split('/')[4]}: {type(e).__name__}") from e

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()


async def _client(
    base: str, pool: list[tuple[bytes, bytes, bytes]], seconds: float, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counts = {"warm": 0, "hits": 0, "expected": 0}
    lengths: set[int] = set()
    host, port = base.removeprefix("http://").rsplit(":", 1)
    connections = [_Connection(host, int(port)) for _ in range(concurrency)]

    async def one(http: _Connection, index: int) -> float:
        input_, blind, blinded = pool[index]
        started = time.perf_counter()
        body = b'{"blinded":"' + blinded.hex().encode() + b'"}'
        status, answer = await http.request("POST", "/api/v1/check/evaluate", body)
        if status != 200:
            raise RuntimeError(f"evaluate {status}")
        evaluated = json.loads(answer)["evaluated"]
        tag = oprf.finalize(input_, blind, bytes.fromhex(evaluated))[:TAG_BYTES]
        status, entries = await http.request("GET", f"/api/v1/check/buckets/{bucket_of(tag)}")
        if status != 200:
            raise RuntimeError(f"bucket {status}")
        lengths.add(len(entries))
        counts["hits"] += _matches(entries, tag)
        counts["expected"] += index < PLANTED
        return time.perf_counter() - started

    async def worker(k: int, until: float, record: bool) -> None:
        i = k
        while time.perf_counter() < until:
            try:
                took = await one(connections[k], i % len(pool))
            except RuntimeError as e:
                what = f"{type(e).__name__}: {str(e)[:40]}"
                errors[what] = errors.get(what, 0) + 1
            else:
                if record:
                    latencies.append(took)
                else:
                    counts["warm"] += 1
            i += concurrency

    warm = time.perf_counter() + WARM_UP
    await asyncio.gather(*(worker(k, warm, False) for k in range(concurrency)))
    errors.clear()
    started = time.perf_counter()
    await asyncio.gather(*(worker(k, started + seconds, True) for k in range(concurrency)))
    elapsed = time.perf_counter() - started
    for http in connections:
        http.close()
    return {"latencies": latencies, "elapsed": elapsed, "errors": errors,
            "lengths": sorted(lengths), **counts}  # fmt: skip


def _load_process(base: str, seconds: float, concurrency: int, out: Any) -> None:
    pool = _pool(POOL)
    cpu = time.process_time()
    result = uvloop.run(_client(base, pool, seconds, concurrency))
    out.put({**result, "client_cpu": time.process_time() - cpu})


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def key_alone(socket: Path, pid: int, seconds: float = 10.0) -> tuple[float, float]:
    """Evaluations per second and per CPU second of the key process fed batches of 1,000."""
    client = KeyClient(socket)
    elements = [oprf.blind(b"mobile:1380013%04d" % i)[1] for i in range(1000)]
    done, cpu0, started = 0, _cpu_seconds(pid), time.perf_counter()
    while time.perf_counter() - started < seconds:
        client.evaluate(elements, Caller("operator"))
        done += len(elements)
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds(pid) - cpu0
    client.close()
    return done / elapsed, done / cpu


def _free_port() -> int:
    import socket as s

    with s.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(base: str, minutes: float = 20.0) -> None:
    """Returns once eight fresh connections (spread over both workers) are answered within a
    second each: each worker has counted the largest bucket of the current generation."""
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            for bucket in range(8):
                with httpx.Client(base_url=base, timeout=minutes * 60) as client:
                    client.get(f"/api/v1/check/buckets/{bucket}").raise_for_status()
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        if time.perf_counter() - started < 8.0:
            return
    raise RuntimeError("the registry did not become ready")


def _run_load(base: str, seconds: float, concurrency: int) -> dict[str, Any]:
    """One load run from a second process."""
    context = multiprocessing.get_context("spawn")
    out: Any = context.Queue()
    loader = context.Process(target=_load_process, args=(base, seconds, concurrency, out))
    loader.start()
    result = out.get()
    loader.join()
    return result


def _row(concurrency: int, result: dict[str, Any]) -> str:
    lat = np.array(result["latencies"]) * 1000
    p50, p99 = (float(np.percentile(lat, q)) for q in (50, 99)) if len(lat) else (0.0, 0.0)
    return (
        f"| {concurrency} | {len(lat):,} | {len(lat) / result['elapsed']:,.0f} | {p50:.1f} | "
        f"{p99:.1f} | {', '.join(str(n) for n in result['lengths'])} | "
        f"{result['client_cpu']:.0f} | {result['errors'] or 'none'} |"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--identifiers", type=int, default=100_000_000)
    p.add_argument("--leaks", type=int, default=20)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--concurrency", type=int, nargs="+", default=[16, 24, 32])
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    server = start_postgres()
    work = Path(tempfile.mkdtemp(prefix="leaktrace-check-bench-"))
    results: dict[int, dict[str, Any]] = {}
    try:
        url = server.create_database("check_bench").replace(
            "postgresql://", "postgresql+psycopg://"
        )
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        print(f"loading {args.identifiers:,} keyed identifiers", file=sys.stderr)
        key_file, sock = work / "key", work / "keyd.sock"
        new_key(key_file)
        planted = _planted(bytes.fromhex(key_file.read_text().strip()))
        times = load(url, args.identifiers, args.leaks, args.seed, planted)
        print(f"loaded: {times}", file=sys.stderr)
        lifted = ("--person-net-burst", "0", "--person-key-burst", "0",
                  "--person-daily", "1e12", "--operator-daily", "1e12", "--workers", "2")  # fmt: skip
        with running(key_file, sock, *lifted) as keyd:
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            # the service as it is run: serve with two web processes, on this key process
            env = {**os.environ, KEYD_ENV: str(sock)}
            web = subprocess.Popen(
                [str(Path(sys.executable).with_name("leaktrace")), "serve", "--db", url,
                 "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                env=env, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                started = time.perf_counter()
                _ready(base)
                times["ready"] = time.perf_counter() - started
                cpu0 = _cpu_seconds(keyd.pid)
                for concurrency in args.concurrency:
                    results[concurrency] = _run_load(base, args.seconds, concurrency)
                keyd_cpu = _cpu_seconds(keyd.pid) - cpu0
            finally:
                web.terminate()
                web.wait(30)
            alone, alone_per_cpu = key_alone(sock, keyd.pid)
    finally:
        server.stop()
    evaluations = sum(len(r["latencies"]) + r["warm"] for r in results.values())
    hits = sum(r["hits"] for r in results.values())
    expected = sum(r["expected"] for r in results.values())
    section = header("a person's check under load, PostgreSQL on loopback") + (
        f"\n- Stored: {args.identifiers:,} keyed identifiers in {args.leaks} leaks "
        f"(largest bucket {int(times['largest_bucket']):,} entries, so every bucket's answer is "
        f"padded to {', '.join(sorted({str(n) for r in results.values() for n in r['lengths']}))}"
        f" bytes); COPY {times['copy']:.0f} s, primary key and index {times['index']:.0f} s, "
        f"packed per bucket and leak (leak_buckets) {times['pack']:.0f} s, VACUUM ANALYZE {times['vacuum']:.0f} s; the service ready (each worker's count of the "
        f"largest bucket) in {times['ready']:.0f} s.\n"
        f"- Load: one client process (keep-alive HTTP/1.1 on asyncio streams, uvloop), N concurrent checks, each an evaluate and a "
        f"bucket fetch (blinds drawn before the clock starts: the browsers' work), "
        f"{args.seconds:.0f} s after a {WARM_UP:.0f} s warm-up; `leaktrace serve --workers 2` "
        f"(uvicorn, uvloop, httptools), the key process with 2 threads, PostgreSQL and the client on the same 2 "
        f"cores.\n\n"
        f"| N | checks | checks/s | p50 ms | p99 ms | bucket answer bytes | client CPU s | "
        f"errors |\n|---:|---:|---:|---:|---:|---|---:|---|\n"
        + "\n".join(_row(c, r) for c, r in results.items())
        + f"\n\n- Key process under the check load: {keyd_cpu:.1f} CPU s for the "
        f"{evaluations:,} evaluations of the warm-ups and the runs: "
        f"{evaluations / max(keyd_cpu, 1e-9):,.0f} evaluations per CPU second (per core), "
        f"socket and framing of one-element requests included. Checks that found their "
        f"mobile: {hits:,} of the {expected:,} that checked one of the {PLANTED:,} stored "
        f"among the random tags (the same mobile found in more leaks, or a random tag "
        f"matched, would count twice).\n"
        f"- Key process alone (batches of 1,000, one client thread): {alone:,.0f} evaluations/s, "
        f"{alone_per_cpu:,.0f} per CPU second (per core).\n"
    )
    print(section)
    append_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
