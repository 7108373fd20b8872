"""``leaktrace serve``: migrate the database, start the key process and the webhook worker, serve
the application.

The key process is a child process of its own; the web application reaches it only through the
socket named in ``LEAKTRACE_KEYD`` and never opens the key file. When ``LEAKTRACE_KEYD`` is set
already (key processes run apart, e.g. the two shares of a split key), none is started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn
from platformdirs import user_data_path

from leaktrace.registry import db, keyd
from leaktrace.registry.app import create_app
from leaktrace.registry.keyd_client import KEYD_ENV
from leaktrace.registry.worker import Worker

#: The environment variable naming the key file that ``serve`` gives its key process.
KEY_FILE_ENV = "LEAKTRACE_KEY_FILE"


def default_key_file(engine: sa.Engine) -> Path:
    """``registry.key`` beside a SQLite database, else in the user's data directory."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "registry.key"
    return user_data_path("leaktrace", appauthor=False) / "registry.key"


@contextlib.contextmanager
def key_process(key_file: Path) -> Iterator[None]:
    """A key process on a socket in a private (0700) runtime directory, named in
    ``LEAKTRACE_KEYD`` inside the block; nothing when ``LEAKTRACE_KEYD`` is set already."""
    if os.environ.get(KEYD_ENV, "").strip():
        yield
        return
    with tempfile.TemporaryDirectory(
        prefix="leaktrace-keyd-", dir=os.environ.get("XDG_RUNTIME_DIR")
    ) as runtime:  # mkdtemp makes it 0700
        socket_path = Path(runtime) / "keyd.sock"
        with keyd.running(key_file, socket_path):
            os.environ[KEYD_ENV] = os.fspath(socket_path)
            try:
                yield
            finally:
                del os.environ[KEYD_ENV]


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def app_from_env() -> Any:
    """The application of one web worker process of ``serve --workers N`` (uvicorn's factory):
    on the database of ``LEAKTRACE_DB``, migrated by ``serve`` already."""
    return create_app(os.environ[db.DB_ENV], migrate=False)


def serve(
    url: str | None, host: str, port: int, key_file: Path | None = None, workers: int = 1
) -> None:
    """Run the registry until interrupted (Ctrl-C stops the worker, the server, then the key
    process), in ``workers`` web processes sharing the key process. The key file: ``key_file``,
    else ``LEAKTRACE_KEY_FILE``, else the default one."""
    if workers < 1:
        raise ValueError("workers: expected 1 or more")
    engine = db.make_engine(url)
    db.upgrade(engine)
    env_key = os.environ.get(KEY_FILE_ENV, "").strip()
    key_file = key_file or (Path(env_key) if env_key else default_key_file(engine))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # uvicorn hands SIGTERM back to the handler it found once it has stopped: exit through the
    # blocks below, so that the worker and the key process stop and the runtime directory goes.
    signal.signal(signal.SIGTERM, _exit)
    with key_process(key_file):
        worker = Worker(engine)
        worker.start()
        options: dict[str, Any] = {"log_level": "warning", "access_log": False}
        try:
            if workers == 1:
                app = create_app(engine=engine, migrate=False)
                uvicorn.run(app, host=host, port=port, **options)
            else:  # each web process makes its own application (and reads LEAKTRACE_KEYD)
                os.environ[db.DB_ENV] = engine.url.render_as_string(hide_password=False)
                uvicorn.run(
                    f"{__name__}:app_from_env",
                    factory=True,
                    host=host,
                    port=port,
                    workers=workers,
                    **options,
                )
        finally:
            worker.stop()
            engine.dispose()


@contextlib.contextmanager
def served_in_thread(app: Any, start_seconds: float = 30) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free loopback port inside the block: its base
    URL (for the demo and the tests, which drive the real HTTP service in one process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_seconds
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError(f"the registry did not start on 127.0.0.1:{port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
