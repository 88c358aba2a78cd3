"""
The AI/ML API's wire format, and nothing else: URLs, the music models and their rules (the
catalogue, ``MUSIC_MODELS``), request bodies, response parsing, statuses, error classification,
usage, the client request id, redaction.

It performs no I/O, so the sync client (requests), the async client (aiohttp), the emulator's tests
and the unit tests all share this one reading of the service. It imports nothing heavy: operator
modules use it at DAG-parse time to validate input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_music._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_music.wire._catalogue import MUSIC_MODELS, TYPED_FIELDS, FieldRule, MusicModel
    from airflow_provider_music.wire._models import (
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
        USER_AGENT,
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

# PEP 562: each name is imported from its module on first use, so importing the package loads
# only the modules whose names are used (DAG-parse time pays for nothing else).
_EXPORTS: dict[str, str] = {
    "MUSIC_MODELS": "airflow_provider_music.wire._catalogue",
    "TYPED_FIELDS": "airflow_provider_music.wire._catalogue",
    "FieldRule": "airflow_provider_music.wire._catalogue",
    "MusicModel": "airflow_provider_music.wire._catalogue",
    "USER_AGENT": "airflow_provider_music.wire._requests",
    "ApiRequest": "airflow_provider_music.wire._models",
    "Generation": "airflow_provider_music.wire._models",
    "GenerationStatus": "airflow_provider_music.wire._models",
    "Operation": "airflow_provider_music.wire._models",
    "Submission": "airflow_provider_music.wire._models",
    "redact": "airflow_provider_music.wire._redaction",
    "redact_url": "airflow_provider_music.wire._redaction",
    "GENERATE_AUDIO_PATH": "airflow_provider_music.wire._requests",
    "GENERATION_ID_MAX_CHARS": "airflow_provider_music.wire._requests",
    "PROBE_GENERATION_ID": "airflow_provider_music.wire._requests",
    "auth_headers": "airflow_provider_music.wire._requests",
    "build_probe_request": "airflow_provider_music.wire._requests",
    "build_status_request": "airflow_provider_music.wire._requests",
    "build_submit_request": "airflow_provider_music.wire._requests",
    "coerce_music_length": "airflow_provider_music.wire._requests",
    "model_of": "airflow_provider_music.wire._requests",
    "normalize_base_url": "airflow_provider_music.wire._requests",
    "validate_generation_id": "airflow_provider_music.wire._requests",
    "ProbeVerdict": "airflow_provider_music.wire._responses",
    "StatusClass": "airflow_provider_music.wire._responses",
    "classify_probe_status": "airflow_provider_music.wire._responses",
    "classify_status": "airflow_provider_music.wire._responses",
    "connection_test_result": "airflow_provider_music.wire._responses",
    "error_from_response": "airflow_provider_music.wire._responses",
    "failure_message": "airflow_provider_music.wire._responses",
    "generation_failure_text": "airflow_provider_music.wire._responses",
    "parse_generation_response": "airflow_provider_music.wire._responses",
    "parse_retry_after": "airflow_provider_music.wire._responses",
    "parse_submission": "airflow_provider_music.wire._responses",
    "parse_submit_response": "airflow_provider_music.wire._responses",
    "CLIENT_REQUEST_ID_HEADER": "airflow_provider_music.wire._tracing",
    "CLIENT_REQUEST_ID_MAX_CHARS": "airflow_provider_music.wire._tracing",
    "client_request_id": "airflow_provider_music.wire._tracing",
    "is_valid_client_request_id": "airflow_provider_music.wire._tracing",
    "CREDITS_HEADER": "airflow_provider_music.wire._usage",
    "USD_HEADER": "airflow_provider_music.wire._usage",
    "parse_usage": "airflow_provider_music.wire._usage",
    "usage_text": "airflow_provider_music.wire._usage",
    "build_body": "airflow_provider_music.wire._validation",
    "expected_format": "airflow_provider_music.wire._validation",
    "unknown_model_warning": "airflow_provider_music.wire._validation",
    "validate_extra_body": "airflow_provider_music.wire._validation",
    "validate_model": "airflow_provider_music.wire._validation",
    "validate_music_length": "airflow_provider_music.wire._validation",
    "validate_prompt": "airflow_provider_music.wire._validation",
    "validate_submission": "airflow_provider_music.wire._validation",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


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
