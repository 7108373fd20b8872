#!/usr/bin/env bash
# The registry's PostgreSQL on this machine, from Debian's package: `start` makes a cluster the
# first time (under LEAKTRACE_PGDATA, default ~/.local/share/leaktrace/postgres), starts it
# listening only on a unix socket inside that folder (mode 0700: only its owner can connect), makes
# the `leaktrace` database, and prints the LEAKTRACE_DB line to use; `stop` stops it; `url` prints
# the line again. As root the cluster belongs to the `postgres` system user (initdb refuses root),
# so LEAKTRACE_PGDATA's parent folders must let that user through.
#
#   eval "$(scripts/registry_postgres.sh start)"   # then: leaktrace serve
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
data_root="${LEAKTRACE_PGDATA:-${XDG_DATA_HOME:-$HOME/.local/share}/leaktrace/postgres}"
port="${LEAKTRACE_PGPORT:-5433}"
cluster="$data_root/cluster"
socket="$data_root/socket"

usage() { echo "usage: $0 start|stop|url" >&2; exit 2; }
[ $# -eq 1 ] || usage

"$here/ensure_postgres.sh"
bin="${LEAKTRACE_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}"

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    as_owner=(runuser -u postgres --)
fi

url() {
    echo "LEAKTRACE_DB=postgresql://postgres@/leaktrace?host=$socket&port=$port"
}

case "$1" in
start)
    if [ ! -d "$cluster" ]; then
        mkdir -p "$socket"
        chmod 0700 "$data_root" "$socket"
        if [ "$(id -u)" -eq 0 ]; then
            chown postgres:postgres "$data_root" "$socket"
        fi
        "${as_owner[@]}" "$bin/initdb" -D "$cluster" -U postgres --auth-local=trust \
            --auth-host=reject --encoding=UTF8 --locale=C.UTF-8 --no-instructions >/dev/null
    fi
    if ! "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster" status >/dev/null 2>&1; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster" -l "$data_root/server.log" -w -t 60 \
            -o "-c listen_addresses='' -c port=$port -c unix_socket_directories=$socket" \
            start >/dev/null
    fi
    if ! "${as_owner[@]}" "$bin/psql" -h "$socket" -p "$port" -U postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'leaktrace'" postgres | grep -q 1; then
        "${as_owner[@]}" "$bin/createdb" -h "$socket" -p "$port" -U postgres leaktrace
    fi
    url
    ;;
stop)
    if [ -d "$cluster" ]; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster" -m fast -w stop >/dev/null
    fi
    ;;
url) url ;;
*) usage ;;
esac
