"""
Analysing a track (the ``audio`` extra) and judging it before it is published.

Without a quality gate the download is copied to a local file as it is stored (``TeeStream``) and
analysed from there, so storage semantics do not change. With a gate the download is spooled to a
local file first, analysed and checked, then stored under its own name, or under ``rejected/`` when
it fails (it was paid for, so it is kept, never published): nothing reaches the destination before
the verdict, so a rejected track never replaces a published one.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from airflow_provider_music.exceptions import MusicAudioInvalidError, MusicInputError
from airflow_provider_music.storage import object_uri

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music.analysis import Waveform
    from airflow_provider_music.quality import QualityGate, QualityVerdict
    from airflow_provider_music.storage import AudioStream

#: The folder (beside the destination's) that keeps tracks the gate rejected.
REJECTED_FOLDER = "rejected"
#: The waveform's picture and peaks beside a track: its name with the extension replaced by these.
WAVEFORM_PNG_SUFFIX = ".png"
WAVEFORM_PEAKS_SUFFIX = ".peaks.json"
#: Points of the waveform: one min/max pair per pixel of a 1800-pixel-wide picture.
WAVEFORM_POINTS = 1800
_AUDIO_EXTRA_MODULES = ("numpy", "soundfile", "scipy")
log = logging.getLogger(__name__)
#: The local folders the analysis copies a download into, and when one left behind counts as stale.
SPOOL_PREFIX = "aimlapi-music-"
STALE_SPOOL_SECONDS = 6 * 3600
_RANK_CAP = 1e9  # JSON has no infinity (a silent track's loudness is infinitely far below any limit)


def require_audio_extra(why: str) -> None:
    """Refuse, before anything is paid for, an analysis this worker cannot run."""
    missing = [name for name in _AUDIO_EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise MusicInputError(
            f"{why} needs the audio extra, which this worker lacks ({', '.join(missing)} not installed): "
            "pip install 'airflow-provider-music[audio]'"
        )


def audio_extra_installed() -> bool:
    """Whether this worker can analyse audio (numpy, soundfile and scipy importable)."""
    return all(importlib.util.find_spec(name) is not None for name in _AUDIO_EXTRA_MODULES)


def requested_seconds(meta: Mapping[str, Any]) -> float | None:
    """The length asked of the model, from the manifest's facts (``music_length_ms`` or the body)."""
    length_ms = meta.get("music_length_ms")
    if isinstance(length_ms, int) and not isinstance(length_ms, bool) and length_ms > 0:
        return length_ms / 1000.0
    body = meta.get("request")
    if isinstance(body, Mapping):
        if isinstance(body.get("music_length_ms"), (int, float)) and body["music_length_ms"] > 0:
            return float(body["music_length_ms"]) / 1000.0
        if isinstance(body.get("seconds_total"), (int, float)) and body["seconds_total"] > 0:
            return float(body["seconds_total"])
    return None


@contextmanager
def spool_folder() -> Iterator[str]:
    """A private local folder for the copy of a download while it is analysed; removed afterwards."""
    _sweep_stale_spools()
    with tempfile.TemporaryDirectory(prefix=SPOOL_PREFIX) as folder:
        yield folder


def _sweep_stale_spools(now: float | None = None) -> None:
    """
    Remove spools a killed worker left (SIGKILL skips the cleanup). Only stale ones: a spool in use
    is written or read within minutes, so another task's is never touched.
    """
    root = tempfile.gettempdir()
    cutoff = (time.time() if now is None else now) - STALE_SPOOL_SECONDS
    try:
        entries = [e for e in os.scandir(root) if e.name.startswith(SPOOL_PREFIX) and e.is_dir()]
    except OSError:
        return
    for entry in entries:
        try:
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            continue


def local_folder(folder: str) -> ObjectStoragePath:
    """A local folder as an ``ObjectStoragePath`` (what ``store_stream`` writes into)."""
    from airflow.sdk import ObjectStoragePath  # a task-time import, like the rest of this module

    return ObjectStoragePath(f"file://{folder}/")


@dataclass
class Judgement:
    """What the analysis found and what the gate said."""

    analysis: dict[str, Any]
    verdict: QualityVerdict | None
    gate: QualityGate | None
    waveform: Waveform | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """No gate, or every rule held."""
        return self.verdict is None or self.verdict.passed

    def manifest_fields(self) -> dict[str, Any]:
        """``analysis`` and, with a gate, ``quality`` (its rules, the verdict and each failure)."""
        fields: dict[str, Any] = {"analysis": self.analysis}
        if self.gate is not None and self.verdict is not None:
            fields["quality"] = {
                "rules": self.gate.to_manifest(),
                "passed": self.verdict.passed,
                "failures": self.verdict.to_manifest(),
                # Ranks rejected tracks (lower is better): failed rules, then how far past the limits.
                "rank": [self.verdict.rank()[0], min(round(self.verdict.rank()[1], 4), _RANK_CAP)],
            }
        return fields


def judge(local_file: str, gate: QualityGate | None, *, requested: float | None, waveform: bool) -> Judgement:
    """
    Analyse a local copy of the track and check it against ``gate``. Audio that cannot be decoded
    fails the gate; without a gate its manifest records the error instead of figures.
    """
    from airflow_provider_music import analysis  # numpy, soundfile, scipy: only where a track is judged
    from airflow_provider_music.quality import DEFAULT_SILENCE_THRESHOLD_DBFS, QualityVerdict, RuleFailure

    try:
        found = analysis.analyze(
            local_file,
            requested_seconds=requested,
            silence_threshold_dbfs=gate.silence_threshold_dbfs if gate else DEFAULT_SILENCE_THRESHOLD_DBFS,
            waveform_points=WAVEFORM_POINTS if waveform else None,
        )
    except Exception as exc:  # undecodable audio, or a fault of the analysis itself: never lose the track
        if not isinstance(exc, MusicAudioInvalidError):
            log.warning("The analysis of %s failed", local_file, exc_info=True)
        figures = {"method": analysis.METHOD, "method_version": analysis.METHOD_VERSION, "error": str(exc)}
        failure = RuleFailure("decodable", None, "decodable audio", f"analysis: {exc}")
        return Judgement(figures, None if gate is None else QualityVerdict((failure,)), gate)
    figures = found.to_manifest()
    verdict = gate.check(figures) if gate is not None else None
    return Judgement(figures, verdict, gate, found.waveform)


class TeeStream:
    """
    A download that also copies what it hands on into a local file, to be analysed once it is stored.
    Used as a context manager (the copy is open inside it); ``tee_stream`` also keeps ``readinto``.
    """

    def __init__(self, stream: AudioStream, copy_path: str) -> None:
        self._stream = stream
        self.copy_path = copy_path
        self._copy: BinaryIO | None = None

    def __enter__(self) -> TeeStream:
        self._copy = open(self.copy_path, "wb")  # closed by __exit__
        return self

    def __exit__(self, *exc: object) -> None:
        if self._copy is not None:
            self._copy.close()

    @property
    def shown_url(self) -> str:
        """The download's URL as shown in messages."""
        return self._stream.shown_url

    @property
    def content_type(self) -> str | None:
        """The download's announced type."""
        return self._stream.content_type

    @property
    def content_length(self) -> int | None:
        """The download's announced length."""
        return self._stream.content_length

    def chunks(self) -> Iterator[bytes]:
        """The download's chunks, each written to the local copy before it is handed on."""
        assert self._copy is not None, "use TeeStream as a context manager"
        for chunk in self._stream.chunks():
            self._copy.write(chunk)
            yield chunk


class _TeeReadInto(TeeStream):
    """A `TeeStream` over a download that reads into the caller's buffers (no copies on the way)."""

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` from the download and copy those bytes to the local file; 0 at the end."""
        assert self._copy is not None, "use TeeStream as a context manager"
        n: int = self._stream.readinto(buffer)  # type: ignore[attr-defined]  # checked by tee_stream
        self._copy.write(buffer[:n])
        return n


def tee_stream(stream: AudioStream, copy_path: str) -> TeeStream:
    """A `TeeStream` of ``stream``, with ``readinto`` when the download offers it (storage's fast path)."""
    return _TeeReadInto(stream, copy_path) if hasattr(stream, "readinto") else TeeStream(stream, copy_path)


def rejected_path(folder: ObjectStoragePath, target_name: str, safe_id: str) -> ObjectStoragePath:
    """Where a rejected track goes: ``rejected/<name>--<generation>.<ext>``, one object per generation."""
    stem, dot, extension = target_name.rpartition(".")
    if not dot:
        stem, extension = target_name, ""
    name = stem if stem == safe_id else f"{stem}--{safe_id}"
    return folder / REJECTED_FOLDER / (f"{name}.{extension}" if extension else name)


def write_waveform(target: ObjectStoragePath, waveform: Waveform) -> dict[str, str]:
    """The picture and the peaks beside ``target``; their URIs for the manifest."""
    from airflow_provider_music.delivery._manifest import write_bytes_atomically, write_json_atomically

    stem = target.name.rsplit(".", 1)[0] if "." in target.name else target.name
    png = target.parent / f"{stem}{WAVEFORM_PNG_SUFFIX}"
    peaks = target.parent / f"{stem}{WAVEFORM_PEAKS_SUFFIX}"
    write_bytes_atomically(png, waveform.to_png(), "its waveform")
    write_json_atomically(peaks, waveform.to_json(), "its waveform peaks")
    return {"png_uri": object_uri(png), "peaks_uri": object_uri(peaks)}
