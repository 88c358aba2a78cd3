"""Writing a download into object storage: checked as it streams, never left half-written."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import queue
import threading
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_music.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_AUDIO_BYTES,
    DIRECT_WRITE_PROTOCOLS,
    HASH_QUEUE_PIECES,
    MIN_STORAGE_BLOCK_SIZE,
    UPLOAD_PARTS_IN_MEMORY,
)
from airflow_provider_music.exceptions import (
    MusicAudioInvalidError,
    MusicDeliveryError,
    MusicInputError,
    MusicProviderError,
)

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music._audio import AudioFormat
    from airflow_provider_music.hooks.music import _AudioStream

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredAudio:
    """What was written: enough for a manifest without reading the object back."""

    path: ObjectStoragePath
    size_bytes: int
    sha256: str
    audio_format: AudioFormat
    head: bytes
    # Written straight under its final name (see commits_atomically): nothing to move or discard.
    in_place: bool = False


PARTIAL_PREFIX = ".partial-"
LOCAL_PROTOCOLS = ("", "file", "local")
S3_PROTOCOLS = ("s3", "s3a", "s3n")
#: S3 error codes that mean the credentials themselves were refused (not merely a missing permission).
_S3_BAD_CREDENTIALS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
        "InvalidSecurity",
        "AuthorizationHeaderMalformed",
    }
)
_S3_ACCESS_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "403", "Forbidden"})


def object_uri(path: ObjectStoragePath) -> str:
    """A stable URI without connection id or credentials (used in messages, manifests and Asset URIs)."""
    protocol = path.protocol or "file"
    if protocol in LOCAL_PROTOCOLS:
        return "file://" + str(path.path if str(path.path).startswith("/") else "/" + str(path.path))
    return f"{protocol}://{str(path.path).lstrip('/')}"


def is_local(path: ObjectStoragePath) -> bool:
    return (path.protocol or "") in LOCAL_PROTOCOLS


def _is_s3(path: ObjectStoragePath, fs: Any) -> bool:
    return path.protocol in S3_PROTOCOLS and hasattr(fs, "_call_s3")


def probe_folder(folder: ObjectStoragePath, fs: Any, *, conn_id: str | None) -> None:
    """
    One cheap call showing that ``folder`` can take the audio, made before anything is paid for.

    S3: a listing of at most one key under the folder's prefix (it needs ``s3:ListBucket``, which
    may be limited to that prefix): a missing bucket, refused credentials, or no credentials at all
    (anonymous access refused) raise ``MusicInputError``; an ``AccessDenied`` with credentials only
    warns (a policy may allow writing without listing), and an unreachable endpoint raises
    ``MusicDeliveryError`` (retryable: nothing was paid). A local folder: its nearest existing
    ancestor must be a folder this worker can write into (a missing folder is created when the audio
    is stored). Any other store: the folder's ``exists()`` must answer.
    """
    shown = object_uri(folder)
    if is_local(folder):
        _probe_local(str(folder.path), shown)
    elif _is_s3(folder, fs):
        _probe_s3(folder, fs, shown, conn_id)
    else:
        try:
            folder.exists()
        except PermissionError as exc:
            raise MusicInputError(f"The storage refused to look into {shown} ({_describe(exc)})") from None
        except FileNotFoundError:
            return
        except Exception as exc:
            raise MusicDeliveryError(f"Could not reach the storage of {shown} ({_describe(exc)})") from None


def _probe_local(folder: str, shown: str) -> None:
    import os

    nearest = folder
    while not os.path.exists(nearest):
        parent = os.path.dirname(nearest)
        if parent == nearest:
            break
        nearest = parent
    if not os.path.isdir(nearest):
        raise MusicInputError(
            f"The destination folder {shown} cannot be created: {nearest} is a file, not a folder"
        )
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise MusicInputError(f"This worker cannot write into {nearest} (needed for {shown})")


def _probe_s3(folder: ObjectStoragePath, fs: Any, shown: str, conn_id: str | None) -> None:
    bucket, key, _ = fs.split_path(str(folder.path))
    prefix = key.rstrip("/") + "/" if key.strip("/") else ""
    via = f"storage connection {conn_id!r}" if conn_id else "the default AWS credentials (no storage_conn_id)"
    try:
        fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except Exception as exc:
        code, http_status = _s3_error(exc)
        detail = _describe(exc)
        if code == "NoSuchBucket":
            raise MusicInputError(
                f"The bucket {bucket!r} of {shown} does not exist (asked with {via})"
            ) from None
        if code in _S3_BAD_CREDENTIALS:
            raise MusicInputError(f"S3 refused the credentials of {via} for {shown} ({code})") from None
        if type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            raise MusicInputError(f"No S3 credentials were found for {shown} ({via})") from None
        if code in _S3_ACCESS_DENIED or http_status == 403 or isinstance(exc, PermissionError):
            if getattr(fs, "anon", False):
                raise MusicInputError(
                    f"S3 refused anonymous access to {shown}: no credentials were found ({via})"
                ) from None
            log.warning(
                "S3 does not let %s list %s (%s); going on, since a policy may allow writing without "
                "listing: the write itself will tell",
                via, shown, detail,
            )  # fmt: skip
            return
        if http_status is not None and 400 <= http_status < 500 and http_status not in (408, 429):
            raise MusicInputError(f"S3 refused to list {shown} with {via} ({detail})") from None
        raise MusicDeliveryError(f"Could not reach the storage of {shown} with {via} ({detail})") from None


def _s3_error(exc: BaseException | None) -> tuple[str | None, int | None]:
    """The S3 error code and HTTP status of ``exc`` or of the error it was translated from (s3fs keeps it)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            return (str(code) if code else None), (status if isinstance(status, int) else None)
        exc = exc.__cause__ or exc.__context__
    return None, None


def find_by_stem(
    folder: ObjectStoragePath, stem: str, extensions: tuple[str, ...]
) -> ObjectStoragePath | None:
    """
    The object ``<stem>.<extension>`` in ``folder`` for the first of ``extensions`` that exists, or None:
    on S3 with one listing of the keys starting with ``<stem>.``, elsewhere one ``exists()`` per extension.
    """
    fs = folder.fs
    if _is_s3(folder, fs):
        bucket, key, _ = fs.split_path(str(folder.path))
        prefix = key.rstrip("/") + "/" if key.strip("/") else ""
        names: set[str] = set()
        marker: dict[str, str] = {}
        while True:
            page = fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=f"{prefix}{stem}.", **marker)
            names.update(item["Key"][len(prefix) :] for item in page.get("Contents") or [])
            if not page.get("IsTruncated"):
                break
            marker = {"ContinuationToken": page["NextContinuationToken"]}
        for extension in extensions:
            if f"{stem}.{extension}" in names:
                return folder / f"{stem}.{extension}"
        return None
    for extension in extensions:
        candidate = folder / f"{stem}.{extension}"
        if candidate.exists():
            return candidate
    return None


def partial_name(name: str) -> str:
    """A hidden temporary name that still says which object it will become (so leftovers can be found)."""
    return f"{PARTIAL_PREFIX}{name}-{uuid.uuid4().hex}"


def commits_atomically(path: ObjectStoragePath) -> bool:
    """
    Whether an upload to ``path`` stays invisible until committed, so a failed one leaves nothing:
    S3 multipart uploads (and single PUTs) do; a local file or most other stores do not.
    """
    return path.protocol in DIRECT_WRITE_PROTOCOLS and hasattr(path.fs, "_call_s3")


def remove_leftovers(folder: ObjectStoragePath, name: str) -> int:
    """
    Delete temporaries of ``name`` that a killed worker could not clean up; returns how many.
    On stores that commit atomically (S3) the upload itself sweeps them, in the background.
    """
    if commits_atomically(folder):
        return 0
    prefix = f"{PARTIAL_PREFIX}{name}-"
    removed = 0
    try:
        if not folder.exists():
            return 0
        for child in folder.iterdir():
            if child.name.startswith(prefix):
                remove_quietly(child)
                removed += 1
    except (FileNotFoundError, NotADirectoryError):
        return removed
    return removed


def write_stream(
    stream: _AudioStream,
    folder: ObjectStoragePath,
    *,
    name: str = "audio",
    target: ObjectStoragePath | None = None,
    max_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> StoredAudio:
    """
    Stream the download into storage, checking as it goes; on any failure nothing is left behind.

    With ``target`` on a store that ``commits_atomically``, the upload goes straight to ``target``
    (a concurrent writer of the same key: the last one wins); otherwise into a hidden temporary object
    in ``folder`` (named after ``name``) for ``finalize`` to move into place. Checks: the first bytes
    are audio (not an HTML/JSON error page), the size stays under ``max_bytes``, and the total matches
    ``Content-Length`` when the server gave one.
    """
    from airflow_provider_music import _audio

    if stream.content_length is not None and stream.content_length > max_bytes:
        raise MusicAudioInvalidError(
            f"The audio at {stream.shown_url} is {stream.content_length} bytes; the limit is {max_bytes}"
        )
    in_place = target is not None and commits_atomically(target)
    if target is not None and in_place:
        dest = target
    else:
        _ensure_folder(folder)
        dest = folder / partial_name(name)
    upload = commits_atomically(dest)
    # A local write is as fast as the download, so sha256 gets a thread of its own; an upload is the
    # slow side, so hashing inline costs nothing (and holds no queued pieces in memory).
    digest = _Sha256(threaded=not upload)
    sink: _Sink | None = None
    size = 0
    head = b""
    audio_format = None
    try:
        block = _storage_block(chunk_size)
        if upload:
            sink = _MultipartUpload(
                dest,
                block,
                temporary=not in_place,
                leftovers=folder / f"{PARTIAL_PREFIX}{name}-",
                expected_size=stream.content_length,
            )
        else:
            sink = _FileSink(dest, block)
        for chunk in stream.chunks():
            if len(head) < _audio.HEADER_BYTES:
                head += chunk[: _audio.HEADER_BYTES - len(head)]
            if audio_format is None and len(head) >= min(_audio.SNIFF_BYTES, 64):
                audio_format = _require_audio(head, stream)
            size += len(chunk)
            if size > max_bytes:
                raise MusicAudioInvalidError(
                    f"The audio at {stream.shown_url} exceeded the limit of {max_bytes} bytes; stopped"
                )
            digest.update(chunk)
            sink.write(chunk)
        if audio_format is None:
            audio_format = _require_audio(head, stream)
        if stream.content_length is not None and size != stream.content_length:
            raise MusicDeliveryError(
                f"The download from {stream.shown_url} was truncated: got {size} of "
                f"{stream.content_length} bytes"
            )
        sha256 = digest.hexdigest()
        sink.commit()
    except MusicProviderError:
        _clean_up(sink, dest, in_place)
        raise
    except Exception as exc:  # the storage refused a write (full disk, S3 error, permissions ...)
        _clean_up(sink, dest, in_place)
        raise MusicDeliveryError(
            f"Writing the audio into {object_uri(dest.parent)} failed after {size} bytes ({_describe(exc)}); "
            "the partial upload was discarded and any previous object is untouched"
        ) from None
    except BaseException:
        _clean_up(sink, dest, in_place)
        raise
    finally:
        digest.close()
    return StoredAudio(dest, size, sha256, audio_format, head, in_place)


def _describe(exc: BaseException) -> str:
    """``Type: message``; for an error translated without a message (s3fs does that), the original's."""
    if str(exc) in ("", "None") and exc.__cause__ is not None:
        return _describe(exc.__cause__)
    return f"{type(exc).__name__}: {exc}"


def _clean_up(sink: _Sink | None, dest: ObjectStoragePath, in_place: bool) -> None:
    if sink is not None:
        sink.discard()
    elif not in_place:  # never delete the final name: it may hold the previous object
        remove_quietly(dest)


def _storage_block(chunk_size: int) -> int:
    """
    The storage write block: half a chunk, but never under S3's 5 MiB part minimum, so that
    UPLOAD_PARTS_IN_MEMORY (2) parts keep a delivery within two chunk sizes.
    """
    return max(chunk_size // 2, MIN_STORAGE_BLOCK_SIZE)


def _require_audio(head: bytes, stream: _AudioStream) -> AudioFormat:
    from airflow_provider_music import _audio

    if not head:
        raise MusicAudioInvalidError(f"The audio URL {stream.shown_url} served an empty body")
    found = _audio.sniff(head)
    if found is None:
        preview = head[:60].decode("utf-8", "replace").replace("\n", " ")
        raise MusicAudioInvalidError(
            f"The audio URL {stream.shown_url} served something that is not audio "
            f"(Content-Type {stream.content_type or 'missing'}; starts with {preview!r})"
        )
    return found


def finalize(stored: StoredAudio, destination: ObjectStoragePath) -> StoredAudio:
    """Move a complete temporary object onto its final name; the previous object stays until then."""
    if stored.in_place:
        return stored
    try:
        stored.path.rename(destination)
    except Exception as exc:
        remove_quietly(stored.path)
        raise MusicDeliveryError(
            f"Could not move the audio into place at {object_uri(destination)}: {_describe(exc)}"
        ) from None
    return StoredAudio(destination, stored.size_bytes, stored.sha256, stored.audio_format, stored.head)


def discard(stored: StoredAudio) -> None:
    """Drop a temporary object that will not be used (never an object written in place)."""
    if not stored.in_place:
        remove_quietly(stored.path)


def _ensure_folder(folder: ObjectStoragePath) -> None:
    if is_local(folder):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MusicDeliveryError(
                f"Could not create the folder {object_uri(folder)}: {_describe(exc)}"
            ) from None


def remove_quietly(path: ObjectStoragePath) -> None:
    """Best-effort clean-up: the original error matters more than a failed delete."""
    with suppress(Exception):
        path.unlink(missing_ok=True)


class _Sha256:
    """
    sha256 of the download; ``threaded``: in a thread of its own, fed through a queue of at most
    HASH_QUEUE_PIECES pieces (hashlib releases the GIL, so it overlaps reading and writing). The thread
    drains its queue even after a failure, so the reader can never hang on it.
    """

    def __init__(self, *, threaded: bool) -> None:
        self._digest = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(HASH_QUEUE_PIECES)
        self._error: BaseException | None = None
        self._dropping = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="music-sha256", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while (piece := self._queue.get()) is not None:
            if self._dropping or self._error is not None:
                continue
            try:
                self._digest.update(piece)
            except BaseException as exc:  # handed to the reader by hexdigest()
                self._error = exc

    def update(self, piece: bytes) -> None:
        if self._thread is None:
            self._digest.update(piece)
        else:
            self._queue.put(piece)

    def hexdigest(self) -> str:
        self._stop()
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest()

    def close(self) -> None:
        """Drop what is still queued and wait for the thread (safe after ``hexdigest``)."""
        self._dropping = True
        self._stop()

    def _stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class _Sink(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None:
        """Leave nothing behind; never raises."""


class _FileSink:
    """A temporary object written through the store's file object (local files, other stores)."""

    def __init__(self, path: ObjectStoragePath, block_size: int) -> None:
        self._path = path
        self._file = path.open("wb", block_size=block_size)

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> None:
        self._file.close()

    def discard(self) -> None:
        with suppress(Exception):
            self._file.close()
        remove_quietly(self._path)


class _MultipartUpload:
    """
    An S3 upload fed from UPLOAD_PARTS_IN_MEMORY reused part buffers: parts upload on fsspec's event
    loop while the next is read (s3fs's file object uploads one part at a time, holding about three
    copies of it; a ``BytesIO`` body is sent without a copy). Invisible until ``commit``; anything
    smaller than a part is one PUT. Meanwhile it clears what a killed earlier try left (invisible but
    billed): unfinished uploads to the same key, and temporary objects and uploads whose key starts
    with ``leftovers``.
    """

    def __init__(
        self,
        path: ObjectStoragePath,
        part_size: int,
        *,
        temporary: bool,
        leftovers: ObjectStoragePath,
        expected_size: int | None,
    ) -> None:
        self._path = path
        self._fs: Any = path.fs
        self._bucket, self._key, _ = self._fs.split_path(path.path)
        self._leftovers = self._fs.split_path(leftovers.path)[1]
        self._part_size = part_size
        self._temporary = temporary
        self._expected_size = expected_size
        self._written = 0
        self._free: list[io.BytesIO] = []
        self._allocated = 0
        self._part: io.BytesIO | None = None
        self._fill = 0
        self._created: Future[Any] | None = None
        self._completed = False
        self._in_flight: dict[Future[Any], tuple[int, io.BytesIO]] = {}
        self._etags: dict[int, str] = {}
        self._sweep: Future[int] | None = None
        if expected_size is not None and expected_size > part_size:
            self._create()  # now, so that its round trip overlaps the reading of the first parts

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._part is None:
                self._part = self._take_buffer()
            taken = min(self._part_size - self._fill, len(view))
            self._part.write(view[:taken])
            self._fill += taken
            self._written += taken
            view = view[taken:]
            if self._fill == self._part_size:
                self._send_part()

    def commit(self) -> None:
        if self._created is None:  # smaller than one part: a single PUT
            body = self._part or io.BytesIO()
            body.truncate(self._fill)
            self._sweep = self._submit(self._sweep_leftovers())
            self._submit(self._send("put_object", body)).result()
        else:
            if self._fill:
                self._send_part()
            self._settle(0)
            parts = {"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(self._etags.items())]}
            self._call("complete_multipart_upload", UploadId=self._upload_id(), MultipartUpload=parts)
            self._completed = True
        self._finish_sweep()
        self._fs.invalidate_cache(self._path.path)  # s3fs's listing cache of the folder

    def discard(self) -> None:
        wait(self._in_flight)  # parts still uploading finish first, so the abort leaves none behind
        self._in_flight.clear()
        if self._created is not None and not self._completed:
            with suppress(Exception):
                self._call("abort_multipart_upload", UploadId=self._upload_id())
        self._finish_sweep()
        if self._temporary:
            remove_quietly(self._path)

    def _take_buffer(self) -> io.BytesIO:
        """A part buffer within the budget: a fresh one, or the next one whose upload is done."""
        if not self._free and self._allocated < UPLOAD_PARTS_IN_MEMORY:
            self._allocated += 1
            size = self._part_size
            if self._expected_size is not None:  # a small object gets a small buffer
                size = max(1, min(size, self._expected_size - self._written))
            buffer = io.BytesIO()
            buffer.seek(size - 1)  # sized at once: growing piece by piece reallocates (and may copy)
            buffer.write(b"\0")
            self._free.append(buffer)
        while not self._free:
            self._settle(len(self._in_flight) - 1)
        buffer = self._free.pop()
        buffer.seek(0)
        return buffer

    def _send_part(self) -> None:
        if self._created is None:
            self._create()
        body, self._part = self._part, None
        assert body is not None
        if self._fill < self._part_size:
            body.truncate(self._fill)
        self._fill = 0
        number = len(self._etags) + len(self._in_flight) + 1
        self._in_flight[self._submit(self._upload_part(number, body))] = (number, body)

    def _settle(self, at_most: int) -> None:
        """Wait until at most ``at_most`` parts are in flight; a failed part raises its error here."""
        while len(self._in_flight) > at_most:
            done, _ = wait(self._in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                number, body = self._in_flight[future]
                self._etags[number] = future.result()["ETag"]
                del self._in_flight[future]
                self._free.append(body)

    def _create(self) -> None:
        self._created = self._submit(
            self._fs._call_s3("create_multipart_upload", Bucket=self._bucket, Key=self._key)
        )
        self._sweep = self._submit(self._sweep_leftovers())

    def _upload_id(self) -> str:
        assert self._created is not None
        return str(self._created.result()["UploadId"])

    async def _upload_part(self, number: int, body: io.BytesIO) -> Any:
        assert self._created is not None
        upload_id = (await asyncio.wrap_future(self._created))["UploadId"]
        return await self._send("upload_part", body, UploadId=upload_id, PartNumber=number)

    async def _send(self, method: str, body: io.BytesIO, **kwargs: Any) -> Any:
        """
        A request with a body, through the S3 client itself: botocore's retries rewind the body, but
        s3fs's extra retry layer would send it again from wherever the failed try stopped reading it
        (for the last part, a silently shorter object). Same parameters as s3fs would add.
        """
        await self._fs.set_session()
        client = await self._fs.get_s3(self._bucket)
        call = getattr(client, method)
        body.seek(0)
        args = self._fs._get_s3_method_kwargs(call, Bucket=self._bucket, Key=self._key, Body=body, **kwargs)
        return await call(**args)

    async def _sweep_leftovers(self) -> int:
        own_upload = None
        if self._created is not None:  # listed only once ours exists, so ours is recognised
            try:
                own_upload = (await asyncio.wrap_future(self._created))["UploadId"]
            except Exception:  # reported by the upload itself
                return 0
        found = await asyncio.gather(
            self._list("list_multipart_uploads", "Uploads", self._leftovers),
            self._list("list_multipart_uploads", "Uploads", self._key),
            self._list("list_objects_v2", "Contents", self._leftovers),
        )
        uploads = {
            (item["Key"], item["UploadId"])
            for item in found[0] + [u for u in found[1] if u["Key"] == self._key]
            if item["UploadId"] != own_upload
        }
        stale = [item["Key"] for item in found[2] if item["Key"] != self._key]
        await asyncio.gather(
            *(
                self._fs._call_s3("abort_multipart_upload", Bucket=self._bucket, Key=key, UploadId=upload)
                for key, upload in uploads
            ),
            *(self._fs._call_s3("delete_object", Bucket=self._bucket, Key=key) for key in stale),
        )
        return len(uploads) + len(stale)

    async def _list(self, method: str, field: str, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        marker: dict[str, str] = {}
        while True:
            page = await self._fs._call_s3(method, Bucket=self._bucket, Prefix=prefix, **marker)
            items += page.get(field) or []
            if not page.get("IsTruncated"):
                return items
            if method == "list_objects_v2":
                marker = {"ContinuationToken": page["NextContinuationToken"]}
            else:
                marker = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}

    def _finish_sweep(self) -> None:
        if self._sweep is None:
            return
        try:
            swept = self._sweep.result()
        except Exception as exc:  # e.g. no permission to list uploads: the delivery itself is fine
            log.warning("Could not clear what an earlier try left at %s/%s: %s", self._bucket, self._key, exc)
        else:
            if swept:
                log.info("Removed %d temporary object(s) or unfinished upload(s) of an earlier try", swept)
        self._sweep = None

    def _submit(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._fs.loop)

    def _call(self, method: str, **kwargs: Any) -> Any:
        return self._fs.call_s3(method, Bucket=self._bucket, Key=self._key, **kwargs)
