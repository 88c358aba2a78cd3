"""What ``airflow providers list`` and the connection form learn about this provider."""

from __future__ import annotations

from typing import Any

from airflow_provider_music import __version__
from airflow_provider_music.defaults import (
    CONFIG_SECTION,
    CONFIG_TRIGGERER_GC_FREEZE,
    CONN_TYPE,
    CONNECTION_HIDDEN_FIELDS,
    CONNECTION_PLACEHOLDERS,
    CONNECTION_RELABELING,
    DEFAULT_TRIGGERER_GC_FREEZE,
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
        "config": {
            CONFIG_SECTION: {
                "description": "Options of the AI/ML API music provider.",
                "options": {
                    CONFIG_TRIGGERER_GC_FREEZE: {
                        "description": "Call gc.collect() then gc.freeze() once in a triggerer process, "
                        "on the first MusicGenerationTrigger run: the garbage collector's full passes then "
                        "skip what is alive at that moment (mostly Airflow itself), which keeps the event "
                        "loop free of 100+ ms stalls with many triggers. It acts on the whole triggerer "
                        "process: objects alive then that later die in a reference cycle are never "
                        "reclaimed (a one-time cost, bounded by the heap at that moment). Set it to False "
                        "to leave the triggerer's garbage collector alone.",
                        "version_added": "0.2.0",
                        "type": "boolean",
                        "example": "False",
                        "default": str(DEFAULT_TRIGGERER_GC_FREEZE),
                    }
                },
            }
        },
    }
