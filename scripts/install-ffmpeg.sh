#!/usr/bin/env bash
# Install the reference the audio analysis is checked against (tests/unit/analysis): Debian's `ffmpeg`,
# whose `ebur128` filter measures loudness, loudness range and true peak independently of our code.
# Idempotent: does nothing when it is installed; runs `apt-get update` only when something has to be
# installed. Debian/Ubuntu only; must run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"

apt_ensure install-ffmpeg.sh ffmpeg
if [[ ${#APT_MISSING[@]} -eq 0 ]]; then
    exit 0
fi
require_commands install-ffmpeg.sh ffmpeg
echo "install-ffmpeg.sh: done ($(ffmpeg -version 2>/dev/null | head -n1))"
