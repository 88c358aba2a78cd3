"""
The AI/ML API's wire format, and nothing else: URLs, the music models and their rules (the
catalogue, ``MUSIC_MODELS``), request bodies, response parsing, statuses, error classification,
usage, the client request id, redaction.

It performs no I/O, so the sync client (requests), the async client (aiohttp), the emulator's tests
and the unit tests all share this one reading of the service. It imports nothing heavy: operator
modules use it at DAG-parse time to validate input.
"""

from __future__ import annotations

from airflow_provider_music.wire._catalogue import MUSIC_MODELS, TYPED_FIELDS, FieldRule, MusicModel
from airflow_provider_music.wire._models import (
    USER_AGENT,
    ApiRequest,
    Generation,
    GenerationStatus,
    Operation,
    Submission,
)
from airflow_provider_music.wire._redaction import redact, redact_url
from airflow_provider_music.wire._requests import (
    GENERATE_AUDIO_PATH,
    GENERATION_ID_MAX_CHARS,
    PROBE_GENERATION_ID,
    auth_headers,
    build_probe_request,
    build_status_request,
    build_submit_request,
    coerce_music_length,
    model_of,
    normalize_base_url,
    validate_generation_id,
)
from airflow_provider_music.wire._responses import (
    ProbeVerdict,
    StatusClass,
    classify_probe_status,
    classify_status,
    connection_test_result,
    error_from_response,
    failure_message,
    generation_failure_text,
    parse_generation_response,
    parse_retry_after,
    parse_submission,
    parse_submit_response,
)
from airflow_provider_music.wire._tracing import (
    CLIENT_REQUEST_ID_HEADER,
    CLIENT_REQUEST_ID_MAX_CHARS,
    client_request_id,
    is_valid_client_request_id,
)
from airflow_provider_music.wire._usage import CREDITS_HEADER, USD_HEADER, parse_usage, usage_text
from airflow_provider_music.wire._validation import (
    build_body,
    expected_format,
    unknown_model_warning,
    validate_extra_body,
    validate_model,
    validate_music_length,
    validate_prompt,
    validate_submission,
)

__all__ = [
    "CLIENT_REQUEST_ID_HEADER",
    "CLIENT_REQUEST_ID_MAX_CHARS",
    "CREDITS_HEADER",
    "GENERATE_AUDIO_PATH",
    "GENERATION_ID_MAX_CHARS",
    "MUSIC_MODELS",
    "PROBE_GENERATION_ID",
    "TYPED_FIELDS",
    "USD_HEADER",
    "USER_AGENT",
    "ApiRequest",
    "FieldRule",
    "Generation",
    "GenerationStatus",
    "MusicModel",
    "Operation",
    "ProbeVerdict",
    "StatusClass",
    "Submission",
    "auth_headers",
    "build_body",
    "build_probe_request",
    "build_status_request",
    "build_submit_request",
    "classify_probe_status",
    "classify_status",
    "client_request_id",
    "coerce_music_length",
    "connection_test_result",
    "error_from_response",
    "expected_format",
    "failure_message",
    "generation_failure_text",
    "is_valid_client_request_id",
    "model_of",
    "normalize_base_url",
    "parse_generation_response",
    "parse_retry_after",
    "parse_submission",
    "parse_submit_response",
    "parse_usage",
    "redact",
    "redact_url",
    "unknown_model_warning",
    "usage_text",
    "validate_extra_body",
    "validate_generation_id",
    "validate_model",
    "validate_music_length",
    "validate_prompt",
    "validate_submission",
]
