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
source "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"

# Daemons are not started: the packages' service units are irrelevant, the tests start their own daemons
# from a temporary folder.
apt_ensure install-ceph.sh radosgw ceph-mon ceph-osd ceph-common
require_commands install-ceph.sh monmaptool ceph-mon ceph-osd radosgw radosgw-admin ceph
echo "install-ceph.sh: ready: $(ceph --version 2>/dev/null | head -n 1)"
