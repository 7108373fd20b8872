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

"$(dirname "$0")/apt_install.sh" ensure_postgres postgresql "server for the tests"

if ! have_server; then
    echo "ensure_postgres: postgresql installed but /usr/lib/postgresql/*/bin/initdb is missing" >&2
    exit 1
fi
