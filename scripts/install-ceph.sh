#!/usr/bin/env bash
# Install the Ceph daemons that tests/s3_server.py runs as a throw-away S3 server (RADOS Gateway).
# Idempotent: does nothing when the packages are already installed; runs `apt-get update` only when
# something has to be installed. Debian/Ubuntu only; must run as root.
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd ceph-common)

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
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-ceph.sh: already installed: ${PACKAGES[*]}"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-ceph.sh: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null

for cmd in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "install-ceph.sh: '$cmd' still missing after install" >&2
        exit 1
    fi
done
echo "install-ceph.sh: done ($(ceph --version 2>/dev/null | head -n1))"
