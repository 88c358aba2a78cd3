"""Child process of bench_delivery: one measured transfer in a fresh interpreter (like a task's process).

    python -m benchmarks._delivery_child --method ours|put --dest URI [--gen-id ID --warm-id ID] [--src FILE]

Warm-up first (imports, the storage client, one small transfer to the same kind of destination), then
the kernel's peak-RSS mark is reset (/proc/self/clear_refs = 5) so VmHWM afterwards is the peak of the
measured transfer alone. Prints one JSON line: seconds, bytes, RSS before, peak RSS, growth.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any


def _status_kb(field: str) -> int:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith(field + ":"):
            return int(row.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _instrument() -> dict[str, float]:
    """Time the steps of deliver_generation (wrappers around the module attributes it looks up)."""
    from airflow_provider_music import _delivery
    from airflow_provider_music import _storage as music

    spent: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    music.write_stream = timed("download_hash_write", music.write_stream)
    music.finalize = timed("rename_into_place", music.finalize)
    _delivery._write_json_atomically = timed("sidecar", _delivery._write_json_atomically)
    from airflow_provider_music.hooks.music import MusicGenerationHook

    MusicGenerationHook.get_generation = timed("status_get", MusicGenerationHook.get_generation)  # type: ignore[method-assign]
    return spent


def _read_in_pieces(size: int) -> None:
    """PROTOTYPE of a fix: network reads of ``size`` bytes, independent of the storage block size."""
    from airflow_provider_music.hooks import music

    original = music._AudioStream.chunks

    def chunks(self: Any) -> Any:
        saved, self.chunk_size = self.chunk_size, size
        try:
            yield from original(self)
        finally:
            self.chunk_size = saved

    music._AudioStream.chunks = chunks


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--method", choices=("ours", "put"), required=True)
    p.add_argument("--dest", required=True, help="folder URI ending in / (file:///... or s3://bucket/...)")
    p.add_argument("--storage-conn-id", default=None)
    p.add_argument("--gen-id")
    p.add_argument("--warm-id")
    p.add_argument("--src", help="local file to upload (method put)")
    p.add_argument("--warm-src", help="small local file to upload first (method put)")
    p.add_argument("--chunk-size", type=int, default=None)
    p.add_argument(
        "--read-size",
        type=int,
        default=None,
        help="PROTOTYPE (not shipped): read the download in pieces of this size, storage block unchanged",
    )
    p.add_argument(
        "--s3-direct", action="store_true", help="PROTOTYPE (not shipped): see _s3_direct_prototype"
    )
    p.add_argument("--hash-thread", action="store_true", help="PROTOTYPE (not shipped): see _hash_in_thread")
    args = p.parse_args()

    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music._delivery import DeliveryOptions, deliver_generation
    from airflow_provider_music.defaults import DEFAULT_CHUNK_SIZE
    from airflow_provider_music.hooks.music import MusicGenerationHook

    chunk = args.chunk_size or DEFAULT_CHUNK_SIZE
    base = ObjectStoragePath(args.dest, conn_id=args.storage_conn_id)
    name = f"bench-{uuid.uuid4().hex[:8]}"

    if args.s3_direct:
        _s3_direct_prototype()
    if args.hash_thread:
        _hash_in_thread()
    phases = _instrument()
    if args.read_size:
        _read_in_pieces(args.read_size)
    if args.method == "ours":
        hook = MusicGenerationHook()

        def run(gid: str, obj: str) -> tuple[int, str]:
            _CURRENT_OBJECT[0] = obj
            opts = DeliveryOptions(
                destination=args.dest, storage_conn_id=args.storage_conn_id, object_name=obj, chunk_size=chunk
            )
            manifest = deliver_generation(hook, gid, opts)
            return int(manifest["size_bytes"]), str(manifest["uri"])

        run(args.warm_id, name + "-warm")
        measure = lambda: run(args.gen_id, name)  # noqa: E731
    else:
        fs = base.fs
        root = str(base.path).rstrip("/")

        def put(src: str, obj: str) -> tuple[int, str]:
            fs.put_file(src, f"{root}/{obj}.wav")
            return os.path.getsize(src), f"{root}/{obj}.wav"

        put(args.warm_src, name + "-warm")
        measure = lambda: put(args.src, name)  # noqa: E731

    import gc

    gc.collect()
    phases.clear()
    peak_reset = _reset_peak()
    rss_before = _status_kb("VmRSS")
    started = time.perf_counter()
    size, where = measure()
    seconds = time.perf_counter() - started
    hwm = _status_kb("VmHWM")
    print(
        json.dumps(
            {
                "method": args.method,
                "seconds": seconds,
                "bytes": size,
                "where": where,
                "rss_before_mb": rss_before / 1024,
                "peak_rss_mb": hwm / 1024,
                "peak_growth_mib": (hwm - rss_before) / 1024,
                "peak_reset": peak_reset,
                "chunk_size": chunk,
                "read_size": args.read_size,
                "phases_s": {k: round(v, 4) for k, v in phases.items()},
            }
        ),
        flush=True,
    )
    sys.stdout.flush()
    os._exit(0)


def _hash_in_thread() -> None:
    """PROTOTYPE (not shipped): sha256 of chunk n runs in a worker thread while chunk n+1 is read.

    hashlib releases the GIL for large buffers, so hashing overlaps the socket reads and writes; at
    most one chunk is in flight (one extra chunk of memory).
    """
    import hashlib
    import types
    from concurrent.futures import Future, ThreadPoolExecutor

    from airflow_provider_music import _storage as music

    pool = ThreadPoolExecutor(1, thread_name_prefix="sha256")

    class _Threaded:
        def __init__(self) -> None:
            self._h = hashlib.sha256()
            self._pending: Future[None] | None = None

        def update(self, data: bytes) -> None:
            if self._pending is not None:
                self._pending.result()
            self._pending = pool.submit(self._h.update, data)

        def hexdigest(self) -> str:
            if self._pending is not None:
                self._pending.result()
                self._pending = None
            return self._h.hexdigest()

    shim = types.SimpleNamespace(sha256=_Threaded)
    music.hashlib = shim  # type: ignore[attr-defined]


_CURRENT_OBJECT = [""]


def _s3_direct_prototype() -> None:
    """PROTOTYPE (not shipped): for s3:// destinations, stream straight into the final key.

    A multipart upload is invisible until CompleteMultipartUpload (and aborted on any failure), so the
    temporary object and the rename (a server-side copy of the whole object) are not needed for
    "nothing half-written"; parts are uploaded from one preallocated block buffer, bypassing the
    buffered-file layer that holds ~3.5 blocks. The sidecar is one PUT (atomic) instead of temp+copy.
    """
    import hashlib

    from airflow_provider_music import _audio, _delivery
    from airflow_provider_music import _storage as music
    from airflow_provider_music.defaults import MIN_STORAGE_BLOCK_SIZE
    from airflow_provider_music.exceptions import MusicDeliveryError

    def write_stream(stream: Any, folder: Any, *, max_bytes: int, chunk_size: int, **_: Any) -> Any:
        target = folder / f"{_CURRENT_OBJECT[0]}.wav"  # the benchmark knows the final name
        fs = target.fs
        bucket, key, _ = fs.split_path(target.path)
        block = max(chunk_size, MIN_STORAGE_BLOCK_SIZE)
        buf = bytearray(block)
        view = memoryview(buf)
        fill = 0
        parts: list[dict[str, Any]] = []
        upload: dict[str, Any] | None = None
        digest, size, head, fmt = hashlib.sha256(), 0, b"", None

        def _truncated(n: int) -> bytearray:
            nonlocal view
            view.release()
            del buf[n:]
            return buf

        def send(final: bool) -> None:
            nonlocal upload, fill
            # botocore takes bytes/bytearray/file objects, not memoryviews: hand it the block buffer
            # itself (the call is synchronous, so it is free again on return); the last, shorter
            # part is the buffer truncated in place.
            body = buf if fill == block else _truncated(fill)
            if upload is None and final:
                fs.call_s3("put_object", Bucket=bucket, Key=key, Body=body)
                fill = 0
                return
            if upload is None:
                upload = fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key)
            out = fs.call_s3(
                "upload_part",
                Bucket=bucket,
                Key=key,
                UploadId=upload["UploadId"],
                PartNumber=len(parts) + 1,
                Body=body,
            )
            parts.append({"PartNumber": len(parts) + 1, "ETag": out["ETag"]})
            fill = 0

        try:
            for chunk in stream.chunks():
                if len(head) < _audio.HEADER_BYTES:
                    head += chunk[: _audio.HEADER_BYTES - len(head)]
                if fmt is None and len(head) >= 64:
                    fmt = _audio.sniff(head)
                size += len(chunk)
                digest.update(chunk)
                pos = 0
                while pos < len(chunk):
                    n = min(block - fill, len(chunk) - pos)
                    view[fill : fill + n] = chunk[pos : pos + n]
                    fill += n
                    pos += n
                    if fill == block:
                        send(False)
            if stream.content_length is not None and size != stream.content_length:
                raise MusicDeliveryError("truncated")
            if fill or upload is None:
                send(True)
            if upload is not None:
                fs.call_s3(
                    "complete_multipart_upload",
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload["UploadId"],
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload is not None:
                fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload["UploadId"])
            raise
        return music.StoredAudio(target, size, digest.hexdigest(), fmt, head)

    def finalize(stored: Any, destination: Any) -> Any:
        return music.StoredAudio(
            destination, stored.size_bytes, stored.sha256, stored.audio_format, stored.head
        )

    def write_json(path: Any, data: Any) -> None:
        import json as _json

        path.write_text(_json.dumps(data, indent=2, sort_keys=True, default=str))

    music.write_stream = write_stream
    music.finalize = finalize
    _delivery._write_json_atomically = write_json


if __name__ == "__main__":
    main()
