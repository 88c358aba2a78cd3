"""What ``airflow providers list`` and the connection form learn about this provider."""

from __future__ import annotations

from typing import Any

from airflow_provider_music import __version__
from airflow_provider_music.defaults import (
    CONFIG_SECTION,
    CONFIG_TRIGGERER_GC_FREEZE,
    CONN_TYPE,
    CONNECT_TIMEOUT_S,
    CONNECTION_EXTRA_TIMEOUT,
    CONNECTION_HIDDEN_FIELDS,
    CONNECTION_PLACEHOLDERS,
    CONNECTION_RELABELING,
    DEFAULT_TRIGGERER_GC_FREEZE,
    HOOK_NAME,
    READ_TIMEOUT_S,
)

DESCRIPTION = (
    "Generate music from text prompts with the AI/ML API (the ElevenLabs Eleven Music model) "
    "and deliver the audio into object storage."
)


def get_provider_info() -> dict[str, Any]:
    """Return the provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""
    return {
        "package-name": "airflow-provider-music",
        "name": "AI/ML API Music",
        # Plain text: Airflow strips every `_`, backtick, `<` and `>` from this before showing it
        # (`airflow providers list`, Admin > Providers), so a model id would lose its underscore.
        "description": DESCRIPTION,
        # Newest first, as Airflow expects; the only release so far is this one (``__version__``).
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
                "python-modules": [
                    "airflow_provider_music.operators.music",
                    "airflow_provider_music.operators.mastering",
                ],
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
                # Airflow 3.2+ (version_compat.CONN_FIELDS_SUPPORTED) draws these as typed fields of the
                # connection form and stores each into the extra JSON under its own name; Airflow 3.1
                # ignores them (the Extra box, with its placeholder, still works there).
                "conn-fields": {
                    CONNECTION_EXTRA_TIMEOUT: {
                        "label": "Read timeout (seconds)",
                        "description": "Seconds to wait for each answer of the API (the connect "
                        f"timeout is fixed at {CONNECT_TIMEOUT_S:g} s). Empty: {READ_TIMEOUT_S:g} s.",
                        "schema": {"type": ["number", "null"], "minimum": 1},
                    }
                },
            }
        ],
        "config": {
            CONFIG_SECTION: {
                "description": "Options of the AI/ML API music provider.",
                "options": {
                    CONFIG_TRIGGERER_GC_FREEZE: {
                        "description": "Opt-in. When True, call gc.collect() then gc.freeze() once in a "
                        "triggerer process, on the first MusicGenerationTrigger run: the garbage "
                        "collector's full passes then skip what is alive at that moment (mostly Airflow "
                        "itself), which removes the 100+ ms event-loop stalls those passes cause in a busy "
                        "triggerer. It acts on the whole triggerer process, shared with every other "
                        "provider's triggers: objects alive then that later die in a reference cycle are "
                        "never reclaimed (a one-time cost, bounded by the heap at that moment). Turn it on "
                        "when the triggerer logs that triggers blocked the event loop and most of that "
                        "time was the collector's; the default, False, leaves the collector alone.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "True",
                        "default": str(DEFAULT_TRIGGERER_GC_FREEZE),
                    }
                },
            }
        },
    }
