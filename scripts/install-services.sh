#!/usr/bin/env bash
# Install the servers the scale-out deployment test (tests/deployment/test_scale_out.py) runs from a
# temporary folder: PostgreSQL (the metadata database) and Redis (the Celery broker). Idempotent: does
# nothing when they are installed already, and runs `apt-get update` only when something has to be
# installed. Debian/Ubuntu, as root (CI runs as root).
#
#   postgresql    the server programs (initdb, postgres under /usr/lib/postgresql/<version>/bin) and
#                 the `postgres` system user the test runs them as (PostgreSQL refuses to run as root)
#   redis-server  the broker (redis-server)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"

apt_missing install-services.sh postgresql redis-server
if [[ ${#APT_MISSING[@]} -gt 0 ]]; then
    # policy-rc.d answers 101 ("action not allowed") so the packages' own services are not started: the
    # test starts its own servers, on free ports, from a temporary folder, and nothing should keep running
    # after the install.
    created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    status=0
    apt_install install-services.sh || status=$?
    if [[ $created_policy -eq 1 ]]; then
        rm -f /usr/sbin/policy-rc.d
    fi
    if [[ $status -ne 0 ]]; then
        exit 1
    fi
fi

initdb="$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "$initdb" || ! -x "$(dirname "$initdb")/postgres" ]]; then
    echo "install-services.sh: PostgreSQL's initdb/postgres are missing although postgresql is installed" >&2
    exit 1
fi
if ! getent passwd postgres >/dev/null; then
    echo "install-services.sh: the postgres system user is missing although postgresql is installed" >&2
    exit 1
fi
require_commands install-services.sh redis-server
echo "install-services.sh: ready: $("$(dirname "$initdb")/postgres" --version), $(redis-server --version | cut -d' ' -f1-3)"
