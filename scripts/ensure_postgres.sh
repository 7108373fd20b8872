#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are on this
# machine: the tests start a private, throwaway cluster with them (tests/postgres_server.py).
# Installs the distribution's `postgresql` package with apt-get when they are missing; does
# nothing (and takes no time) when they are there, or when LEAKTRACE_PG_BIN names a directory
# holding initdb. Run by `make test`.
set -euo pipefail

have_server() {
    if [ -n "${LEAKTRACE_PG_BIN:-}" ] && [ -x "$LEAKTRACE_PG_BIN/initdb" ]; then
        return 0
    fi
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

if have_server; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_postgres: no PostgreSQL server binaries and no apt-get; install a PostgreSQL" \
        "server and set LEAKTRACE_PG_BIN to the directory holding initdb" >&2
    exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "ensure_postgres: not root and no sudo; run: apt-get install postgresql" >&2
        exit 1
    fi
    as_root=(sudo)
fi

echo "ensure_postgres: installing Debian's postgresql package (server for the tests)" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends postgresql >/dev/null

if ! have_server; then
    echo "ensure_postgres: postgresql installed but /usr/lib/postgresql/*/bin/initdb is missing" >&2
    exit 1
fi
