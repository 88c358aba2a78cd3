"""
Airflow's Simple auth manager with one restriction, for the listening page's access tests.

The Simple auth manager lets every user read every DAG; a real deployment's auth manager (FAB,
Keycloak, ...) grants DAGs per user or role. This one answers ``is_authorized_dag`` like the Simple
auth manager, except that the user named by ``RESTRICTED_AUTH_USER`` may not touch the DAGs listed
(comma-separated) in ``RESTRICTED_AUTH_DAGS``: the page must then answer 403, as it would for any
auth manager that says no. Loaded by the api-server only (``[core] auth_manager``), never by pytest.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

OUTSIDER = os.environ.get("RESTRICTED_AUTH_USER", "")
HIDDEN_DAGS = frozenset(filter(None, os.environ.get("RESTRICTED_AUTH_DAGS", "").split(",")))


class RestrictedAuthManager(SimpleAuthManager):
    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        if (
            OUTSIDER
            and getattr(user, "username", None) == OUTSIDER
            and getattr(details, "id", None) in HIDDEN_DAGS
        ):
            return False
        return bool(
            super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
        )
