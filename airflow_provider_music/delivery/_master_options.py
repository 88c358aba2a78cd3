"""
What a mastering is asked for (``MasteringOptions``) and the check of each parameter on its own, so
the operator refuses literal values at DAG-parse time and rendered ones before any work. Light: no
storage, audio-analysis or Airflow import (the operator module loads this while a DAG is parsed).
"""

# No `from __future__ import annotations` here: NamedTuple would compile every string annotation
# (typing.ForwardRef) while a DAG file imports this module; evaluated annotations cost nothing.

import ast
import math
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from airflow_provider_music.exceptions import MusicInputError

#: Output formats (what libsndfile writes), their rates, and the range of the parameters.
MASTER_FORMATS = ("wav", "flac", "ogg", "mp3")
MP3_SAMPLE_RATES = (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
#: libsndfile (and the formats it writes) take these rates for WAV, FLAC and Ogg Vorbis.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 192_000
TARGET_LUFS_RANGE = (-70.0, 0.0)
CEILING_DBTP_RANGE = (-20.0, 0.0)
MAX_PASSES_RANGE = (1, 10)
DEFAULT_TARGET_LUFS = -14.0
DEFAULT_TRUE_PEAK_CEILING_DBTP = -1.0
DEFAULT_MASTER_FORMAT = "wav"
DEFAULT_MASTER_PASSES = 3
#: The derivative's name, without extension, when the destination is a folder: ``<source stem><this>``.
MASTER_NAME_SUFFIX = "-master"


# NamedTuples, not frozen dataclasses: a sixth of the cost to define at DAG-parse time.
class MasteringOptions(NamedTuple):
    """The loudness target, the ceiling, and the output's format and rate (None: the source's)."""

    target_lufs: float = DEFAULT_TARGET_LUFS
    true_peak_ceiling_dbtp: float = DEFAULT_TRUE_PEAK_CEILING_DBTP
    output_format: str = DEFAULT_MASTER_FORMAT
    sample_rate: int | None = None
    max_passes: int = DEFAULT_MASTER_PASSES


class SourceTrack(NamedTuple):
    """The track to master: its URI (or path), and the sha256 its manifest recorded, if any."""

    uri: Any  # str URI or ObjectStoragePath
    sha256: str | None = None
    manifest: Mapping[str, Any] | None = None


def _number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise MusicInputError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MusicInputError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise MusicInputError(f"{name} is {value}; it must be between {low} and {high}")
    return float(value)


def coerce_target_lufs(value: object) -> float:
    """The integrated loudness target (LUFS): -70 to 0 (streaming -14, podcasts -16, broadcast -23)."""
    return _number("target_lufs", value, *TARGET_LUFS_RANGE)


def coerce_ceiling(value: object) -> float:
    """The true-peak ceiling (dBTP): -20 to 0; above 0 the decoded audio would clip."""
    return _number("true_peak_ceiling_dbtp", value, *CEILING_DBTP_RANGE)


def coerce_output_format(value: object) -> str:
    """One of ``MASTER_FORMATS`` (any case; ``wave`` and ``vorbis`` are accepted as aliases)."""
    text = value.strip().lower().lstrip(".") if isinstance(value, str) else None
    text = {"wave": "wav", "vorbis": "ogg", "oga": "ogg"}.get(text, text) if text is not None else None
    if text not in MASTER_FORMATS:
        raise MusicInputError(f"output_format is {value!r}; it must be one of {', '.join(MASTER_FORMATS)}")
    return str(text)


def coerce_sample_rate(value: object, output_format: str | None = None) -> int | None:
    """None (the source's rate) or a whole number of Hz the format can carry."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise MusicInputError(f"sample_rate must be a whole number of Hz or None, got {value!r}")
    if not MIN_SAMPLE_RATE <= value <= MAX_SAMPLE_RATE:
        raise MusicInputError(
            f"sample_rate is {value} Hz; it must be between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE}"
        )
    check_format_rate(output_format, value)
    return value


def check_format_rate(output_format: str | None, sample_rate: int) -> None:
    """MP3 carries only 32, 44.1 and 48 kHz and their halves and quarters."""
    if output_format == "mp3" and sample_rate not in MP3_SAMPLE_RATES:
        rates = ", ".join(str(r) for r in MP3_SAMPLE_RATES)
        raise MusicInputError(f"MP3 cannot carry {sample_rate} Hz; sample_rate must be one of {rates}")


def coerce_max_passes(value: object) -> int:
    """Renders allowed to bring a lossy codec's true peak under the ceiling: 1 to 10."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (MAX_PASSES_RANGE[0] <= value <= MAX_PASSES_RANGE[1])
    ):
        low, high = MAX_PASSES_RANGE
        raise MusicInputError(f"max_passes must be a whole number from {low} to {high}, got {value!r}")
    return value


def mastering_options(
    target_lufs: object,
    true_peak_ceiling_dbtp: object,
    output_format: object,
    sample_rate: object,
    max_passes: object = DEFAULT_MASTER_PASSES,
) -> MasteringOptions:
    """The parameters as rendered, checked and typed: `MusicInputError` names the first wrong one."""
    fmt = coerce_output_format(output_format)
    return MasteringOptions(
        target_lufs=coerce_target_lufs(target_lufs),
        true_peak_ceiling_dbtp=coerce_ceiling(true_peak_ceiling_dbtp),
        output_format=fmt,
        sample_rate=coerce_sample_rate(sample_rate, fmt),
        max_passes=coerce_max_passes(max_passes),
    )


def check_absolute(value: object, name: str = "destination") -> None:
    """A local path must be absolute: a relative one depends on the worker's working directory."""
    if not isinstance(value, str) or not value.strip():
        return
    parts = urlsplit(value.strip())
    if parts.scheme.lower() in ("", "file", "local") and not parts.netloc and not parts.path.startswith("/"):
        raise MusicInputError(
            f"{name} {value!r} is a relative path: it would resolve against each worker's working "
            "directory. Give an absolute path, e.g. '/data/music/masters/' or 'file:///data/music/masters/'"
        )


def source_track(value: object) -> SourceTrack:
    """
    The source as given or rendered: a manifest (a dict with ``uri``, and ``sha256`` to verify), its
    text (a template rendered without ``render_template_as_native_obj``), a URI or an ObjectStoragePath.
    """
    if isinstance(value, str) and value.strip().startswith("{"):
        text = value.strip()
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise MusicInputError(
                f"source looks like a manifest but cannot be read: {text[:200]!r}"
            ) from None
    if isinstance(value, Mapping):
        uri = value.get("uri")
        if not isinstance(uri, str) or not uri.strip():
            raise MusicInputError(f"the source manifest has no 'uri': keys {sorted(map(str, value))}")
        sha = value.get("sha256")
        if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
            raise MusicInputError(f"the source manifest's sha256 is not a sha256 digest: {sha!r}")
        check_absolute(uri, "source")
        return SourceTrack(uri.strip(), sha.lower() if sha else None, dict(value))
    if isinstance(value, str):
        if not value.strip():
            raise MusicInputError("source must not be empty")
        check_absolute(value, "source")
        return SourceTrack(value.strip())
    if type(value).__name__ == "ObjectStoragePath":  # by name: see validate_destination
        return SourceTrack(value)
    raise MusicInputError(
        f"source must be a track's manifest (a dict with 'uri'), a URI or an ObjectStoragePath, got "
        f"{type(value).__name__}"
    )


def check_destination_format(destination: object, output_format: str) -> None:
    """A destination ending in an audio extension must end in the output format's (``.wav`` for wav)."""
    if not isinstance(destination, str) or destination.rstrip().endswith("/"):
        return
    # Imported when checked: this module loads at DAG-parse time, the audio package is not needed then.
    from airflow_provider_music.audio import has_audio_extension

    name = destination.strip().rsplit("/", 1)[-1]
    if not has_audio_extension(name):
        return
    extension = name.rsplit(".", 1)[1].lower()
    if {"wave": "wav", "oga": "ogg"}.get(extension, extension) != output_format:
        raise MusicInputError(
            f"destination {destination!r} ends in .{extension} but output_format is {output_format!r}: "
            "make them agree (or end the destination in '/' or give a name without extension)"
        )
