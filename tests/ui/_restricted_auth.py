"""
Airflow's Simple auth manager with one restriction, for the listening page's access tests.

The Simple auth manager lets every user read every DAG; a real deployment's auth manager (FAB,
Keycloak, ...) grants DAGs per user or role. This one answers ``is_authorized_dag`` like the Simple
auth manager, except that ``OUTSIDER`` may not touch the DAGs in ``HIDDEN_DAGS``: the page must then
answer 403, as it would for any auth manager that says no.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

OUTSIDER = "outsider"
HIDDEN_DAGS = frozenset({"listen_music"})


class RestrictedAuthManager(SimpleAuthManager):
    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        if getattr(user, "username", None) == OUTSIDER and getattr(details, "id", None) in HIDDEN_DAGS:
            return False
        return bool(
            super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
        )
