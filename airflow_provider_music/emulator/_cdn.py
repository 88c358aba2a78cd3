"""The audio "CDN" app: signed, expiring links that stream the generated audio, and its faults.

Never logs query strings: they carry the signatures.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
import uuid
from collections.abc import AsyncGenerator

from ._faults import DEFAULT_DELAY_SECONDS, DEFAULT_SLOW_PAUSE_SECONDS, DEFAULT_STALL_SECONDS, FaultRule
from ._host import EmulatorHost
from ._messages import Request, Response
from ._responses import REQUEST_ID_HEADER, cdn_error, fault_response
from ._state import EmulatedGeneration
from ._synthesis import DEFAULT_CHUNK_SIZE, audio_stream

#: ``/files/<token>.<ext>``: the token is the generation's, the extension its format's.
FILE_PATH = re.compile(r"/files/([0-9a-f]{32})\.(wav|mp3|pcm)")
#: The nonce prefix of a signature (hex characters); the HMAC follows it.
NONCE_CHARS = 16
AUDIO_HEADERS: tuple[tuple[str, str], ...] = (
    ("Accept-Ranges", "none"),
    ("Cache-Control", "private, max-age=0"),
)


def _midpoint(gen: EmulatedGeneration) -> int:
    """Where ``truncate`` and ``stall`` cut a file when the rule names no ``bytes``: half way."""
    return gen.size_bytes // 2


class AudioApp:
    """The "CDN": signed, expiring links that stream generated audio."""

    def __init__(self, server: EmulatorHost) -> None:
        self.server = server
        self.state = server.state

    async def handle(self, req: Request) -> Response:
        """Answer one request to the audio port."""
        rid = str(uuid.uuid4())
        if req.method not in ("GET", "HEAD"):
            return cdn_error(405, rid)
        match = FILE_PATH.fullmatch(req.path)
        if match is None:
            return cdn_error(404, rid)
        token, ext = match.groups()
        gen = self.state.by_token.get(token)
        if gen is not None:
            await self.server.prepare_audio(gen)  # a character's MP3 is encoded once, off the loop
        counters = self.state.counters
        if req.method == "HEAD":
            counters.heads += 1
            if gen is not None:
                gen.heads += 1
        else:
            counters.downloads += 1
            if gen is not None:
                gen.downloads += 1
            hay = [gen.id, gen.prompt] if gen is not None else [token]
            rule = self.state.faults.take("audio", hay)
            if rule is not None:
                return await self._fault(rule, req, rid, gen)
        return self._serve(req, rid, gen, token, ext)

    def _check_signature(self, req: Request, name: str) -> str | None:
        """Return a reason to refuse the link, or None when it is valid and unexpired."""
        expires, signature = req.query_one("expires"), req.query_one("signature")
        if not expires or not signature or not expires.isdigit():
            return "Query-string authentication requires the signature and expires parameters"
        expected = self.server.signature(name, int(expires), signature[:NONCE_CHARS])
        if not hmac.compare_digest(signature, expected):
            return "The request signature we calculated does not match the signature you provided"
        if time.time() >= int(expires):
            return "Request has expired"
        return None

    def _serve(
        self, req: Request, rid: str, gen: EmulatedGeneration | None, token: str, ext: str
    ) -> Response:
        refusal = self._check_signature(req, f"{token}.{ext}")
        if refusal is not None:
            return cdn_error(403, rid, refusal)
        if gen is None or gen.ext != ext:
            return cdn_error(404, rid)
        return self._audio(gen, rid, complete=True)

    def _audio(
        self,
        gen: EmulatedGeneration,
        rid: str,
        *,
        complete: bool,
        limit: int | None = None,
        pause: float = 0.0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        extra: int = 0,
        stall_after: int | None = None,
        stall_seconds: float = 0.0,
    ) -> Response:
        key, size = gen.audio_key, gen.size_bytes
        counters = self.state.counters

        async def body() -> AsyncGenerator[bytes, None]:
            sent = 0
            stall_at = -1 if stall_after is None else stall_after  # -1: no stall (or done)
            for chunk in audio_stream(key[0], key[1], chunk_size, key[2]):
                if limit is not None and sent + len(chunk) >= limit:
                    yield chunk[: limit - sent]
                    return
                if 0 <= stall_at < sent + len(chunk):  # send exactly stall_at bytes, then hold
                    yield chunk[: stall_at - sent]
                    await asyncio.sleep(stall_seconds)
                    chunk, sent, stall_at = chunk[stall_at - sent :], stall_at, -1
                yield chunk
                sent += len(chunk)
                if pause:
                    await asyncio.sleep(pause)
            filler = bytes(min(extra, DEFAULT_CHUNK_SIZE))
            left = extra
            while left > 0:
                yield filler[:left]
                left -= len(filler)

        def done() -> None:
            if complete:
                counters.downloads_completed += 1
                gen.downloads_completed += 1

        headers = [(REQUEST_ID_HEADER, rid), *AUDIO_HEADERS]
        return Response(
            200,
            content_type=gen.content_type,
            headers=headers,
            stream=body(),
            content_length=None if extra else size,
            on_complete=done,
        )

    async def _fault(
        self, rule: FaultRule, req: Request, rid: str, gen: EmulatedGeneration | None
    ) -> Response:
        p = rule.params
        action = rule.action
        if action == "delay":
            await asyncio.sleep(float(p.get("seconds", DEFAULT_DELAY_SECONDS)))
            match = FILE_PATH.fullmatch(req.path)
            assert match is not None
            return self._serve(req, rid, gen, *match.groups())
        if action in ("truncate", "slow", "oversize", "stall"):
            if gen is None:
                return cdn_error(404, rid)
            if action == "truncate":
                response = self._audio(gen, rid, complete=False, limit=p.get("bytes", _midpoint(gen)))
                response.reset_if_short = bool(p.get("reset", False))
                return response
            if action == "slow":
                return self._audio(
                    gen,
                    rid,
                    complete=True,
                    pause=float(p.get("seconds", DEFAULT_SLOW_PAUSE_SECONDS)),
                    chunk_size=p.get("chunk_size", DEFAULT_CHUNK_SIZE),
                )
            if action == "stall":
                return self._audio(
                    gen,
                    rid,
                    complete=True,
                    stall_after=p.get("bytes", _midpoint(gen)),
                    stall_seconds=float(p.get("seconds", DEFAULT_STALL_SECONDS)),
                )
            extra = p.get("extra_bytes", max(gen.size_bytes, DEFAULT_CHUNK_SIZE))
            return self._audio(gen, rid, complete=False, extra=extra)
        return fault_response(rule, rid, req.path, cdn=True)
