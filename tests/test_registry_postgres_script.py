"""``scripts/registry_postgres.sh``: the registry's production PostgreSQL from Debian's package,
started on a private unix socket, used by ``leaktrace registry``, stopped and started again with
its data kept."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "scripts" / "registry_postgres.sh"
LEAKTRACE = str(Path(sys.executable).with_name("leaktrace"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_start_use_stop_start_keeps_the_registry() -> None:
    # in /tmp itself: pytest's tmp tree is private to root, and as root the cluster is postgres's
    data = Path(tempfile.mkdtemp(prefix="leaktrace-registry-pg-")) / "pg"
    data.parent.chmod(0o711)
    env = {**os.environ, "LEAKTRACE_PGDATA": str(data), "LEAKTRACE_PGPORT": str(_free_port())}
    try:
        started = subprocess.run([SCRIPT, "start"], env=env, capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
        line = started.stdout.strip()
        assert line.startswith("LEAKTRACE_DB=postgresql://") and f"host={data}/socket" in line
        env["LEAKTRACE_DB"] = line.split("=", 1)[1]
        made = subprocess.run(
            [LEAKTRACE, "registry", "org", "create", "某某银行", "--kind", "institution",
             "--sector", "bank", "--json"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert oct((data / "socket").stat().st_mode)[-3:] == "700"  # its owner alone connects
        subprocess.run([SCRIPT, "stop"], env=env, check=True)
        again = subprocess.run([SCRIPT, "start"], env=env, capture_output=True, text=True)
        assert again.stdout.strip() == line
        check = subprocess.run(
            [LEAKTRACE, "registry", "audit", "verify", "--json"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert check.returncode == 0 and '"entries": 1' in check.stdout
    finally:
        subprocess.run([SCRIPT, "stop"], env=env)
        shutil.rmtree(data.parent, ignore_errors=True)
