"""Wait for a generation and deliver its audio into object storage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_music.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONN_ID,
    DEFAULT_IF_EXISTS,
    DEFAULT_MAX_AUDIO_BYTES,
    DEFAULT_MAX_CONSECUTIVE_POLL_FAILURES,
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_TIMEOUT_S,
)
from airflow_provider_music.delivery import validate_options
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.integration import (
    MUSIC_EXTRA_LINKS,
    REQUEST_KEY,
    DeliversAudio,
    mapping_value,
    validate_wait,
)
from airflow_provider_music.wire import coerce_music_length, model_of, validate_generation_id

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath, XComArg

    from airflow_provider_music.integration import PollProgress
    from airflow_provider_music.quality import QualityGate
    from airflow_provider_music.wire import Generation

__all__ = ["MusicGenerationSensor"]


class MusicGenerationSensor(DeliversAudio, BaseSensorOperator):
    """
    Wait until a generation is complete, then stream its audio into object storage.

    Deferrable by default: the wait runs in the triggerer and holds no worker slot; the download
    runs on a worker when the trigger fires. Returns (and pushes to XCom) the track's manifest.

    :param generation_id: Id of the generation (templated), usually the submit task's XCom.
    :param destination: Where to store the audio (templated): a URI string or ``ObjectStoragePath``.
        Ending in ``/`` it is a folder and the object is named after the generation id; ending in an
        audio extension (``.wav``, ``.mp3``, ...) it is the object's full path; any other name is the
        object's name without extension (the audio's format adds it). Absolute local paths,
        ``file:///``, ``s3://`` and any fsspec scheme work; a relative local path is refused. Checked
        (with the storage connection and the bucket) before deferring or the first poke.
    :param conn_id: Airflow connection id of type ``aimlapi``.
    :param storage_conn_id: Airflow connection for the storage (for example an ``aws`` connection).
    :param poll_interval: Seconds between status checks (default 10). ``poke_interval``, Airflow's
        name for it, is accepted as an alias; giving both with different values is refused.
    :param timeout: Seconds to wait for the generation before failing (default 30 minutes).
    :param deferrable: Wait in the triggerer (default: True unless the deployment explicitly set
        ``[operators] default_deferrable``). With False, poke (``mode="poke"`` or ``"reschedule"``).
    :param if_exists: ``"overwrite"`` (default), ``"skip"`` (keep the existing object, return its
        manifest) or ``"fail"``.
    :param write_sidecar: Also write ``<name>.json`` with the manifest next to the audio.
    :param object_name: Name of the stored object without extension (templated, e.g.
        ``"{{ (dag_run.logical_date or dag_run.run_after) | ds }}"``, which also renders in runs
        without a logical date); the extension follows the audio's format and ``destination`` is
        then the folder.
    :param chunk_size: Memory budget unit of the delivery: peak growth stays near two of these
        (socket reads of at most 1 MiB; storage blocks of half a chunk, at least 5 MiB on S3).
    :param max_bytes: Largest download accepted; larger ones stop and leave nothing behind.
    :param max_consecutive_failures: Transient poll failures in a row tolerated while waiting.
    :param asset_alias: Name of an Airflow ``AssetAlias`` through which each stored track is emitted
        as an asset event (URI without connection id; extra: id, sha256, size, duration,
        sidecar URI), so downstream DAGs can be scheduled on new audio.
    :param prompt: Optional, recorded in the manifest (the sensor does not send it anywhere).
    :param model: Optional, recorded in the manifest.
    :param music_length_ms: Optional, recorded in the manifest.
    :param usage: Optional (templated), recorded in the manifest as ``usage``: what the service
        reported the generation cost, as the submit task pushed it (``XComArg(submit, key="usage")``).
        A mapping, ``None``, or its JSON / Python-literal text.
    :param client_request_id: Optional (templated), recorded in the manifest: the
        ``X-Client-Request-Id`` the submit task sent (``XComArg(submit, key="client_request_id")``).
    :param request: Optional (templated), recorded in the manifest as ``request``: the body the
        submit task sent (``XComArg(submit, key="request")``: the model's fields, lyrics as given).
        A mapping, ``None``, or its JSON / Python-literal text.
    :param analyze: Analyse the track (loudness, true peak, silence, clipping, length) into the
        manifest's ``analysis``; default: when the ``audio`` extra is installed.
    :param quality: A ``QualityGate`` (or a dict of its rules) the track must pass to be published; a
        track that fails is kept under ``rejected/`` with its manifest and the task fails (no retry).
        The length rule needs the requested length: ``request=`` or ``music_length_ms=``.
    :param waveform: Also store ``<name>.png`` (waveform picture) and ``<name>.peaks.json`` beside it.
    """

    template_fields: Sequence[str] = (
        "generation_id",
        "destination",
        "object_name",
        "prompt",
        "music_length_ms",
        "usage",
        "client_request_id",
        "request",
    )
    ui_color = "#f3e5f5"
    # "Listen" (the provider's page in the api-server) and, for S3, "S3 console": made per try.
    operator_extra_links = MUSIC_EXTRA_LINKS

    def __init__(
        self,
        *,
        generation_id: str | XComArg,
        destination: str | ObjectStoragePath,
        conn_id: str = DEFAULT_CONN_ID,
        storage_conn_id: str | None = None,
        poll_interval: float | timedelta | None = None,
        timeout: float | timedelta = DEFAULT_TIMEOUT_S,
        deferrable: bool | None = None,
        if_exists: str = DEFAULT_IF_EXISTS,
        write_sidecar: bool = True,
        object_name: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_POLL_FAILURES,
        asset_alias: str | None = None,
        prompt: str | None = None,
        model: str | None = None,
        music_length_ms: int | str | None = None,
        usage: Mapping[str, Any] | str | XComArg | None = None,
        client_request_id: str | XComArg | None = None,
        request: Mapping[str, Any] | str | XComArg | None = None,
        analyze: bool | None = None,
        quality: QualityGate | Mapping[str, Any] | None = None,
        waveform: bool = False,
        **kwargs: Any,
    ) -> None:
        interval = _poll_interval(poll_interval, kwargs.pop("poke_interval", None))
        poll_s, timeout_s = validate_wait(interval, timeout)
        kwargs = self.with_asset_alias(kwargs, asset_alias)
        super().__init__(poke_interval=poll_s, timeout=timeout_s, **kwargs)
        self.generation_id = cast("str", generation_id)  # an XComArg renders to the id before execute
        self.prompt = prompt
        self.model = model
        self.music_length_ms = music_length_ms
        self.usage = usage
        self.client_request_id = client_request_id
        self.request = request
        self._set_delivery(
            destination=destination,
            conn_id=conn_id,
            storage_conn_id=storage_conn_id,
            poll_interval=poll_s,
            deferrable=deferrable,
            if_exists=if_exists,
            write_sidecar=write_sidecar,
            object_name=object_name,
            chunk_size=chunk_size,
            max_bytes=max_bytes,
            max_consecutive_failures=max_consecutive_failures,
            asset_alias=asset_alias,
            analyze=analyze,
            quality=quality,
            waveform=waveform,
        )

    def _request_info(self) -> dict[str, Any]:
        return {
            "model": self.model or model_of(self.generation_id),
            "prompt": self.prompt,
            "music_length_ms": coerce_music_length(self.music_length_ms),
            REQUEST_KEY: mapping_value(self.request, REQUEST_KEY, "XComArg(submit, key='request')"),
            "usage": mapping_value(self.usage, "usage", "XComArg(submit, key='usage')"),
            "client_request_id": _client_request_id_value(self.client_request_id),
        }

    def _check_inputs(self) -> None:
        validate_generation_id(self.generation_id)
        validate_options(self._delivery_options())
        # refuses a `usage`, `request` or `client_request_id` that is not one
        self._check_quality_inputs(self._request_info())

    def execute(self, context: Context) -> Any:
        """Check the destination, then defer to the trigger (or poke from here)."""
        self._check_inputs()
        # Before waiting (and before the first poke): a destination that cannot take the audio fails
        # now, not after the wait. The submit task has paid already; this saves the wait and makes
        # the error plain.
        self._check_destination(f"Checked before waiting for generation {self.generation_id}.")
        if not self.deferrable:
            from airflow_provider_music.integration import PollProgress

            self._progress = PollProgress(self.generation_id, self.log)
            return super().execute(context)
        # Imported when deferring: the trigger brings the async HTTP client (not for DAG parsing).
        from airflow_provider_music.triggers.music import MusicGenerationTrigger

        self.log.info(
            "Deferring until generation %s is done (timeout %.0fs)", self.generation_id, self.timeout
        )
        self._defer_until_done(MusicGenerationTrigger, self.generation_id, self.timeout)

    _progress: PollProgress | None = None

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """One status read: False while pending, else deliver (or raise for a failed generation)."""
        generation = self.hook.get_generation(self.generation_id)
        if self._progress is None:  # poke() called on its own (reschedule mode keeps no state anyway)
            from airflow_provider_music.integration import PollProgress

            self._progress = PollProgress(self.generation_id, self.log)
        self._progress.observe(generation.raw_status)
        if generation.status.is_pending():
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._deliver(context, generation))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: refuse unknown events, deliver on success."""
        from airflow_provider_music.integration import raise_for_event, resume_summary

        self.log.info("%s", resume_summary(event))
        raise_for_event(event, self.generation_id)
        return self._deliver(context)

    def _deliver(self, context: Context, generation: Generation | None = None) -> dict[str, Any]:
        return self._deliver_generation(context, self.generation_id, self._request_info(), generation)


def _poll_interval(poll_interval: object, poke_interval: object) -> object:
    """``poll_interval``, or Airflow's own name for it; both given with different values is refused."""
    if poke_interval is None:
        return DEFAULT_POLL_INTERVAL_S if poll_interval is None else poll_interval
    poke_s = validate_wait(poke_interval, 1)[0] if _is_seconds(poke_interval) else None
    if poke_s is None:
        raise MusicInputError(
            f"poke_interval (an alias of poll_interval) must be a positive number of seconds, got "
            f"{poke_interval!r}"
        )
    if poll_interval is not None:
        poll_s = validate_wait(poll_interval, 1)[0]
        if poll_s != poke_s:
            raise MusicInputError(
                f"poll_interval={poll_interval!r} and poke_interval={poke_interval!r} disagree: "
                "poke_interval is Airflow's name for poll_interval; give only one of them"
            )
    return poke_interval


def _is_seconds(value: object) -> bool:
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    return isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0


def _client_request_id_value(value: object) -> str | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    if isinstance(value, str) and len(value) <= 128:
        return value
    raise MusicInputError(
        "client_request_id must be the submit task's XCom 'client_request_id' (a string of at most "
        f"128 characters, or None), got {value!r:.200}"
    )
