"""The S3 multipart writer: parts upload while the next is read, invisible until committed.

It calls s3fs's private S3 helpers (``_call_s3``, ``_get_s3_method_kwargs``, ``set_session``,
``get_s3``) on fsspec's event loop: the public file object would hold three copies of each part
and resend a part's body from wherever a failed try stopped reading it.
"""

from __future__ import annotations

import asyncio
import io
import logging
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from airflow_provider_music.defaults import UPLOAD_PARTS_IN_MEMORY
from airflow_provider_music.storage._paths import remove_quietly

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)


class MultipartUpload:
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

    def write(self, data: bytes | memoryview) -> None:
        """
        Add ``data`` (copied into the part buffer before this returns, so it may be a view of a buffer
        the caller fills again); each full part starts uploading (waiting while the budget is in flight).
        """
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
        """Upload what is left and complete the upload: only now does the object appear."""
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
        """Abort the upload (after its parts in flight) and drop a temporary object: nothing is left."""
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
