# shellcheck shell=bash
# Sourced by the install-*.sh scripts: the apt steps they share. Debian/Ubuntu only; needs root.
# Every message starts with the calling script's name (the NAME argument).
set -euo pipefail

# apt_missing NAME PACKAGE...: sets APT_PACKAGES and APT_MISSING (those not installed yet); exits 1
# when not root or without apt-get.
apt_missing() {
    local name="$1" pkg
    shift
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "$name: must run as root (try: sudo bash $0)" >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$name: apt-get not found; this script supports Debian/Ubuntu only" >&2
        exit 1
    fi
    APT_PACKAGES=("$@")
    APT_MISSING=()
    for pkg in "$@"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
            APT_MISSING+=("$pkg")
        fi
    done
    if [[ ${#APT_MISSING[@]} -eq 0 ]]; then
        echo "$name: already installed: ${APT_PACKAGES[*]}"
    fi
}

# apt_install NAME: installs APT_MISSING, quietly (debconf chatters on stderr); on failure shows the whole
# apt log and returns 1. A subshell, so its EXIT trap neither replaces nor fires the caller's; every step
# is checked explicitly because errexit is off when the caller writes `apt_install ... || status=$?`.
apt_install() (
    name="$1"
    echo "$name: installing ${APT_MISSING[*]}"
    log="$(mktemp)" || exit 1
    trap 'rm -f "$log"' EXIT
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq &&
        apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${APT_MISSING[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "$name: apt-get failed to install ${APT_MISSING[*]}" >&2
        exit 1
    fi
)

# apt_ensure NAME PACKAGE...: installs whichever PACKAGEs are missing (`apt-get update` only then).
apt_ensure() {
    apt_missing "$@"
    if [[ ${#APT_MISSING[@]} -gt 0 ]]; then
        apt_install "$1" || exit 1
    fi
}

# require_commands NAME COMMAND...: exits 1 unless every COMMAND is on PATH (a package can install without
# the program we need, e.g. after a rename).
require_commands() {
    local name="$1" cmd
    shift
    for cmd in "$@"; do
        if ! command -v "$cmd" >/dev/null 2>&1; then
            echo "$name: '$cmd' is missing although ${APT_PACKAGES[*]} are installed" >&2
            exit 1
        fi
    done
}
