"""
HTTP to the AI/ML API: settings, the sync (requests) and async (aiohttp) clients, the one retry
policy and bounded reader both use, transport-fault classification, and the audio download.

Nothing here imports requests, aiohttp or yarl at module level: the hook that uses these clients is
imported at DAG-parse time.
"""

from __future__ import annotations

from airflow_provider_music.clients._async import AsyncClient
from airflow_provider_music.clients._download import HttpAudioStream, check_audio_url, open_audio
from airflow_provider_music.clients._faults import (
    CHAIN_LIMIT,
    NOT_SENT_CAUSES,
    CauseTable,
    TransportCause,
    aiohttp_causes,
    classify_transport,
    exception_chain,
    exception_text,
    requests_causes,
    transport_error,
)
from airflow_provider_music.clients._retry import BoundedBody, RetryLog, RetryPolicy
from airflow_provider_music.clients._settings import (
    ApiSettings,
    SharedSettings,
    env_proxy,
    open_shared_settings,
    reset_shared_settings,
    shared_ssl_context,
)
from airflow_provider_music.clients._sync import SyncClient

__all__ = [
    "CHAIN_LIMIT",
    "NOT_SENT_CAUSES",
    "ApiSettings",
    "AsyncClient",
    "BoundedBody",
    "CauseTable",
    "HttpAudioStream",
    "RetryLog",
    "RetryPolicy",
    "SharedSettings",
    "SyncClient",
    "TransportCause",
    "aiohttp_causes",
    "check_audio_url",
    "classify_transport",
    "env_proxy",
    "exception_chain",
    "exception_text",
    "open_audio",
    "open_shared_settings",
    "requests_causes",
    "reset_shared_settings",
    "shared_ssl_context",
    "transport_error",
]
