#!/usr/bin/env bash
# Makes sure Debian's `chromium` and `fonts-noto-cjk` are on this machine: the browser tests and
# PDF reports print through headless Chromium (driven by Playwright, which downloads no browser
# of its own), and Chinese text needs a CJK font to render rather than show as boxes.
# Installs what is missing with apt-get; does nothing when both are there. Run by `make test`.
set -euo pipefail
here=$(dirname "$0")

if ! [ -x /usr/bin/chromium ]; then
    "$here/apt_install.sh" ensure_chromium chromium "browser tests and PDF reports"
fi
if ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "ok installed"; then
    "$here/apt_install.sh" ensure_chromium fonts-noto-cjk "Chinese text in reports and PDFs"
fi

if ! [ -x /usr/bin/chromium ]; then
    echo "ensure_chromium: apt-get ran but /usr/bin/chromium is still missing" >&2
    exit 1
fi
