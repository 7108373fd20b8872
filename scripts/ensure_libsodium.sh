#!/usr/bin/env bash
# Makes sure Debian's libsodium (libsodium.so.23) is on this machine: pysodium loads it with ctypes
# for the registry's OPRF (ristretto255), and has no copy of its own. Looks the library up the way
# pysodium does (ctypes.util.find_library); installs the distribution's `libsodium23` package with
# apt-get when it is missing, and does nothing when it is there. Run by `make test` and `make demo`.
set -euo pipefail

have_libsodium() {
    "${PYTHON:-python3}" -c 'import ctypes.util, sys; sys.exit(ctypes.util.find_library("sodium") is None)'
}

if have_libsodium; then
    exit 0
fi

"$(dirname "$0")/apt_install.sh" ensure_libsodium libsodium23 "the registry's OPRF"

if ! have_libsodium; then
    echo "ensure_libsodium: libsodium23 installed but ctypes finds no libsodium" >&2
    exit 1
fi
