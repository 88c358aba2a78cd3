"""A local emulator of the AI/ML API music endpoints (``/v2/generate/audio``) and its audio CDN.

Standard library only, so it ships in the package and runs with
``python -m airflow_provider_music.emulator``. Tests use `Emulator` in-process::

    with Emulator(generation_seconds=0.3) as emu:
        auth = {"Authorization": f"Bearer {emu.api_key}"}
        httpx.post(f"{emu.base_url}/v2/generate/audio", headers=auth, json={...})

Admin API on the API port (no auth): ``GET /_emulator/stats``, ``POST /_emulator/reset``,
``GET|POST /_emulator/config``, ``GET|POST|DELETE /_emulator/faults``, ``GET|POST
/_emulator/generations/<quoted id>``, ``GET /_emulator/health``.

Fault rule: ``{"target": "post"|"get"|"audio", "action": ..., "times": 1 (-1 forever),
"match": "substring of generation id or prompt", **params}``; see `FaultRule` and ``_faults.ACTIONS``.
"""

from __future__ import annotations

from ._audio import (
    CONTENT_TYPES,
    FORMATS,
    audio_size,
    audio_stream,
    expected_audio,
    mp3_stream,
    wav_stream,
)
from ._faults import ACTIONS, FaultRule
from ._server import Emulator, EmulatorServer
from ._state import MODELS, Config

__all__ = [
    "ACTIONS",
    "CONTENT_TYPES",
    "FORMATS",
    "MODELS",
    "Config",
    "Emulator",
    "EmulatorServer",
    "FaultRule",
    "audio_size",
    "audio_stream",
    "expected_audio",
    "mp3_stream",
    "wav_stream",
]
