"""A private, throwaway PostgreSQL server for tests: its own cluster in a temporary directory,
listening on 127.0.0.1 on a free port (and on a unix socket in that directory), stopped and
deleted at the end. Nothing of the machine's own PostgreSQL (service, clusters, port 5432) is
touched.

The server binaries are Debian's (``/usr/lib/postgresql/<version>/bin``, installed by
``scripts/ensure_postgres.sh``, which ``make test`` runs), or those in ``LEAKTRACE_PG_BIN``.
``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` system
user and its programs run through ``runuser``.

Authentication: the superuser ``postgres`` and roles made without a password are trusted;
roles made with :meth:`PostgresServer.create_role` and a password must give it (SCRAM) when
they connect over TCP.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

SUPERUSER = "postgres"
PASSWORD_GROUP = "password_login"
START_TIMEOUT = 60  # seconds


class PostgresUnavailable(RuntimeError):
    """The test server could not be started; the message says why and what to do."""


def find_bin_dir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres`` (newest version first)."""
    if env := os.environ.get("LEAKTRACE_PG_BIN"):
        if (Path(env) / "initdb").exists():
            return Path(env)
        raise PostgresUnavailable(f"LEAKTRACE_PG_BIN={env} holds no initdb")

    def version(p: str) -> tuple[int, ...]:
        v = Path(p).parts[-3]
        return tuple(int(x) for x in v.split(".") if x.isdigit())

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    if found:
        return Path(found[0]).parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): run "
        "scripts/ensure_postgres.sh (make test does) or set LEAKTRACE_PG_BIN"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running test server. :meth:`url` names a database on it."""

    base: Path  # temporary directory: data/, the socket and the log
    bin_dir: Path
    port: int
    host: str = "127.0.0.1"
    _prefix: list[str] = field(default_factory=list)  # runuser … when root
    _running: bool = False

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def log_file(self) -> Path:
        return self.base / "server.log"

    def url(self, dbname: str = "postgres", user: str = SUPERUSER, password: str = "") -> str:
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(dbname, safe='')}"

    def connect(self, dbname: str = "postgres", **kwargs):  # -> psycopg.Connection
        import psycopg

        return psycopg.connect(self.url(dbname), **kwargs)

    def create_database(self, name: str, *options: str) -> str:
        """A new database (``options`` as in CREATE DATABASE, e.g. ``"ENCODING 'EUC_CN'"``);
        returns its URL for the superuser."""
        from psycopg import sql

        with self.connect(autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} " + " ".join(options)).format(sql.Identifier(name))
            )
        return self.url(name)

    def create_role(self, name: str, password: str | None = None) -> None:
        """A login role; with a password, TCP logins must give it."""
        from psycopg import sql

        with self.connect(autocommit=True) as conn:
            q = sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name))
            if password is not None:
                q = sql.SQL("{} PASSWORD {} IN ROLE {}").format(
                    q, sql.Literal(password), sql.Identifier(PASSWORD_GROUP)
                )
            conn.execute(q)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._prefix, *args], capture_output=True, text=True, timeout=START_TIMEOUT + 30
        )

    def stop(self) -> None:
        if self._running:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
                      "-w", "stop")  # fmt: skip
            self._running = False
        shutil.rmtree(self.base, ignore_errors=True)


def _fail(what: str, proc: subprocess.CompletedProcess[str], extra: str = "") -> NoReturn:
    out = (proc.stdout + proc.stderr).strip()
    raise PostgresUnavailable(f"{what} failed (exit {proc.returncode}):\n{out}\n{extra}".strip())


def start_postgres(attempts: int = 3) -> PostgresServer:
    """Start a throwaway server; raises :class:`PostgresUnavailable` with the reason (and the
    server log) when it cannot. The caller stops it (it is also stopped at interpreter exit)."""
    bin_dir = find_bin_dir()
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root, and initdb refuses root: a 'postgres' system user is needed "
                "(Debian's postgresql package makes it)"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresUnavailable("running as root, and runuser (util-linux) is missing")
        prefix = [runuser, "-u", "postgres", "--"]
    # In /tmp (not pytest's 0700 root-owned tmp tree) so the postgres user can reach it.
    base = Path(tempfile.mkdtemp(prefix="leaktrace-pg-"))
    os.chmod(base, 0o700)
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    server = PostgresServer(base, bin_dir, 0, _prefix=prefix)
    atexit.register(server.stop)
    try:
        proc = server._run(
            str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        if proc.returncode != 0:
            _fail("initdb", proc)
        hba = (
            f"local all all trust\n"
            f"host all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n"
            f"host all all 127.0.0.1/32 trust\n"
        )
        hba_path = server.data_dir / "pg_hba.conf"
        hba_path.write_text(hba)
        if owner is not None:
            os.chown(hba_path, owner.pw_uid, owner.pw_gid)
        for attempt in range(attempts):
            server.port = free_port()
            opts = " ".join(
                shlex.quote(o)
                for o in (
                    "-c", "listen_addresses=127.0.0.1", "-c", f"port={server.port}",
                    "-c", f"unix_socket_directories={base}", "-c", "fsync=off",
                    "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                )
            )  # fmt: skip
            proc = server._run(
                str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(server.log_file),
                "-w", "-t", str(START_TIMEOUT), "-o", opts, "start",
            )  # fmt: skip
            if proc.returncode == 0:
                server._running = True
                break
            # Another process may have taken the port between the check and the start.
            if "could not bind" not in server.log_tail(50) or attempt == attempts - 1:
                _fail("pg_ctl start", proc, "server log:\n" + server.log_tail())
        with server.connect(autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {PASSWORD_GROUP} NOLOGIN")
    except PostgresUnavailable:
        server.stop()
        raise
    except Exception as e:
        server.stop()
        raise PostgresUnavailable(f"could not start the test server: {e}") from e
    return server
