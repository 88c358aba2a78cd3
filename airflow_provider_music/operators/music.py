"""Operators that create music generations (and, in one task, wait for and store them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_music import delivery
from airflow_provider_music.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONN_ID,
    DEFAULT_IF_EXISTS,
    DEFAULT_MAX_AUDIO_BYTES,
    DEFAULT_MAX_CONSECUTIVE_POLL_FAILURES,
    DEFAULT_MODEL,
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_TIMEOUT_S,
)
from airflow_provider_music.exceptions import MusicInputError, MusicQualityError
from airflow_provider_music.integration import (
    MUSIC_EXTRA_LINKS,
    REQUEST_KEY,
    DeliversAudio,
    SubmitsGenerations,
    recorded_request,
    task_info,
    validate_wait,
    wait_here,
)

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_music.integration import RecordedGeneration
    from airflow_provider_music.quality import QualityGate
    from airflow_provider_music.wire import Generation

__all__ = ["GenerateMusicOperator", "SubmitMusicGenerationOperator"]


class _SubmitsGenerations(SubmitsGenerations, BaseOperator):
    """A BaseOperator that submits generations (see ``SubmitsGenerations``)."""

    def __init__(self, **kwargs: Any) -> None:
        # Without an __init__ of its own, Airflow's operator metaclass would record BaseOperator's
        # (inlets=None, outlets=None ...) as this class's partial() defaults: mapped tasks then crash.
        super().__init__(**kwargs)


class SubmitMusicGenerationOperator(_SubmitsGenerations):
    """
    Create a music generation and return its id (XCom ``return_value``, and key ``generation_id``).

    Also pushes ``usage`` (what the service reported the generation cost; ``None`` when it reported
    nothing), ``client_request_id`` (the ``X-Client-Request-Id`` the POST carried: dag, run, task
    and map index, never the try number) and ``request`` (the body as sent: the model's fields, lyrics
    as given), for the sensor's parameters of the same names.

    Pair it with :class:`~airflow_provider_music.sensors.music.MusicGenerationSensor` to wait and store.
    A try that dies after its POST leaves a record, so the retry reattaches to that generation
    instead of paying again; a successful try clears it, so a deliberate rerun makes new music.

    Every value is checked with the model's own rules (README: "Models"): literal values when the
    DAG is parsed, rendered templates before the POST; a refused value costs nothing.

    :param prompt: What to generate (templated): genre, mood, instruments, tempo, structure; its
        limits are the model's (eleven_music: at most 2000 characters).
    :param music_length_ms: Requested length in milliseconds (templated), sent as the model's own
        length field: eleven_music ``music_length_ms`` (10000 to 300000), stable-audio
        ``seconds_total`` (whole seconds, 1 to 47); refused for models without one. The model's
        default when None.
    :param model: Model name; ``elevenlabs/eleven_music`` by default. A model the catalogue does not
        know is sent as given, with the generic checks only and a warning.
    :param extra_body: Further model fields sent as they are (e.g. ``audio_setting``), checked
        with the model's rules.
    :param lyrics: The song's lyrics (templated; e.g. minimax models); not sent when None.
    :param negative_prompt: What to avoid (templated; google/lyria2); not sent when None.
    :param seed: Seed for reproducible runs (templated; google/lyria2); not sent when None.
    :param conn_id: Airflow connection id of type ``aimlapi``.
    """

    template_fields: Sequence[str] = ("prompt", "music_length_ms", "lyrics", "negative_prompt", "seed")
    ui_color = "#e1bee7"

    def __init__(
        self,
        *,
        prompt: str,
        music_length_ms: int | str | None = None,
        model: str = DEFAULT_MODEL,
        extra_body: Mapping[str, Any] | None = None,
        lyrics: str | None = None,
        negative_prompt: str | None = None,
        seed: int | str | None = None,
        conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        fields = {"lyrics": lyrics, "negative_prompt": negative_prompt, "seed": seed}
        self._set_request(prompt, music_length_ms, model, extra_body, fields)
        self.conn_id = conn_id

    def execute(self, context: Context) -> str:
        """Submit (or reattach to the generation of an earlier try) and hand the id on."""
        recorded, _ = self._submit_or_reattach(context)
        ti = context["ti"]
        ti.xcom_push(key="generation_id", value=recorded.generation_id)
        # For the sensor's `usage` and `client_request_id` (pushed even when unknown, as null).
        ti.xcom_push(key="usage", value=dict(recorded.usage) if recorded.usage is not None else None)
        ti.xcom_push(key="client_request_id", value=recorded.client_request_id)
        # For the sensor's `request`: the body as sent (model, prompt, length field, model fields).
        ti.xcom_push(key=REQUEST_KEY, value=recorded_request(self._request_body()))
        # The record guards the window between the POST and the task's success; once the id is
        # handed on, clearing and rerunning the task is a request for new music.
        self._forget(context)
        return recorded.generation_id


class GenerateMusicOperator(DeliversAudio, _SubmitsGenerations):
    """
    Submit, wait and store in one task; returns the track's manifest (same as the sensor's).

    Before its POST it checks everything about the destination that can be known without the audio
    (absolute path, storage connection, filesystem package, one call reaching the folder or bucket,
    and with ``if_exists`` ``"skip"``/``"fail"`` an existing object), so a misconfiguration costs
    nothing. The POST carries ``X-Client-Request-Id`` (dag, run, task, map index; never the try).
    The generation id is recorded durably before waiting, with the usage the service reported and the
    client request id, so a retry, a worker crash or a triggerer restart reattaches to it (a completed
    one is only delivered again) instead of paying for a second generation; the manifest records both.

    :param prompt: What to generate (templated); its limits are the model's. Every value is
        checked with the model's rules, literal ones when the DAG is parsed (README: "Models").
    :param destination: Where to store the audio (templated): URI string or ``ObjectStoragePath``.
        Ending in ``/`` it is a folder and the object is named after the generation id; ending in an
        audio extension (``.wav``, ``.mp3``, ...) it is the object's full path; any other name is the
        object's name without extension (the audio's format adds it). A relative local path is
        refused. Checked before the POST: see "Fail before paying" in docs/operators.md.
    :param music_length_ms: Requested length in milliseconds (templated), sent as the model's own
        length field (eleven_music 10000 to 300000; stable-audio whole seconds, 1 to 47 s).
    :param model: Model name; ``elevenlabs/eleven_music`` by default.
    :param extra_body: Further model fields, checked with the model's rules.
    :param lyrics: The song's lyrics (templated); not sent when None.
    :param negative_prompt: What to avoid (templated); not sent when None.
    :param seed: Seed for reproducible runs (templated); not sent when None.
    :param conn_id: Airflow connection id of type ``aimlapi``.
    :param storage_conn_id: Airflow connection for the storage (for example an ``aws`` connection).
    :param poll_interval: Seconds between status checks.
    :param timeout: Seconds to wait for the generation (default 30 minutes).
    :param deferrable: Wait in the triggerer (default: True unless the deployment explicitly set
        ``[operators] default_deferrable``); with False the worker polls.
    :param if_exists: ``"overwrite"`` (default), ``"skip"`` or ``"fail"``. With ``"skip"`` or
        ``"fail"`` and a destination that names an existing object, nothing is generated at all.
    :param write_sidecar: Also write ``<name>.json`` with the manifest next to the audio.
    :param object_name: Name of the stored object without extension (templated, e.g.
        ``"{{ (dag_run.logical_date or dag_run.run_after) | ds }}"``, which also renders in runs
        without a logical date); the extension follows the audio's format and ``destination`` is
        then the folder.
    :param chunk_size: Memory budget unit of the delivery: peak growth stays near two of these
        (socket reads of at most 1 MiB; storage blocks of half a chunk, at least 5 MiB on S3).
    :param max_bytes: Largest download accepted.
    :param max_consecutive_failures: Transient poll failures in a row tolerated while waiting.
    :param asset_alias: Name of an Airflow ``AssetAlias`` through which each stored track is emitted
        as an asset event, so downstream DAGs can be scheduled on new audio.
    :param analyze: Analyse the track (loudness, true peak, silence, clipping, length) into the
        manifest's ``analysis``; default: when the ``audio`` extra is installed.
    :param quality: A ``QualityGate`` (or a dict of its rules) the track must pass to be published; a
        track that fails is kept under ``rejected/`` with its manifest and the task fails (no retry).
    :param waveform: Also store ``<name>.png`` (waveform picture) and ``<name>.peaks.json`` beside it.
    :param max_regenerations: Extra generations allowed when the gate rejects a track (default 0).
        Each is a paid POST, logged and recorded in the manifest's ``attempts``; when none passes,
        the task fails naming the best track.
    """

    template_fields: Sequence[str] = (
        "prompt",
        "music_length_ms",
        "lyrics",
        "negative_prompt",
        "seed",
        "destination",
        "object_name",
    )
    ui_color = "#ce93d8"
    # "Listen" (the provider's page in the api-server) and, for S3, "S3 console": made per try.
    operator_extra_links = MUSIC_EXTRA_LINKS

    def __init__(
        self,
        *,
        prompt: str,
        destination: str | ObjectStoragePath,
        music_length_ms: int | str | None = None,
        model: str = DEFAULT_MODEL,
        extra_body: Mapping[str, Any] | None = None,
        lyrics: str | None = None,
        negative_prompt: str | None = None,
        seed: int | str | None = None,
        conn_id: str = DEFAULT_CONN_ID,
        storage_conn_id: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        timeout: float | timedelta = DEFAULT_TIMEOUT_S,
        deferrable: bool | None = None,
        if_exists: str = DEFAULT_IF_EXISTS,
        write_sidecar: bool = True,
        object_name: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_POLL_FAILURES,
        asset_alias: str | None = None,
        analyze: bool | None = None,
        quality: QualityGate | Mapping[str, Any] | None = None,
        waveform: bool = False,
        max_regenerations: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**self.with_asset_alias(kwargs, asset_alias))
        if (
            isinstance(max_regenerations, bool)
            or not isinstance(max_regenerations, int)
            or max_regenerations < 0
        ):
            raise MusicInputError(f"max_regenerations must be an integer >= 0, got {max_regenerations!r}")
        if max_regenerations and quality is None:
            raise MusicInputError("max_regenerations needs a quality gate: without one no track is rejected")
        self.max_regenerations = max_regenerations
        fields = {"lyrics": lyrics, "negative_prompt": negative_prompt, "seed": seed}
        self._set_request(prompt, music_length_ms, model, extra_body, fields)
        poll_s, self.wait_timeout = validate_wait(poll_interval, timeout)
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
        if music_length_ms is None and self.quality is not None and self.quality.length_tolerance is not None:
            raise MusicInputError(
                "The quality gate's length_tolerance needs music_length_ms: "
                "the model's default length is not known"
            )

    def execute(self, context: Context) -> Any:
        """Check the destination, submit (or reattach), wait here or in the triggerer, store."""
        self._request_body()  # the rendered values, with the model's rules
        self._check_quality_inputs(self._request_info())
        # Fail before paying: everything about the destination that can be known without the audio.
        resolved = self._check_destination("Checked before any request: this try created no generation.")
        kept = delivery.existing_manifest(
            self._delivery_options(), self._request_info(), task_info(context), resolved
        )
        if kept is not None:  # if_exists="skip" and the object is there ("fail" has raised by now)
            self.log.info("%s already exists and if_exists='skip': nothing to generate", kept["uri"])
            self._publish(context, kept)
            return kept

        recorded, generation = self._submit_or_reattach(context)
        generation_id = recorded.generation_id
        context["ti"].xcom_push(key="generation_id", value=generation_id)
        if generation is not None and generation.status.is_success():
            return self._deliver(context, recorded, generation)
        if self.deferrable:
            # Imported when deferring: the trigger brings the async HTTP client (not for DAG parsing).
            from airflow_provider_music.triggers.music import MusicGenerationTrigger

            self._defer_until_done(MusicGenerationTrigger, generation_id, self.wait_timeout)
        return self._deliver(context, recorded, self._wait_here(generation_id))

    def _wait_here(self, generation_id: str) -> Generation:
        return wait_here(self.hook, generation_id, self.poll_interval, self.wait_timeout, self.log)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: refuse unknown events, deliver on success."""
        from airflow_provider_music.integration import (
            GenerationRecord,
            RecordedGeneration,
            raise_for_event,
            resume_summary,
        )

        self.log.info("%s", resume_summary(event))
        recorded = GenerationRecord(context).get()
        if recorded is None:  # the record is gone (cleared by hand): trust the event's id
            recorded = RecordedGeneration(str((event or {}).get("generation_id")))
        raise_for_event(event, recorded.generation_id)
        return self._deliver(context, recorded)

    def _deliver(
        self, context: Context, recorded: RecordedGeneration, generation: Generation | None = None
    ) -> dict[str, Any]:
        """Store the track; when the gate rejects it, regenerate while ``max_regenerations`` lasts."""
        while True:
            try:
                return self._deliver_generation(
                    context, recorded.generation_id, self._request_info(recorded), generation
                )
            except MusicQualityError as rejected:
                recorded = self._regenerate(context, recorded, rejected, self.max_regenerations)
            context["ti"].xcom_push(key="generation_id", value=recorded.generation_id)
            if self.deferrable:
                from airflow_provider_music.triggers.music import MusicGenerationTrigger  # as in execute

                self._defer_until_done(MusicGenerationTrigger, recorded.generation_id, self.wait_timeout)
            generation = self._wait_here(recorded.generation_id)

    def _on_stored(self, context: Context) -> None:
        """The track is stored: a rerun of this task instance is a request for new music."""
        self._forget(context)
