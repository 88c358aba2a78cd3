"""
Apache Airflow provider for the AI/ML API's music generation (``elevenlabs/eleven_music``).

``__all__`` below is the public surface: every name users receive or import. Names load on first
access (PEP 562), so importing a submodule (which runs this file first: the operators at DAG-parse
time, Airflow's provider discovery) costs nothing beyond it. The layer packages under this one
(``wire``, ``clients``, ``storage``, ``delivery``, ``integration``) are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_music._lazy import lazy_exports

# The one place the version is written: pyproject.toml reads it from here (hatch `dynamic` version).
__version__ = "0.1.0"

_PUBLIC: dict[str, str] = {
    # The Airflow classes.
    "MusicGenerationHook": "airflow_provider_music.hooks.music",
    "SubmitMusicGenerationOperator": "airflow_provider_music.operators.music",
    "GenerateMusicOperator": "airflow_provider_music.operators.music",
    "MasterAudioOperator": "airflow_provider_music.operators.mastering",
    "MusicGenerationSensor": "airflow_provider_music.sensors.music",
    "MusicGenerationTrigger": "airflow_provider_music.triggers.music",
    # What the hook's methods return.
    "ApiSettings": "airflow_provider_music.hooks.music",
    "AudioFormat": "airflow_provider_music.hooks.music",
    "Generation": "airflow_provider_music.hooks.music",
    "GenerationStatus": "airflow_provider_music.hooks.music",
    "RetryPolicy": "airflow_provider_music.hooks.music",
    "StoredAudio": "airflow_provider_music.hooks.music",
    "Submission": "airflow_provider_music.hooks.music",
    # The quality gate's rules (GenerateMusicOperator and the sensor take one).
    "QualityGate": "airflow_provider_music.quality",
    # The operators' X-Client-Request-Id, for users who submit through the hook themselves.
    "client_request_id": "airflow_provider_music.wire",
    # The error tree.
    "MusicProviderError": "airflow_provider_music.exceptions",
    "MusicInputError": "airflow_provider_music.exceptions",
    "MusicAPIError": "airflow_provider_music.exceptions",
    "MusicAuthError": "airflow_provider_music.exceptions",
    "MusicCreditsError": "airflow_provider_music.exceptions",
    "MusicRejectedError": "airflow_provider_music.exceptions",
    "MusicTransientError": "airflow_provider_music.exceptions",
    "MusicUnreachableError": "airflow_provider_music.exceptions",
    "MusicSubmitUncertainError": "airflow_provider_music.exceptions",
    "MusicGenerationFailed": "airflow_provider_music.exceptions",
    "MusicTimeoutError": "airflow_provider_music.exceptions",
    "MusicQualityError": "airflow_provider_music.exceptions",
    "MusicDeliveryError": "airflow_provider_music.exceptions",
    "MusicAudioInvalidError": "airflow_provider_music.exceptions",
    "MusicAudioURLExpired": "airflow_provider_music.exceptions",
    "MusicDestinationExistsError": "airflow_provider_music.exceptions",
}

__all__ = [
    "ApiSettings",
    "AudioFormat",
    "GenerateMusicOperator",
    "Generation",
    "GenerationStatus",
    "MasterAudioOperator",
    "MusicAPIError",
    "MusicAudioInvalidError",
    "MusicAudioURLExpired",
    "MusicAuthError",
    "MusicCreditsError",
    "MusicDeliveryError",
    "MusicDestinationExistsError",
    "MusicGenerationFailed",
    "MusicGenerationHook",
    "MusicGenerationSensor",
    "MusicGenerationTrigger",
    "MusicInputError",
    "MusicProviderError",
    "MusicQualityError",
    "MusicRejectedError",
    "MusicSubmitUncertainError",
    "MusicTimeoutError",
    "MusicTransientError",
    "MusicUnreachableError",
    "QualityGate",
    "RetryPolicy",
    "StoredAudio",
    "Submission",
    "SubmitMusicGenerationOperator",
    "__version__",
    "client_request_id",
]

if TYPE_CHECKING:
    from airflow_provider_music.exceptions import (
        MusicAPIError,
        MusicAudioInvalidError,
        MusicAudioURLExpired,
        MusicAuthError,
        MusicCreditsError,
        MusicDeliveryError,
        MusicDestinationExistsError,
        MusicGenerationFailed,
        MusicInputError,
        MusicProviderError,
        MusicQualityError,
        MusicRejectedError,
        MusicSubmitUncertainError,
        MusicTimeoutError,
        MusicTransientError,
        MusicUnreachableError,
    )
    from airflow_provider_music.hooks.music import (
        ApiSettings,
        AudioFormat,
        Generation,
        GenerationStatus,
        MusicGenerationHook,
        RetryPolicy,
        StoredAudio,
        Submission,
    )
    from airflow_provider_music.operators.mastering import MasterAudioOperator
    from airflow_provider_music.operators.music import GenerateMusicOperator, SubmitMusicGenerationOperator
    from airflow_provider_music.quality import QualityGate
    from airflow_provider_music.sensors.music import MusicGenerationSensor
    from airflow_provider_music.triggers.music import MusicGenerationTrigger
    from airflow_provider_music.wire import client_request_id


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
