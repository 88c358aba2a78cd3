"""A local emulator of the AI/ML API music endpoints (``/v2/generate/audio``) and its audio CDN.

Standard library only (MP3 of the music characters excepted: it needs the ``audio`` extra), so it
ships in the package and runs with ``python -m airflow_provider_music.emulator``. Tests use
`Emulator` in-process::

    with Emulator(hold=True) as emu:
        auth = {"Authorization": f"Bearer {emu.api_key}"}
        httpx.post(f"{emu.base_url}/v2/generate/audio", headers=auth, json={...})
        emu.release()  # every held generation completes now

Cost: a created generation costs 2,100 credits per second of music asked for (rounded up; 21,000
credits = 0.0105 USD for the default 10 s, at 2,000,000 credits per USD). ``usage`` (``both``,
``body``, ``headers``, ``none``) says where the POST answer reports it: ``meta.usage.credits_used``
(an integer) and ``meta.usage.usd_spent`` (a JSON number) in the body, ``x-aimlapi-credits-used``
(an integer) and ``x-aimlapi-usd-spent`` (a decimal string with 9 places, ``0.010500000``) in the
headers. Polls report no usage.

Tracing: an ``X-Client-Request-Id`` of 1-128 characters of ``[A-Za-z0-9._:-]`` is echoed as
``x-client-request-id`` and recorded on the generation (``client_request_id`` in the stats); any
other value is silently dropped (counted in ``client_request_ids_dropped``). Answers about a
generation (its POST, its polls) carry ``x-inference-id`` = the generation id.

Determinism: ``hold=True`` keeps new generations ``queued`` until `Emulator.release` (or ``POST
/_emulator/release``); ``polls_to_complete=N`` completes each generation on its Nth GET, whatever
the time. Tests wait for what a client did with `Emulator.wait_until`, `Emulator.wait_for_polls`
and `Emulator.wait_for_generations`, never for a fixed time.

Admin API on the API port (no auth): ``GET /_emulator/stats``, ``POST /_emulator/reset``,
``GET|POST /_emulator/config``, ``GET|POST|DELETE /_emulator/faults``, ``GET|POST
/_emulator/generations/<quoted id>``, ``POST /_emulator/release`` and ``POST /_emulator/hold``
(body ``{"generation_id": id (default: all), "status": ...}``), ``GET /_emulator/health``.

Fault rule: ``{"target": "post"|"get"|"audio", "action": ..., "times": 1 (-1 forever),
"match": "substring of generation id or prompt", **params}``; see `FaultRule` and `ACTIONS`.

Audio character (`CHARACTERS`, `AudioCharacter`): what the served audio sounds like, so audio-quality
checks can be tested with no key. ``default`` is the historical audio (a quiet arpeggio in WAV/PCM,
silent frames in MP3); ``music`` (-14 LUFS, true peak about -1.5 dBTP), ``quiet`` (-35 LUFS),
``loud`` (-6 LUFS, inter-sample peaks above 0 dBTP, no sample at full scale), ``clipping``
(hard-clipped at full scale), ``lead_silence`` / ``trail_silence`` (``seconds`` of digital silence,
default 5, at the start / end) and ``short`` (``ratio`` of the requested length, default 0.5) are a
real musical loop, really encoded for MP3 (the ``audio`` extra). Set for every new generation with
``audio_character`` (``Emulator(audio_character=...)``, ``configure()``, ``POST /_emulator/config``,
``--audio-character``), or for the next created one with the POST rule ``{"target": "post",
"action": "character", "character": "quiet"}``. `expected_audio` recomputes any of them.

Models: every model of the AI/ML API music catalogue (`MODELS`; `MODEL_SPECS` holds each one's fields,
limits, output format and length, from the vendor's schemas). A body breaking a model's rules (a
missing or mistyped field, a value out of range or not in its enum, a key the model does not take)
is answered 400 ``Body validation error`` with one ``details`` entry per problem, naming the field.

Modules, lowest first (each imports only from those before it): ``_character`` (audio characters),
``_music`` (the musical loop), ``_mp3`` (MP3 encoding), ``_synthesis`` (the audio), ``_models``
(the models' rules),
``_config`` (defaults, `Config`), ``_messages`` and ``_http`` (a small HTTP/1.1 server), ``_faults``
(fault rules), ``_state`` (generations and their statuses, counters), ``_responses`` and
``_validation``, ``_host`` (what the apps need from the server), ``_admin``, ``_api`` and ``_cdn``
(the apps), ``_server`` (`EmulatorServer`), ``_emulator`` (`Emulator`, in a thread), ``__main__``
(the CLI).
"""

from __future__ import annotations

from ._character import CHARACTER_PARAMS, CHARACTERS, AudioCharacter
from ._config import USAGE_MODES, Config
from ._emulator import Emulator
from ._faults import ACTIONS, FaultRule
from ._models import MODEL_SPECS, ModelSpec, Rule
from ._server import EmulatorServer
from ._state import CREDITS_PER_SECOND, CREDITS_PER_USD, MODELS, PENDING_STATUSES, usage_for
from ._synthesis import (
    CONTENT_TYPES,
    FORMATS,
    audio_size,
    audio_stream,
    expected_audio,
    mp3_stream,
    wav_stream,
)

__all__ = [
    "ACTIONS",
    "CHARACTERS",
    "CHARACTER_PARAMS",
    "CONTENT_TYPES",
    "CREDITS_PER_SECOND",
    "CREDITS_PER_USD",
    "FORMATS",
    "MODELS",
    "MODEL_SPECS",
    "PENDING_STATUSES",
    "USAGE_MODES",
    "AudioCharacter",
    "Config",
    "Emulator",
    "EmulatorServer",
    "FaultRule",
    "ModelSpec",
    "Rule",
    "audio_size",
    "audio_stream",
    "expected_audio",
    "mp3_stream",
    "usage_for",
    "wav_stream",
]
