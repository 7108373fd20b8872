"""A person's check under load: ``python -m bench.check_bench [--identifiers N]``.

PostgreSQL on loopback (the tests' throwaway server) holds N keyed identifiers, loaded by binary
COPY with the primary key and index built after; their tags are random 16-byte strings, which is
what OPRF outputs are, so buckets fill as they would (binomial, mean N / 65,536). A key process
with the person limits lifted (one client network sends everything), the registry under uvicorn
with two workers, and, from a second process, an asyncio client doing what the page does per
check: blind (done before the clock starts: the browsers' work), POST the blinded element,
finalize, GET the bucket, match. It runs for ``--seconds`` after a warm-up and reports checks
per second, p50/p99 latency of a check, and the key process's evaluations per CPU second; then
the key process alone, fed batches. The result is appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
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

from bench.results import append_section, header
from leaktrace.registry import db, oprf
from leaktrace.registry.app import create_app
from leaktrace.registry.check import ENTRY_BYTES
from leaktrace.registry.identifiers import TAG_BYTES, bucket_of, oprf_input
from leaktrace.registry.keyd import new_key, running
from leaktrace.registry.keyd_client import KEYD_ENV, KeyClient
from leaktrace.registry.limits import Caller

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from postgres_server import start_postgres  # noqa: E402  (the tests' helper, not a package)

#: The environment variable giving the uvicorn workers the database's URL.
URL_ENV = "LEAKTRACE_BENCH_URL"
#: Rows per COPY chunk.
CHUNK = 2_000_000
SECTORS = ("bank", "insurer", "lender", "payment", "other")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_ROW = np.dtype(
    [("fields", ">i2"), ("l1", ">i4"), ("bucket", ">i4"), ("l2", ">i4"), ("tag", "V16"),
     ("l3", ">i4"), ("leak", ">i4"), ("l4", ">i4"), ("kind", ">i2")]
)  # fmt: skip


def make_app() -> Any:
    """The registry for uvicorn's workers (``--factory``), on the database of :data:`URL_ENV`."""
    return create_app(os.environ[URL_ENV], migrate=False)


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


def load(url: str, n: int, leaks: int, seed: int) -> dict[str, float]:
    """``leaks`` leaks and ``n`` keyed identifiers among them; seconds taken by each step."""
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
                copy.write(b"\xff\xff")
        times["copy"] = time.perf_counter() - started
        conn.execute("SET maintenance_work_mem = '2GB'")
        started = time.perf_counter()
        conn.execute("ALTER TABLE leak_identifiers ADD PRIMARY KEY (bucket, tag, leak_id)")
        conn.execute("CREATE INDEX ix_leak_identifiers_leak_id ON leak_identifiers (leak_id)")
        times["index"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE leak_identifiers")
        times["vacuum"] = time.perf_counter() - started
        largest = conn.execute(
            "SELECT max(c) FROM (SELECT count(*) c FROM leak_identifiers GROUP BY bucket) t"
        ).fetchone()
        times["largest_bucket"] = float(largest[0] if largest else 0)
    return times


def _pool(size: int, seed: int) -> list[tuple[bytes, bytes, bytes]]:
    """(input, blind, blinded element) of ``size`` random mobiles: the browsers' first step."""
    rng = np.random.default_rng(seed)
    out = []
    for number in rng.integers(13_000_000_000, 19_999_999_999, size):
        input_ = oprf_input("mobile", str(number))
        blind, blinded = oprf.blind(input_)
        out.append((input_, blind, blinded))
    return out


async def _client(
    base: str, pool: list[tuple[bytes, bytes, bytes]], seconds: float, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counts = {"warm": 0, "hits": 0}
    lengths: set[int] = set()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one(item: tuple[bytes, bytes, bytes]) -> float:
            input_, blind, blinded = item
            started = time.perf_counter()
            r = await client.post("/api/v1/check/evaluate", json={"blinded": blinded.hex()})
            if r.status_code != 200:
                raise RuntimeError(f"evaluate {r.status_code}")
            tag = oprf.finalize(input_, blind, bytes.fromhex(r.json()["evaluated"]))[:TAG_BYTES]
            b = await client.get(f"/api/v1/check/buckets/{bucket_of(tag)}")
            if b.status_code != 200:
                raise RuntimeError(f"bucket {b.status_code}")
            lengths.add(len(b.content))
            body = b.content
            hits = range(0, len(body), ENTRY_BYTES)
            counts["hits"] += sum(1 for i in hits if body[i : i + TAG_BYTES] == tag)
            return time.perf_counter() - started

        async def worker(k: int, until: float, record: bool) -> None:
            i = k
            while time.perf_counter() < until:
                try:
                    took = await one(pool[i % len(pool)])
                except (RuntimeError, httpx.HTTPError) as e:
                    what = f"{type(e).__name__}: {str(e)[:40]}"
                    errors[what] = errors.get(what, 0) + 1
                else:
                    if record:
                        latencies.append(took)
                    else:
                        counts["warm"] += 1
                i += concurrency

        await asyncio.gather(
            *(worker(k, time.perf_counter() + 10, False) for k in range(concurrency))
        )
        errors.clear()
        started = time.perf_counter()
        await asyncio.gather(*(worker(k, started + seconds, True) for k in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "elapsed": elapsed, "errors": errors,
            "lengths": sorted(lengths), **counts}  # fmt: skip


def _load_process(base: str, seconds: float, concurrency: int, out: Any) -> None:
    pool = _pool(20_000, 5)
    out.put(asyncio.run(_client(base, pool, seconds, concurrency)))


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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--identifiers", type=int, default=100_000_000)
    p.add_argument("--leaks", type=int, default=20)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    server = start_postgres()
    work = Path(tempfile.mkdtemp(prefix="leaktrace-check-bench-"))
    try:
        url = server.create_database("check_bench").replace(
            "postgresql://", "postgresql+psycopg://"
        )
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        print(f"loading {args.identifiers:,} keyed identifiers", file=sys.stderr)
        times = load(url, args.identifiers, args.leaks, args.seed)
        print(f"loaded: {times}", file=sys.stderr)
        key_file, sock = work / "key", work / "keyd.sock"
        new_key(key_file)
        lifted = ("--person-net-burst", "0", "--person-key-burst", "0",
                  "--person-daily", "1e12", "--operator-daily", "1e12", "--workers", "2")  # fmt: skip
        with running(key_file, sock, *lifted) as keyd:
            port = _free_port()
            env = {**os.environ, URL_ENV: url, KEYD_ENV: str(sock)}
            web = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bench.check_bench:make_app", "--factory",
                 "--workers", "2", "--host", "127.0.0.1", "--port", str(port),
                 "--log-level", "warning", "--no-access-log"],
                env=env,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/api/v1/check/leaks").is_success:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                cpu0 = _cpu_seconds(keyd.pid)
                out: Any = multiprocessing.get_context("spawn").Queue()
                loader = multiprocessing.get_context("spawn").Process(
                    target=_load_process,
                    args=(f"http://127.0.0.1:{port}", args.seconds, args.concurrency, out),
                )
                loader.start()
                result = out.get()
                loader.join()
                keyd_cpu = _cpu_seconds(keyd.pid) - cpu0
            finally:
                web.terminate()
                web.wait(30)
            alone, alone_per_cpu = key_alone(sock, keyd.pid)
    finally:
        server.stop()
    lat = np.array(result["latencies"]) * 1000
    checks = len(lat)
    rate = checks / result["elapsed"]
    evaluations = checks + result["warm"]
    p50, p99 = (float(np.percentile(lat, q)) for q in (50, 99)) if checks else (0.0, 0.0)
    section = header("a person's check under load, PostgreSQL on loopback") + (
        f"\n- Stored: {args.identifiers:,} keyed identifiers in {args.leaks} leaks "
        f"(largest bucket {int(times['largest_bucket']):,} entries); COPY {times['copy']:.0f} s, "
        f"primary key and index {times['index']:.0f} s, VACUUM ANALYZE {times['vacuum']:.0f} s.\n"
        f"- Load: one client process, {args.concurrency} concurrent checks (evaluate + bucket "
        f"fetch), {args.seconds:.0f} s after a 10 s warm-up; uvicorn with 2 workers, the key "
        f"process with 2 threads, PostgreSQL and the client on the same 2 cores.\n\n"
        f"| checks | checks/s | p50 ms | p99 ms | bucket answer bytes | errors |\n"
        f"|---:|---:|---:|---:|---|---|\n"
        f"| {checks:,} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | "
        f"{', '.join(str(n) for n in result['lengths'])} | {result['errors'] or 'none'} |\n\n"
        f"- Key process under the check load: {keyd_cpu:.1f} CPU s for the "
        f"{evaluations:,} evaluations of the warm-up and the run: "
        f"{evaluations / max(keyd_cpu, 1e-9):,.0f} evaluations per CPU second (per core), "
        f"socket and framing of one-element requests included. Tags matched: {result['hits']} "
        f"(the stored tags are random, so none is expected).\n"
        f"- Key process alone (batches of 1,000, one client thread): {alone:,.0f} evaluations/s, "
        f"{alone_per_cpu:,.0f} per CPU second (per core).\n"
    )
    print(section)
    append_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
