#!/usr/bin/env bash
# Installs one of Debian's packages with apt-get, as root or through sudo, for the ensure_*
# scripts that `make test` runs: `apt_install.sh CALLER PACKAGE WHY`.
set -euo pipefail
caller=$1 package=$2 why=$3

if ! command -v apt-get >/dev/null 2>&1; then
    echo "$caller: no apt-get; install Debian's $package package ($why) by hand" >&2
    exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "$caller: not root and no sudo; run: apt-get install $package" >&2
        exit 1
    fi
    as_root=(sudo)
fi

echo "$caller: installing Debian's $package package ($why)" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "$package" >/dev/null
