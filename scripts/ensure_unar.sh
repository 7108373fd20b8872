#!/usr/bin/env bash
# Makes sure Debian's `unar` (The Unarchiver) is on this machine: rarfile hands it the compressed
# and encrypted members of rar archives, which no maintained Python library unpacks by itself.
# Installs the package with apt-get when `unar` is missing; does nothing when it is there.
# Run by `make test`.
set -euo pipefail

if command -v unar >/dev/null 2>&1; then
    exit 0
fi

"$(dirname "$0")/apt_install.sh" ensure_unar unar "rar archives"

if ! command -v unar >/dev/null 2>&1; then
    echo "ensure_unar: apt-get ran but unar is still missing" >&2
    exit 1
fi
