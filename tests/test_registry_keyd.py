"""The key process, run as real processes: its answers are RFC 9497's evaluations (one key, or a
key split in two shares); its per-key and per-network buckets and its daily budgets hold across
client processes at once and across a restart; days turn at midnight in Shanghai (a fake clock);
it refuses key files others can read and malformed keys, invalid elements and garbage frames
(and goes on answering); its socket is its owner's alone; ``leaktrace serve`` starts and stops
it, and the web process holds no key."""

from __future__ import annotations

import datetime as dt
import grp
import multiprocessing
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pysodium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.registry import keyd, oprf
from leaktrace.registry.keyd_client import (
    KEYD_ENV,
    MAX_FRAME,
    BatchTooLarge,
    BudgetSpent,
    InvalidElement,
    KeyClient,
    KeyUnavailable,
    RateLimited,
    Reply,
    frame,
)
from leaktrace.registry.limits import (
    SHANGHAI,
    Caller,
    ClassLimits,
    Limiter,
    Rate,
    seconds_to_next_day,
    shanghai_day,
)

PERSON = Caller("person", None, "203.0.113.0/24")
NO_BUCKETS = [f"--{c}-{s}-burst" for c in ("person", "institution") for s in ("key", "net")]


# --- limits, on a fake clock ----------------------------------------------------------------


def at(text: str) -> float:
    """A POSIX time from an ISO time with its offset."""
    return dt.datetime.fromisoformat(text).timestamp()


def limiter(per_key: Rate | None = None, per_net: Rate | None = None, daily: int = 10**9):
    limits = ClassLimits(per_key, per_net, daily)
    return Limiter({"person": limits, "institution": limits, "operator": limits})


def test_a_bucket_refuses_past_its_burst_until_it_refills() -> None:
    lim = limiter(per_net=Rate(per_second=2.0, burst=10))
    now = at("2026-12-07T10:00:00+08:00")
    assert lim.charge(PERSON, 10, now) is None
    refusal = lim.charge(PERSON, 4, now)
    assert refusal is not None and refusal.error == "rate_limited"
    assert refusal.retry_after == pytest.approx(2.0)  # 4 tokens at 2 a second
    assert lim.charge(PERSON, 4, now + 1.9) is not None
    assert lim.charge(PERSON, 4, now + 2.0) is None
    # another network has its own bucket; the refused requests took nothing
    assert lim.charge(Caller("person", None, "198.51.100.0/24"), 10, now + 2.0) is None


def test_a_request_must_pass_every_bucket_and_is_counted_whole_or_not_at_all() -> None:
    lim = limiter(per_key=Rate(1.0, 5), per_net=Rate(1.0, 100))
    now = at("2026-12-07T10:00:00+08:00")
    key7 = Caller("institution", 7, "198.51.100.0/24")
    assert lim.charge(key7, 5, now) is None
    refusal = lim.charge(key7, 1, now)
    assert refusal is not None and refusal.error == "rate_limited"
    # key 8 on the same network: the network bucket lost 5, not 6
    assert lim.charge(Caller("institution", 8, "198.51.100.0/24"), 5, now) is None
    assert lim.charge(Caller("institution", 9, "198.51.100.0/24"), 5, now) is None
    assert lim.used_today("institution", now) == 15


def test_more_than_a_burst_or_a_day_is_too_large() -> None:
    lim = limiter(per_net=Rate(1.0, 10), daily=50)
    now = at("2026-12-07T10:00:00+08:00")
    refusal = lim.charge(PERSON, 11, now)
    assert refusal is not None and (refusal.error, refusal.limit) == ("too_large", 10)
    refusal = lim.charge(Caller("operator"), 51, now)
    assert refusal is not None and (refusal.error, refusal.limit) == ("too_large", 50)


def test_the_daily_budget_turns_at_midnight_in_shanghai() -> None:
    lim = limiter(daily=100)
    operator = Caller("operator")
    evening = at("2026-12-07T23:59:00+08:00")  # 15:59 UTC
    assert lim.charge(operator, 100, evening) is None
    refusal = lim.charge(operator, 1, evening)
    assert refusal is not None and refusal.error == "budget"
    assert refusal.retry_after == pytest.approx(60.0)
    assert lim.charge(operator, 1, at("2026-12-07T15:59:59.999+00:00")) is not None
    assert lim.charge(operator, 100, at("2026-12-07T16:00:00+00:00")) is None  # 00:00 Shanghai
    assert lim.charge(Caller("person"), 100, evening) is None  # each class its own budget


def test_shanghai_days() -> None:
    assert shanghai_day(at("2026-12-07T15:59:59+00:00")) == dt.date(2026, 12, 7)
    assert shanghai_day(at("2026-12-07T16:00:00+00:00")) == dt.date(2026, 12, 8)
    assert seconds_to_next_day(at("2026-12-07T12:00:00+08:00")) == pytest.approx(12 * 3600)
    noon = dt.datetime(2026, 12, 7, 12, tzinfo=SHANGHAI).timestamp()
    assert seconds_to_next_day(noon) == pytest.approx(12 * 3600)


def test_the_counters_survive_a_snapshot_and_a_past_day_is_dropped() -> None:
    lim = limiter(daily=100)
    now = at("2026-12-07T10:00:00+08:00")
    lim.charge(Caller("person"), 60, now)
    state = msgspec.json.decode(msgspec.json.encode(lim.snapshot()))
    assert "203.0.113" not in str(state)
    again = limiter(daily=100)
    again.restore(state)
    assert again.used_today("person", now) == 60
    assert again.charge(Caller("person"), 41, now) is not None
    assert again.used_today("person", now + 86_400) == 0


def test_pruning_forgets_only_full_buckets() -> None:
    lim = limiter(per_net=Rate(1.0, 10))
    now = at("2026-12-07T10:00:00+08:00")
    lim.charge(PERSON, 10, now)
    lim.prune(now + 5)
    assert lim.charge(PERSON, 6, now + 5) is not None  # 5 tokens back, not a fresh bucket
    lim.prune(now + 10)
    assert lim.charge(PERSON, 10, now + 10) is None


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 12), st.floats(0, 3, allow_nan=False), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    rate=st.floats(0.1, 5),
    burst=st.integers(1, 12),
)
def test_no_sequence_of_requests_gets_more_than_burst_plus_rate_times_time(
    steps: list[tuple[int, float, bool]], rate: float, burst: int
) -> None:
    lim = limiter(per_net=Rate(rate, burst))
    start = now = at("2026-12-07T10:00:00+08:00")
    accepted = 0
    for n, wait, prune in steps:
        now += wait
        if lim.charge(PERSON, n, now) is None:
            accepted += n
        if prune:
            lim.prune(now)
    assert accepted <= burst + rate * (now - start) + 1e-6


# --- the key process --------------------------------------------------------------------------


def short_dir() -> Path:
    """A private directory with a path short enough for a unix socket."""
    return Path(tempfile.mkdtemp(prefix="kd", dir="/tmp"))


def write_key(path: Path, key: bytes, mode: int = 0o600) -> Path:
    path.write_text(key.hex() + "\n")
    path.chmod(mode)
    return path


@pytest.fixture
def workdir() -> Iterator[Path]:
    d = short_dir()
    yield d
    shutil.rmtree(d)


def start(workdir: Path, *args: str, key: bytes | None = None, name: str = "s"):
    """A running key process on ``workdir/name`` (a context manager); its key ``key`` if given."""
    key_file = workdir / f"{name}.key"
    if key is not None and not key_file.exists():
        write_key(key_file, key)
    return keyd.running(key_file, workdir / name, *args)


def test_evaluations_are_rfc_9497s(workdir: Path) -> None:
    key = oprf.random_scalar()
    with start(workdir, key=key):
        client = KeyClient(workdir / "s")
        inputs = [b"mobile:13800138000", b"resident_id:11010519491231002X", b""]
        blinds = [oprf.blind(x) for x in inputs]
        evaluated = client.evaluate([b for _, b in blinds], PERSON)
        for x, (r, _), z in zip(inputs, blinds, evaluated, strict=True):
            assert oprf.finalize(x, r, z) == oprf.evaluate(key, x)
        # a batch over one frame's size is split, and answered in order
        many = [oprf.hash_to_group(b"%d" % i) for i in range(10_050)]
        out = client.evaluate(many, Caller("operator"))
        assert out[10_049] == oprf.blind_evaluate(key, many[10_049])
        assert out[7] == oprf.blind_evaluate(key, many[7])
        client.close()


def test_a_new_key_is_written_0600_and_never_overwritten(workdir: Path) -> None:
    path = workdir / "new.key"
    assert keyd.main(["--new-key", os.fspath(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    assert len(bytes.fromhex(first.decode())) == 32
    assert keyd.main(["--new-key", os.fspath(path)]) == 1
    assert path.read_bytes() == first


def test_the_cli_command_is_the_key_process(workdir: Path) -> None:
    from typer.testing import CliRunner

    from leaktrace.cli import app

    path = workdir / "cli.key"
    result = CliRunner().invoke(app, ["registry", "keyd", "--new-key", os.fspath(path)])
    assert result.exit_code == 0 and stat.S_IMODE(path.stat().st_mode) == 0o600
    result = CliRunner().invoke(app, ["registry", "keyd", "--help"])
    assert result.exit_code == 0 and "--person-daily" in result.output


def test_a_split_key_evaluates_with_the_product_of_its_shares(workdir: Path) -> None:
    k1, k2 = oprf.random_scalar(), oprf.random_scalar()
    with start(workdir, key=k1, name="a"), start(workdir, key=k2, name="b"):
        client = KeyClient([workdir / "a", workdir / "b"])
        x = b"mobile:13912345678"
        r, blinded = oprf.blind(x)
        [z] = client.evaluate([blinded], PERSON)
        product = pysodium.crypto_core_ristretto255_scalar_mul(k1, k2)
        assert oprf.finalize(x, r, z) == oprf.evaluate(product, x)
        assert oprf.finalize(x, r, z) != oprf.evaluate(k1, x)
    with pytest.raises(KeyUnavailable):  # both shares must answer
        client.evaluate([blinded], PERSON)


def test_replicas_of_one_key_share_the_calls_and_stand_in_for_each_other(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``a|b`` in LEAKTRACE_KEYD: two processes with the same key; new connections go to each in
    turn, and while one is stopped the other answers alone."""
    key = oprf.random_scalar()
    x = b"resident_id:11010519491231002X"
    r, blinded = oprf.blind(x)
    monkeypatch.setenv(KEYD_ENV, f"{workdir / 'a'}|{workdir / 'b'}")
    client = KeyClient.from_env()

    def answered() -> bool:
        [z] = client.evaluate([blinded], Caller("operator"))
        return oprf.finalize(x, r, z) == oprf.evaluate(key, x)

    with start(workdir, key=key, name="a"), start(workdir, key=key, name="b"):
        (link,) = client._links
        first, second = link._connect(), link._connect()
        assert {first.getpeername(), second.getpeername()} == {
            os.fspath(workdir / "a"),
            os.fspath(workdir / "b"),
        }
        first.close()
        second.close()
        assert all(answered() for _ in range(20))
    for alone in ("a", "b"):
        with start(workdir, key=key, name=alone):
            assert all(answered() for _ in range(5))
    with pytest.raises(KeyUnavailable):
        answered()


def hammer(path: str, caller: Caller, tries: int, barrier, results) -> None:
    """One client process: ``tries`` one-element requests as fast as it can."""
    client = KeyClient(path)
    element = oprf.hash_to_group(b"hammer")
    barrier.wait()
    accepted = refused = 0
    for _ in range(tries):
        try:
            client.evaluate([element], caller)
            accepted += 1
        except (RateLimited, BudgetSpent) as e:
            assert e.retry_after > 0
            refused += 1
    results.put((accepted, refused))


def run_clients(path: Path, callers: list[Caller], tries: int) -> tuple[int, int, float]:
    """Accepted and refused requests of one client process per caller at once, and the time."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(callers)), ctx.Queue()
    procs = [
        ctx.Process(target=hammer, args=(os.fspath(path), c, tries, barrier, results))
        for c in callers
    ]
    began = time.monotonic()
    for p in procs:
        p.start()
    counts = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join()
        assert p.exitcode == 0
    elapsed = time.monotonic() - began
    return sum(a for a, _ in counts), sum(r for _, r in counts), elapsed


@pytest.mark.parametrize(
    ("option", "callers"),
    [
        # one network, four API keys
        ("--institution-net", [Caller("institution", k, "198.51.100.0/24") for k in range(4)]),
        # one API key, four networks
        ("--institution-key", [Caller("institution", 5, f"10.0.{i}.0/24") for i in range(4)]),
    ],
)
def test_buckets_hold_across_client_processes(
    workdir: Path, option: str, callers: list[Caller]
) -> None:
    burst, per_hour = 50, 36.0  # 0.01 a second
    args = [f"{option}-burst", str(burst), f"{option}-per-hour", str(per_hour)]
    other = "--institution-key" if option == "--institution-net" else "--institution-net"
    args += [f"{other}-burst", "0"]
    with start(workdir, *args, key=oprf.random_scalar()):
        accepted, refused, elapsed = run_clients(workdir / "s", callers, tries=40)
    assert accepted + refused == 160
    assert burst <= accepted <= burst + per_hour / 3600 * elapsed


def test_the_daily_budget_holds_across_processes_and_a_restart(workdir: Path) -> None:
    args = [*(a for flag in NO_BUCKETS for a in (flag, "0")), "--person-daily", "30"]
    callers = [Caller("person", None, f"192.0.2.{64 * i}/26") for i in range(4)]
    key = oprf.random_scalar()
    with start(workdir, *args, key=key):
        accepted, refused, _ = run_clients(workdir / "s", callers, tries=20)
        assert (accepted, refused) == (30, 50)
        with pytest.raises(BudgetSpent) as spent:
            KeyClient(workdir / "s").evaluate([oprf.hash_to_group(b"x")], PERSON)
        assert 0 < spent.value.retry_after <= 86_400
    with start(workdir, *args, key=key):  # the counters were written at SIGTERM
        with pytest.raises(BudgetSpent):
            KeyClient(workdir / "s").evaluate([oprf.hash_to_group(b"x")], PERSON)
        # other classes have their own budgets
        KeyClient(workdir / "s").evaluate([oprf.hash_to_group(b"x")], Caller("operator"))
    assert "192.0.2" not in (workdir / "s.key.state").read_text()


def test_too_large_a_batch_is_refused_with_the_limit(workdir: Path) -> None:
    with start(workdir, "--person-net-burst", "5", key=oprf.random_scalar()):
        with pytest.raises(BatchTooLarge) as e:
            KeyClient(workdir / "s").evaluate([oprf.hash_to_group(b"x")] * 6, PERSON)
        assert e.value.limit == 5


@pytest.mark.parametrize(
    ("name", "content", "mode"),
    [
        ("group can read", None, 0o640),
        ("others can read", None, 0o604),
        ("group can write", None, 0o620),
        ("31 bytes", b"\x01" * 31, 0o600),
        ("63 hex digits", b"a" * 63, 0o600),
        ("not hex", b"g" * 64, 0o600),
        ("zero", bytes(32), 0o600),
        ("unreduced", b"\xff" * 32, 0o600),
    ],
)
def test_bad_key_files_are_refused(
    workdir: Path, name: str, content: bytes | None, mode: int
) -> None:
    key_file = workdir / "s.key"
    if content is None:
        write_key(key_file, oprf.random_scalar(), mode)
    else:
        key_file.write_bytes(content)
        key_file.chmod(mode)
    result = subprocess.run(
        [sys.executable, "-m", "leaktrace.registry.keyd", "--key-file", os.fspath(key_file)]
        + ["--socket", os.fspath(workdir / "s")],
        capture_output=True,
        text=True,
        env={**os.environ, "LANGUAGE": "en"},
        timeout=60,
    )
    assert result.returncode == 1, name
    assert os.fspath(key_file) in result.stderr
    assert not (workdir / "s").exists()
    if content is None:
        assert "chmod 600" in result.stderr
        assert key_file.read_text().strip() not in result.stderr


def test_the_socket_is_its_owners_alone_and_a_second_process_is_refused(workdir: Path) -> None:
    with start(workdir, key=oprf.random_scalar()):
        mode = (workdir / "s").stat().st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        second = subprocess.run(
            [sys.executable, "-m", "leaktrace.registry.keyd", "--key-file"]
            + [os.fspath(workdir / "s.key"), "--socket", os.fspath(workdir / "s")],
            capture_output=True,
            timeout=60,
        )
        assert second.returncode == 1
        KeyClient(workdir / "s").evaluate([oprf.hash_to_group(b"x")], PERSON)
    assert not (workdir / "s").exists()


def test_a_socket_group_may_share_the_socket(workdir: Path) -> None:
    group = grp.getgrgid(os.getgid()).gr_name
    with start(workdir, "--socket-group", group, key=oprf.random_scalar()):
        info = (workdir / "s").stat()
        assert stat.S_IMODE(info.st_mode) == 0o660 and info.st_gid == os.getgid()
    with pytest.raises(keyd.KeydError):
        with start(workdir, "--socket-group", "no-such-group-here"):
            pass
    assert not (workdir / "s").exists()


IDENTITY = bytes(32)
NOT_AN_ELEMENT = (1).to_bytes(32, "little")  # s = 1 is "negative": no element encodes to it


def raw_ask(sock: socket.socket, payload: bytes) -> Reply:
    sock.sendall(frame(payload))
    size = int.from_bytes(recv_all(sock, 4), "big")
    return msgspec.msgpack.decode(recv_all(sock, size), type=Reply)


def recv_all(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "the key process closed the connection"
        data += chunk
    return data


@pytest.fixture(scope="module")
def one_keyd() -> Iterator[Path]:
    d = short_dir()
    with start(d, key=oprf.random_scalar()):
        yield d / "s"
    shutil.rmtree(d)


@pytest.mark.parametrize("bad", [IDENTITY, NOT_AN_ELEMENT, b"\x01" * 31, b"\x01" * 33])
def test_invalid_elements_are_refused_and_the_process_goes_on(one_keyd: Path, bad: bytes) -> None:
    client = KeyClient(one_keyd)
    good = oprf.hash_to_group(b"x")
    with pytest.raises(InvalidElement):
        client.evaluate([good, bad], Caller("operator"))
    assert len(client.evaluate([good], Caller("operator"))) == 1


def valid_request(**change: object) -> bytes:
    request = {
        "op": "evaluate",
        "elements": [oprf.hash_to_group(b"x")],
        "caller": {"class": "operator", "key_id": None, "net": None},
    }
    return msgspec.msgpack.encode({**request, **change})


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xc1",  # never used in msgpack
        msgspec.msgpack.encode([1, 2, 3]),
        valid_request(op="decrypt"),
        valid_request(caller={"class": "root"}),
        valid_request(caller={"class": "person", "net": "203.0.113.7/24"}),  # host bits
        valid_request(caller={"class": "person", "net": "not a network"}),
        valid_request(elements="x"),
        valid_request(elements=[b"\x00" * 32] * 10_001),
        valid_request(extra=1),
    ],
)
def test_malformed_frames_are_refused_on_a_connection_that_goes_on(
    one_keyd: Path, payload: bytes
) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(os.fspath(one_keyd))
        assert raw_ask(sock, payload) == Reply(ok=False, error="invalid")
        assert raw_ask(sock, valid_request()).ok


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(max_size=200))
def test_garbage_never_gets_an_evaluation(one_keyd: Path, payload: bytes) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(os.fspath(one_keyd))
        assert raw_ask(sock, payload) == Reply(ok=False, error="invalid")


@pytest.mark.parametrize("header", [MAX_FRAME + 1, 2**32 - 1])
def test_an_oversized_frame_is_refused_and_its_connection_closed(
    one_keyd: Path, header: int
) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(os.fspath(one_keyd))
        sock.sendall(header.to_bytes(4, "big"))
        size = int.from_bytes(recv_all(sock, 4), "big")
        reply = msgspec.msgpack.decode(recv_all(sock, size), type=Reply)
        assert reply == Reply(ok=False, error="invalid")
        assert sock.recv(1) == b""
    # a connection cut halfway through a frame harms nothing either
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(os.fspath(one_keyd))
        sock.sendall((100).to_bytes(4, "big") + b"\x81")
    assert KeyClient(one_keyd).evaluate([oprf.hash_to_group(b"x")], Caller("operator"))


def test_a_damaged_state_file_stops_the_start(workdir: Path) -> None:
    write_key(workdir / "s.key", oprf.random_scalar())
    (workdir / "s.key.state").write_text("{not json")
    with pytest.raises(keyd.KeydError):
        with keyd.running(workdir / "s.key", workdir / "s"):
            pass


# --- leaktrace serve ----------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def holds_bytes(pid: int, needles: list[bytes]) -> bool:
    """Whether any readable mapping of ``pid``'s memory holds one of ``needles``."""
    found = False
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("r"):
                continue
            lo, hi = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except (OSError, OverflowError, ValueError):
                continue
            found = found or any(n in chunk for n in needles)
    return found


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_starts_and_stops_the_key_process_and_the_web_process_holds_no_key(
    workdir: Path, stop: signal.Signals
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAKTRACE_")}
    web = subprocess.Popen(
        [os.fspath(Path(sys.executable).with_name("leaktrace")), "serve", "--port", str(port)]
        + ["--db", f"sqlite:///{workdir / 'registry.sqlite'}"],
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert web.poll() is None and time.monotonic() < deadline
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError as e:
                if getattr(e, "code", None):  # any HTTP answer: it is serving
                    break
                time.sleep(0.2)
        key_file = workdir / "registry.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = bytes.fromhex(key_file.read_text().strip())
        [keyd_pid] = children(web.pid)
        cmdline = Path(f"/proc/{keyd_pid}/cmdline").read_bytes().split(b"\0")
        socket_path = Path(cmdline[cmdline.index(b"--socket") + 1].decode())
        assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
        # the key process answers with the key in the file
        element = oprf.hash_to_group(b"x")
        [z] = KeyClient(socket_path).evaluate([element], Caller("operator"))
        assert z == oprf.blind_evaluate(key, element)
        # the web process: no key file open, none in its environment, the key nowhere in memory
        fds = Path(f"/proc/{web.pid}/fd")
        assert key_file.resolve() not in {p.resolve() for p in fds.iterdir()}
        environ = Path(f"/proc/{web.pid}/environ").read_bytes()
        assert b"registry.key" not in environ and key.hex().encode() not in environ
        assert not holds_bytes(web.pid, [key, key.hex().encode(), key.hex().upper().encode()])
        assert holds_bytes(keyd_pid, [key])  # the search finds a key where there is one
    finally:
        web.send_signal(stop)
        web.wait(timeout=60)
    assert web.returncode in (0, 128 + stop)
    assert not alive(keyd_pid)
    assert not socket_path.parent.exists()


def test_serve_starts_no_key_process_when_leaktrace_keyd_names_them(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leaktrace.registry.serve import key_process

    monkeypatch.setenv("LEAKTRACE_KEYD", "/run/operator.sock,/run/regulator.sock")
    with key_process(workdir / "registry.key"):
        assert os.environ["LEAKTRACE_KEYD"] == "/run/operator.sock,/run/regulator.sock"
    assert not (workdir / "registry.key").exists()
    monkeypatch.delenv("LEAKTRACE_KEYD")
    with key_process(workdir / "registry.key"):
        socket_path = Path(os.environ["LEAKTRACE_KEYD"])
        assert KeyClient.from_env().evaluate([oprf.hash_to_group(b"x")], PERSON)
    assert "LEAKTRACE_KEYD" not in os.environ and not socket_path.parent.exists()


def test_the_key_process_stops_when_its_parent_dies_without_stopping_it(workdir: Path) -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from leaktrace.registry import keyd; "
            "d = Path(sys.argv[1]); cm = keyd.running(d / 'k', d / 's'); cm.__enter__(); "
            "print('ready', flush=True); time.sleep(600)",
            os.fspath(workdir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None and parent.stdout.readline() == "ready\n"
    [keyd_pid] = children(parent.pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while alive(keyd_pid):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not (workdir / "s").exists()  # it stopped as it does on SIGTERM
    assert (workdir / "k.state").exists()
