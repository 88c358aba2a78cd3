#!/usr/bin/env bash
# Install the Ceph programs that tests/helpers/s3_server.py runs as a throw-away S3 server (RADOS Gateway with
# one monitor and one in-memory OSD). Idempotent: does nothing when they are installed already, and runs
# `apt-get update` only when something has to be installed. Debian/Ubuntu, as root (CI runs as root).
#
#   radosgw    the S3 gateway (radosgw)
#   ceph-mon   the monitor (ceph-mon; pulls in ceph-base for monmaptool)
#   ceph-osd   the object store daemon (ceph-osd; memstore needs no disk)
#   ceph-common  the `ceph` and `radosgw-admin` tools (a dependency anyway; named to make it explicit)
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd ceph-common)
PROGRAMS=(monmaptool ceph-mon ceph-osd radosgw radosgw-admin ceph)

if [[ "$(id -u)" -ne 0 ]]; then
    echo "install-ceph.sh: must run as root (try: sudo bash $0)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-ceph.sh: apt-get not found; this script supports Debian/Ubuntu only" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
    echo "install-ceph.sh: installing ${missing[*]}"
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    # Quiet on success; on failure show everything apt said. Daemons are not started: the packages'
    # service units are irrelevant, the tests start their own daemons from a temporary folder.
    if ! {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                -o Dpkg::Use-Pty=0 "${missing[@]}"
    } >"$log" 2>&1; then
        cat "$log" >&2
        echo "install-ceph.sh: apt-get failed to install ${missing[*]}" >&2
        exit 1
    fi
fi

for program in "${PROGRAMS[@]}"; do
    if ! command -v "$program" >/dev/null 2>&1; then
        echo "install-ceph.sh: '$program' is missing although ${PACKAGES[*]} are installed" >&2
        exit 1
    fi
done
echo "install-ceph.sh: ready: $(ceph --version 2>/dev/null | head -n 1)"
