"""A key process for the tests and the benchmarks: a fresh key in a private file, ``python -m
leaktrace.registry.keyd`` answering on a unix socket in the test's directory, stopped at the end.
The key is returned too, for harnesses that must show what its holder could do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from leaktrace.registry.keyd import new_key
from leaktrace.registry.keyd_client import KeyClient

START_TIMEOUT = 30.0  # seconds


@dataclass(frozen=True)
class KeyProcess:
    socket: Path
    key: bytes  # the secret scalar: only the key process itself ever reads it in the service

    def client(self) -> KeyClient:
        return KeyClient(self.socket)


@contextmanager
def key_process(directory: Path, *options: str) -> Iterator[KeyProcess]:
    """The key process on ``directory``/keyd.sock with ``options`` (limits) added."""
    directory.mkdir(parents=True, exist_ok=True)
    key_file, sock = directory / "key", directory / "keyd.sock"
    new_key(key_file)
    proc = subprocess.Popen(
        [sys.executable, "-m", "leaktrace.registry.keyd", "--key-file", str(key_file),
         "--socket", str(sock), "--workers", "2", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the key process did not start: {proc.stderr.read()!r}")
            time.sleep(0.05)
        yield KeyProcess(sock, bytes.fromhex(key_file.read_text().strip()))
    finally:
        proc.terminate()
        proc.wait(10)
        if os.path.exists(sock):
            sock.unlink()
