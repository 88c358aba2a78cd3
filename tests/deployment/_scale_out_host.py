"""
``[core] hostname_callable`` for the scale-out deployment test: each process says which "host" it is.

Every process of that test runs on this one machine, but each stands for a host (or pod) of its own;
``SCALE_OUT_HOSTNAME`` in its environment names it, so the task instances, trigger rows and jobs in
the metadata database record which worker or triggerer did what, as they would across real hosts.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("SCALE_OUT_HOSTNAME") or socket.getfqdn()
