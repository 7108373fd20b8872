#!/usr/bin/env bash
# Makes sure Debian's `unar` (The Unarchiver) is on this machine: rarfile hands it the compressed
# and encrypted members of rar archives, which no maintained Python library unpacks by itself.
# Installs the package with apt-get when `unar` is missing; does nothing when it is there.
# Run by `make test`.
set -euo pipefail

if command -v unar >/dev/null 2>&1; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_unar: no unar and no apt-get; install unar (or libarchive-tools' bsdtar)" >&2
    exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "ensure_unar: not root and no sudo; run: apt-get install unar" >&2
        exit 1
    fi
    as_root=(sudo)
fi

echo "ensure_unar: installing Debian's unar package (rar archives)" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends unar >/dev/null

if ! command -v unar >/dev/null 2>&1; then
    echo "ensure_unar: apt-get ran but unar is still missing" >&2
    exit 1
fi
