#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run every
# test: core unit tests, AppTest page tests and the real-browser tests.
# Extra arguments go to pytest (for example: bash scripts/test.sh -k roc).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --disable-pip-version-check --root-user-action=ignore -q -r requirements-dev.txt

# The browser tests use Debian's Chromium (Playwright's own download does not
# work everywhere). An emoji font makes the screenshots readable.
# --no-install-recommends: the recommended extras (avahi, CUPS and Samba
# helpers, udev, upower, a terminal, dozens of Perl modules) took the install
# from 20 packages to 108 on Debian 12 (apt-get install -s), and a headless
# Chromium never opens a file of theirs.
missing=()
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/lib/chromium/chromium ]; then
    missing+=(chromium)
fi
if [ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
    missing+=(fonts-noto-color-emoji)
fi
# tests/test_replicas.py runs replicas of the app behind Debian's nginx (deploy/nginx.conf).
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    missing+=(nginx)
fi
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "Installing ${missing[*]} with apt-get..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Fail loudly, never skip, when the browser cannot start.
browser=/usr/lib/chromium/chromium
[ -x "$browser" ] || browser=$(command -v chromium)
"$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --dump-dom about:blank >/dev/null 2>&1 || { echo "Chromium cannot run: $browser" >&2; exit 1; }

python3 -m pytest "$@"
