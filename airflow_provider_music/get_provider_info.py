"""What ``airflow providers list`` and the connection form learn about this provider."""

from __future__ import annotations

from typing import Any

from airflow_provider_music import __version__
from airflow_provider_music.defaults import (
    CONN_TYPE,
    CONNECTION_HIDDEN_FIELDS,
    CONNECTION_PLACEHOLDERS,
    CONNECTION_RELABELING,
    HOOK_NAME,
)


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-music",
        "name": "AI/ML API Music",
        "description": "Generate music from text prompts with the AI/ML API (`elevenlabs/eleven_music`) "
        "and deliver the audio into object storage.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "AI/ML API Music",
                "external-doc-url": "https://docs.aimlapi.com/api-references/music-models/elevenlabs/eleven_music",
                "tags": ["ai", "audio"],
            }
        ],
        "hooks": [
            {"integration-name": "AI/ML API Music", "python-modules": ["airflow_provider_music.hooks.music"]}
        ],
        "operators": [
            {
                "integration-name": "AI/ML API Music",
                "python-modules": ["airflow_provider_music.operators.music"],
            }
        ],
        "sensors": [
            {
                "integration-name": "AI/ML API Music",
                "python-modules": ["airflow_provider_music.sensors.music"],
            }
        ],
        "triggers": [
            {
                "integration-name": "AI/ML API Music",
                "python-modules": ["airflow_provider_music.triggers.music"],
            }
        ],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": "airflow_provider_music.hooks.music.MusicGenerationHook",
                "hook-name": HOOK_NAME,
                "ui-field-behaviour": {
                    "hidden-fields": list(CONNECTION_HIDDEN_FIELDS),
                    "relabeling": dict(CONNECTION_RELABELING),
                    "placeholders": dict(CONNECTION_PLACEHOLDERS),
                },
            }
        ],
    }
