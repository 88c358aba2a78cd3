#!/usr/bin/env bash
# Install the headless browser that tests/ui drives: Debian's `chromium` and the matching
# `chromium-driver` (chromedriver), so no browser is ever downloaded outside the package manager.
# Idempotent: does nothing when both are installed; runs `apt-get update` only when something has
# to be installed. Debian/Ubuntu only; must run as root.
set -euo pipefail

PACKAGES=(chromium chromium-driver)

if [[ "$(id -u)" -ne 0 ]]; then
    echo "install-browser.sh: must run as root (try: sudo bash $0)" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser.sh: apt-get not found; this script supports Debian/Ubuntu only" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-browser.sh: already installed: ${PACKAGES[*]}"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-browser.sh: installing ${missing[*]}"
# Quiet on success (debconf chatters on stderr); the whole apt log is shown when it fails.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-browser.sh: apt-get failed to install ${missing[*]}" >&2
    exit 1
fi

for cmd in chromium chromedriver; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "install-browser.sh: '$cmd' still missing after install" >&2
        exit 1
    fi
done
echo "install-browser.sh: done ($(chromium --version 2>/dev/null | head -n1))"
