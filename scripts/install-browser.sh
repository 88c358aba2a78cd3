#!/usr/bin/env bash
# Install the headless browser that tests/ui drives: Debian's `chromium` and the matching
# `chromium-driver` (chromedriver), so no browser is ever downloaded outside the package manager.
# Idempotent: does nothing when both are installed; runs `apt-get update` only when something has to be
# installed. Debian/Ubuntu only; must run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"

apt_ensure install-browser.sh chromium chromium-driver
if [[ ${#APT_MISSING[@]} -eq 0 ]]; then
    exit 0
fi
require_commands install-browser.sh chromium chromedriver
echo "install-browser.sh: done ($(chromium --version 2>/dev/null | head -n1))"
