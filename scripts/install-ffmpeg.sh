#!/usr/bin/env bash
# Install the reference the audio analysis is checked against (tests/unit/analysis): Debian's `ffmpeg`,
# whose `ebur128` filter measures loudness, loudness range and true peak independently of our code.
# Idempotent: does nothing when it is installed; runs `apt-get update` only when something has to be
# installed. Debian/Ubuntu only; must run as root.
set -euo pipefail

PACKAGES=(ffmpeg)

if [[ "$(id -u)" -ne 0 ]]; then
    echo "install-ffmpeg.sh: must run as root (try: sudo bash $0)" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-ffmpeg.sh: apt-get not found; this script supports Debian/Ubuntu only" >&2
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
    echo "install-ffmpeg.sh: already installed: ${PACKAGES[*]}"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-ffmpeg.sh: installing ${missing[*]}"
# Quiet on success (debconf chatters on stderr); the whole apt log is shown when it fails.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-ffmpeg.sh: apt-get failed to install ${missing[*]}" >&2
    exit 1
fi

for cmd in ffmpeg; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "install-ffmpeg.sh: '$cmd' still missing after install" >&2
        exit 1
    fi
done
echo "install-ffmpeg.sh: done ($(ffmpeg -version 2>/dev/null | head -n1))"
