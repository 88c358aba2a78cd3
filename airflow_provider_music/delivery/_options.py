"""
How and where a track is stored (``DeliveryOptions``), and the checks of each option on its own, so
that an operator can check at DAG-parse time the fields that are not templated.
"""

# No `from __future__ import annotations` here: NamedTuple would compile every string annotation
# (typing.ForwardRef) while a DAG file imports this module; evaluated annotations cost nothing.

from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_provider_music.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_IF_EXISTS,
    DEFAULT_MAX_AUDIO_BYTES,
)
from airflow_provider_music.exceptions import MusicInputError

if TYPE_CHECKING:
    from airflow_provider_music.quality import QualityGate

#: The smallest chunk accepted: a limit of the delivery's memory budget, not a default.
MIN_CHUNK_SIZE = 64 * 1024
IF_EXISTS_CHOICES = ("overwrite", "skip", "fail")


# A NamedTuple, not a frozen dataclass: a sixth of the cost to define at DAG-parse time.
class DeliveryOptions(NamedTuple):
    """How and where a track is stored: plain, immutable values, cheap to define at DAG-parse time."""

    destination: Any  # str URI or ObjectStoragePath
    storage_conn_id: str | None = None
    if_exists: str = DEFAULT_IF_EXISTS
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_bytes: int = DEFAULT_MAX_AUDIO_BYTES
    write_sidecar: bool = True
    # The stored object's name without extension (the extension follows the audio's format);
    # when set, ``destination`` is the folder. Default: a safe name derived from the generation id.
    object_name: str | None = None
    # Analyse the track before it is stored (needs the ``audio`` extra): its figures go into the
    # manifest under ``analysis``. A quality gate or a waveform implies it.
    analyze: bool = False
    # Rules the track must meet; one that fails is stored under ``rejected/`` instead (not published).
    quality: "QualityGate | None" = None
    # Also write ``<name>.png`` (waveform) and ``<name>.peaks.json`` (peaks) beside the track.
    waveform: bool = False

    @property
    def analyses(self) -> bool:
        """Whether the track is analysed before it is stored."""
        return self.analyze or self.quality is not None or self.waveform


def validate_if_exists(value: object) -> None:
    """``if_exists`` must be one of ``IF_EXISTS_CHOICES``."""
    if value not in IF_EXISTS_CHOICES:
        raise MusicInputError(f"if_exists is {value!r}; it must be one of {', '.join(IF_EXISTS_CHOICES)}")


def validate_chunk_size(value: object) -> None:
    """``chunk_size`` must be an integer of at least ``MIN_CHUNK_SIZE`` bytes."""
    if not isinstance(value, int) or value < MIN_CHUNK_SIZE:
        raise MusicInputError(
            f"chunk_size must be an integer of at least {MIN_CHUNK_SIZE} bytes, got {value!r}"
        )


def validate_max_bytes(value: object) -> None:
    """``max_bytes`` must be a positive integer."""
    if not isinstance(value, int) or value <= 0:
        raise MusicInputError(f"max_bytes must be a positive integer, got {value!r}")


def validate_object_name(value: object) -> None:
    """``object_name`` (when given) must be one path segment: no ``/``, ``\\``, ``.`` or ``..``."""
    if value is not None and (
        not isinstance(value, str)
        or not value.strip()
        or "/" in value
        or "\\" in value
        or value in (".", "..")
    ):
        raise MusicInputError(f"object_name must be a single path segment without '/', got {value!r}")


def validate_destination(value: object) -> None:
    """``destination`` must be a non-empty URI string or an ``ObjectStoragePath``."""
    if isinstance(value, str):
        if not value.strip():
            raise MusicInputError("destination must not be empty")
    # By name: importing ObjectStoragePath (fsspec, upath) only to check a type costs DAG-parse time.
    elif type(value).__name__ != "ObjectStoragePath":
        raise MusicInputError(
            f"destination must be a URI string or an ObjectStoragePath, got {type(value).__name__}"
        )


def validate_static_options(*, if_exists: object, chunk_size: object, max_bytes: object) -> None:
    """The options an operator never templates, checked at DAG-parse time."""
    validate_if_exists(if_exists)
    validate_chunk_size(chunk_size)
    validate_max_bytes(max_bytes)


def validate_options(options: DeliveryOptions) -> None:
    """Refuse bad delivery settings before anything is requested."""
    validate_static_options(
        if_exists=options.if_exists, chunk_size=options.chunk_size, max_bytes=options.max_bytes
    )
    validate_object_name(options.object_name)
    validate_destination(options.destination)
