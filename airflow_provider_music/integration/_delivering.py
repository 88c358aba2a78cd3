"""
What the one-task operator and the sensor share: the hook, where the audio goes, the deferral to the
trigger, and storing the track (delivery, then the asset event and lineage).

Imported at DAG-parse time by the operator modules: the hook (HTTP clients) and the trigger are
imported only when a task runs, never here; of ``delivery`` only the options and their checks load
with it (``delivery.check_destination`` and ``delivery.deliver_generation`` load on first use).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_music import delivery
from airflow_provider_music.defaults import DEFERRAL_TIMEOUT_MARGIN_S
from airflow_provider_music.delivery import DeliveryOptions, validate_static_options
from airflow_provider_music.exceptions import MusicGenerationFailed, MusicInputError, MusicQualityError
from airflow_provider_music.integration._assets import PublishesAudio, alias_outlets, task_info
from airflow_provider_music.integration._deferral import default_deferrable, trigger_kwargs

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow.sdk import BaseOperator, Context, ObjectStoragePath
    from airflow.triggers.base import BaseTrigger

    from airflow_provider_music.delivery import Destination
    from airflow_provider_music.hooks.music import MusicGenerationHook
    from airflow_provider_music.integration._deferral import TriggerArgs
    from airflow_provider_music.quality import QualityGate
    from airflow_provider_music.wire import Generation

    _Task = BaseOperator
else:
    # Mixins, not BaseOperator subclasses: Airflow's operator metaclass gives every subclass its own
    # wrapped ``__init__``, which would shadow BaseSensorOperator's in the sensor's MRO.
    _Task = object


#: The XCom key of a rejected track's manifest (the task failed the quality gate).
REJECTED_KEY = "rejected"


class UsesMusicHook(_Task):
    """A task that talks to the AI/ML API through one ``MusicGenerationHook`` (built on first use)."""

    conn_id: str

    @cached_property
    def hook(self) -> MusicGenerationHook:
        """The hook of ``conn_id``."""
        # Imported when a task runs: the hook brings the HTTP clients, which DAG parsing must not load.
        from airflow_provider_music.hooks.music import MusicGenerationHook

        return MusicGenerationHook(self.conn_id)


class DeliversAudio(PublishesAudio, UsesMusicHook):
    """
    A task that waits for a generation (here or in the triggerer) and stores its audio.

    Subclasses call ``with_asset_alias`` on their keyword arguments before ``super().__init__`` and
    ``_set_delivery`` after it; ``_on_stored`` runs between storing a track and publishing it.
    """

    destination: str | ObjectStoragePath
    storage_conn_id: str | None
    poll_interval: float
    deferrable: bool
    if_exists: str
    write_sidecar: bool
    object_name: str | None
    chunk_size: int
    max_bytes: int
    max_consecutive_failures: int
    analyze: bool | None
    quality: QualityGate | None
    waveform: bool

    @staticmethod
    def with_asset_alias(kwargs: dict[str, Any], asset_alias: str | None) -> dict[str, Any]:
        """The operator's keyword arguments with ``outlets`` declaring the alias (at DAG-parse time)."""
        kwargs["outlets"] = alias_outlets(kwargs.get("outlets"), asset_alias)
        return kwargs

    def _set_delivery(
        self,
        *,
        destination: str | ObjectStoragePath,
        conn_id: str,
        storage_conn_id: str | None,
        poll_interval: float,
        deferrable: bool | None,
        if_exists: str,
        write_sidecar: bool,
        object_name: str | None,
        chunk_size: int,
        max_bytes: int,
        max_consecutive_failures: int,
        asset_alias: str | None,
        analyze: bool | None = None,
        quality: QualityGate | Mapping[str, Any] | None = None,
        waveform: bool = False,
    ) -> None:
        """
        Keep the delivery parameters, refusing now what is wrong whatever the templates render to.

        ``destination`` and ``object_name`` are templated: they are checked once rendered.
        """
        validate_static_options(if_exists=if_exists, chunk_size=chunk_size, max_bytes=max_bytes)
        self.quality = None
        if quality is not None:  # the gate's module loads only for a task that has one
            from airflow_provider_music.quality import QualityGate

            self.quality = QualityGate.from_value(quality)
        if analyze is False and (self.quality is not None or waveform):
            raise MusicInputError(
                "analyze=False contradicts a quality gate or waveform=True, which need the analysis"
            )
        self.analyze = analyze
        self.waveform = bool(waveform)
        self.asset_alias = asset_alias
        self.destination = destination
        self.conn_id = conn_id
        self.storage_conn_id = storage_conn_id
        self.poll_interval = poll_interval
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.if_exists = if_exists
        self.write_sidecar = write_sidecar
        self.object_name = object_name
        self.chunk_size = chunk_size
        self.max_bytes = max_bytes
        self.max_consecutive_failures = max_consecutive_failures

    def _delivery_options(self) -> DeliveryOptions:
        """The delivery parameters as rendered."""
        return DeliveryOptions(
            destination=self.destination,
            storage_conn_id=self.storage_conn_id,
            if_exists=self.if_exists,
            chunk_size=self.chunk_size,
            max_bytes=self.max_bytes,
            write_sidecar=self.write_sidecar,
            object_name=None if self.object_name is None else str(self.object_name),
            analyze=delivery.audio_extra_installed() if self.analyze is None else self.analyze,
            quality=self.quality,
            waveform=self.waveform,
        )

    def _check_quality_inputs(self, request_info: Mapping[str, Any]) -> None:
        """Before paying (or waiting): what the gate needs, the extra and, for its length rule, a length."""
        self._check_audio_extra()
        length_rule = self.quality is not None and self.quality.length_tolerance is not None
        if length_rule and delivery.requested_seconds(request_info) is None:
            raise MusicInputError(
                "The quality gate's length_tolerance needs the requested length: give music_length_ms "
                "(the sensor also reads it from request=); the model's default length is not known"
            )

    def _check_audio_extra(self) -> None:
        """Before paying: an analysis that was asked for needs the ``audio`` extra on this worker."""
        wanted = [
            what
            for what, on in (
                ("the quality gate", self.quality is not None),
                ("waveform=True", self.waveform),
                ("analyze=True", self.analyze is True),
            )
            if on
        ]
        if wanted:
            delivery.require_audio_extra(" and ".join(wanted))

    def _check_destination(self, checked_before: str) -> Destination:
        """Check what can be known of the destination without the audio (see ``check_destination``)."""
        return delivery.check_destination(self._delivery_options(), self.log, checked_before=checked_before)

    def _defer_until_done(
        self, trigger_class: Callable[..., BaseTrigger], generation_id: str, timeout: float
    ) -> NoReturn:
        """
        Hand the wait to the triggerer, with a deadline fixed now; resume in ``execute_complete``.

        ``trigger_class`` is ``MusicGenerationTrigger``, passed in by the task: the trigger module
        brings the async HTTP client, which this module (imported at DAG-parse time) must not.
        """
        args: TriggerArgs = trigger_kwargs(
            generation_id, self.conn_id, self.poll_interval, timeout, self.max_consecutive_failures
        )
        self.defer(
            trigger=trigger_class(**args),
            method_name="execute_complete",
            timeout=timedelta(seconds=timeout + DEFERRAL_TIMEOUT_MARGIN_S),
        )

    def _deliver_generation(
        self,
        context: Context,
        generation_id: str,
        request_info: Mapping[str, Any],
        generation: Generation | None = None,
    ) -> dict[str, Any]:
        """
        Store the audio of a completed generation and return its manifest.

        ``generation``, when given, is a status just read: a failed one raises instead.
        """
        if generation is not None and not generation.status.is_success():
            from airflow_provider_music.wire import generation_failure_text

            raise MusicGenerationFailed(
                generation_failure_text(generation), generation_id=generation_id, status=generation.raw_status
            )
        try:
            manifest = delivery.deliver_generation(
                self.hook,
                generation_id,
                self._delivery_options(),
                request_info=request_info,
                task_info=task_info(context),
                generation=generation,
            )
        except MusicQualityError as rejected:
            # Where the rejected track and its manifest are kept, for the people looking at this task.
            context["ti"].xcom_push(key=REJECTED_KEY, value=rejected.manifest)
            raise
        self._on_stored(context)
        self._publish(context, manifest)
        return manifest

    def _on_stored(self, context: Context) -> None:
        """Called once the track is stored, before it is published; nothing by default."""
