"""The emulator's two HTTP apps (API + audio "CDN") and the objects that run them.

`EmulatorServer` is the asyncio core (used by the CLI); `Emulator` runs that core in a daemon
thread for tests. Only method, path and status are ever logged: never headers (the API key) and
never audio query strings (the signatures).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from ._audio import DEFAULT_CHUNK_SIZE, audio_stream, expected_audio, warm_up
from ._faults import GET_STATE_ACTIONS, FaultRule
from ._http import HttpServer, Request, Response
from ._state import (
    ELEVEN_MUSIC,
    MODELS,
    Config,
    Generation,
    State,
    usage_for,
    utc_now_iso,
    valid_client_request_id,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable, Mapping
    from types import TracebackType

logger = logging.getLogger("airflow_provider_music.emulator")

API_PATH = "/v2/generate/audio"
CLIENT_REQUEST_ID_HEADER = "x-client-request-id"
INFERENCE_ID_HEADER = "x-inference-id"
CREDITS_HEADER = "x-aimlapi-credits-used"
USD_HEADER = "x-aimlapi-usd-spent"
ADMIN_PREFIX = "/_emulator/"
MAX_PROMPT = 2000
MIN_LENGTH_MS, MAX_LENGTH_MS, DEFAULT_LENGTH_MS = 10_000, 300_000, 10_000
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "application/xml"
HTML_ERROR = "<html><body>Bad Gateway</body></html>"
BAD_JSON = '{"id": "'

DEFAULT_MESSAGES: dict[int, str] = {
    400: "Bad request",
    401: "A valid API key is required",
    403: "Insufficient credits",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    413: "Payload too large",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad gateway",
    503: "Service unavailable: the model is under maintenance",
    504: "Generation timeout",
    505: "HTTP version not supported",
}
CDN_ERRORS: dict[int, tuple[str, str]] = {
    400: ("InvalidRequest", "Invalid request"),
    403: ("AccessDenied", "Request has expired"),
    404: ("NoSuchKey", "The specified key does not exist."),
    405: ("MethodNotAllowed", "The specified method is not allowed against this resource."),
    410: ("Gone", "The requested resource is no longer available."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}
DEFAULT_GENERATION_ERROR: dict[str, Any] = {
    "name": "GenerationError",
    "message": "The model failed to generate audio",
}

_FILE_PATH = re.compile(r"/files/([0-9a-f]{32})\.(wav|mp3)")
T = TypeVar("T")


# ------------------------------------------------------------------------------------- responses


def _message(code: int) -> str:
    return DEFAULT_MESSAGES.get(code, "Error")


def error_body(
    code: int, message: str, path: str, request_id: str, details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The vendor's error shape (NestJS-style)."""
    body: dict[str, Any] = {
        "message": message,
        "path": path,
        "requestId": request_id,
        "statusCode": code,
        "timestamp": utc_now_iso(),
    }
    if details is not None:
        body["details"] = details
    return body


def json_response(
    status: int, obj: Any, request_id: str, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    return Response(status, json.dumps(obj).encode(), JSON_TYPE, [("x-request-id", request_id), *headers])


def api_error(
    code: int, message: str, path: str, request_id: str, details: list[dict[str, str]] | None = None
) -> Response:
    return json_response(code, error_body(code, message, path, request_id, details), request_id)


def cdn_error_body(code: int, message: str | None = None) -> bytes:
    name, default = CDN_ERRORS.get(code, ("Error", _message(code)))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{name}</Code><Message>{message or default}</Message></Error>\n"
    ).encode()


def cdn_error(code: int, request_id: str, message: str | None = None) -> Response:
    return Response(code, cdn_error_body(code, message), XML_TYPE, [("x-request-id", request_id)])


def _encode_body(body: Any, content_type: str | None) -> tuple[bytes, str]:
    if isinstance(body, str):
        return body.encode(), content_type or "text/plain; charset=utf-8"
    if isinstance(body, bytes):
        return body, content_type or "application/octet-stream"
    return json.dumps(body).encode(), content_type or JSON_TYPE


def fault_response(rule: FaultRule, request_id: str, path: str, *, cdn: bool) -> Response:
    """The canned answer for the actions every target shares (and the audio-only error ones)."""
    p = rule.params
    headers = [("x-request-id", request_id), *((k, str(v)) for k, v in p.get("headers", {}).items())]
    action = rule.action
    if action == "reset":
        return Response(0, abort=True)
    if action in ("status", "expired"):
        code: int = p.get("code", 500 if action == "status" else 403)
        if "body" in p:
            body, ctype = _encode_body(p["body"], p.get("content_type"))
        elif cdn:
            body, ctype = cdn_error_body(code), XML_TYPE
        elif p.get("shape") == "title":
            title = "Forbidden" if code == 403 else _message(code)
            body = json.dumps({"title": title, "status": code, "message": _message(code)}).encode()
            ctype = JSON_TYPE
        else:
            body, ctype = json.dumps(error_body(code, _message(code), path, request_id)).encode(), JSON_TYPE
        return Response(code, body, ctype, headers)
    if action == "html":
        body, _ = _encode_body(p.get("body", HTML_ERROR), None)
        return Response(p.get("code", 200), body, "text/html; charset=utf-8", headers)
    if action == "bad_json":
        body, _ = _encode_body(p.get("body", BAD_JSON), None)
        return Response(p.get("code", 200), body, JSON_TYPE, headers)
    if action == "json":
        default = {"error": {"code": "AccessDenied", "message": "The file is not available"}}
        body, _ = _encode_body(p.get("body", default), None)
        return Response(p.get("code", 200), body, JSON_TYPE, headers)
    raise ValueError(f"no canned response for action {action!r}")  # pragma: no cover


# ------------------------------------------------------------------------------------- validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_submission(body: Any) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Check a POST body; return (details, normalized) where details is empty when valid."""
    if not isinstance(body, dict):
        return [{"field": "body", "message": "body must be a JSON object"}], {}
    details: list[dict[str, str]] = []

    def fail(field_name: str, message: str) -> None:
        details.append({"field": field_name, "message": message})

    model = body.get("model")
    if model is None:
        fail("model", "model should not be empty")
    elif model not in MODELS:
        fail("model", f"model must be one of the following values: {', '.join(MODELS)}")

    prompt = body.get("prompt")
    prompt_required = not (model == "minimax/music-2.0" and isinstance(body.get("lyrics"), str))
    if prompt is None:
        if prompt_required:
            fail("prompt", "prompt should not be empty")
    elif not isinstance(prompt, str):
        fail("prompt", "prompt must be a string")
    elif not prompt.strip():
        fail("prompt", "prompt should not be empty")
    elif len(prompt) > MAX_PROMPT:
        fail("prompt", f"prompt must be shorter than or equal to {MAX_PROMPT} characters")

    length_ms = DEFAULT_LENGTH_MS
    if "music_length_ms" in body:
        value = body["music_length_ms"]
        if not _is_int(value):
            fail("music_length_ms", "music_length_ms must be an integer number")
        elif value < MIN_LENGTH_MS:
            fail("music_length_ms", f"music_length_ms must not be less than {MIN_LENGTH_MS}")
        elif value > MAX_LENGTH_MS:
            fail("music_length_ms", f"music_length_ms must not be greater than {MAX_LENGTH_MS}")
        else:
            length_ms = value

    audio_format: str | None = None
    if model == ELEVEN_MUSIC:
        for key in body:
            if key not in ("model", "prompt", "music_length_ms"):
                fail(key, f"property {key} should not exist")
    elif model == "stable-audio" and "seconds_total" in body:
        seconds = body["seconds_total"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 1 <= seconds <= 47:
            fail("seconds_total", "seconds_total must be a number between 1 and 47")
        else:
            length_ms = round(seconds * 1000)
    elif model == "minimax/music-2.0":
        setting = body.get("audio_setting")
        if isinstance(setting, dict) and setting.get("format") in ("mp3", "wav"):
            audio_format = setting["format"]

    text = prompt if isinstance(prompt, str) else str(body.get("lyrics", ""))
    return details, {
        "model": model,
        "prompt": text,
        "music_length_ms": length_ms,
        "audio_format": audio_format,
    }


# ------------------------------------------------------------------------------------------ apps


class ApiApp:
    """``/v2/generate/audio`` plus the unauthenticated ``/_emulator/`` admin API."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.state = server.state

    async def handle(self, req: Request) -> Response:
        rid = str(uuid.uuid4())
        if req.path.startswith(ADMIN_PREFIX):
            return await self._admin(req, rid)
        if req.path == API_PATH and req.method in ("POST", "GET"):
            raw = req.header(CLIENT_REQUEST_ID_HEADER)
            client_request_id = valid_client_request_id(raw)
            if raw is not None and client_request_id is None:
                self.state.counters.client_request_ids_dropped += 1  # silently, as the service does
            if req.method == "POST":
                response = await self._post(req, rid, client_request_id)
            else:
                response = await self._get(req, rid)
            if client_request_id is not None and not response.abort:
                response.headers.append((CLIENT_REQUEST_ID_HEADER, client_request_id))
            return response
        return api_error(404, f"Cannot {req.method} {req.path}", req.path, rid)

    def _authorized(self, req: Request) -> bool:
        scheme, _, token = (req.header("authorization") or "").strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.server.api_key.encode()
        )

    # -------------------------------------------------------------------------------------- POST

    async def _post(self, req: Request, rid: str, client_request_id: str | None) -> Response:
        counters = self.state.counters
        counters.posts += 1
        if not self._authorized(req):
            counters.auth_failures += 1
            return api_error(401, _message(401), req.path, rid)
        body: Any = None
        parse_error: str | None = None
        try:
            body = json.loads(req.body) if req.body else None
        except (ValueError, UnicodeDecodeError) as exc:
            parse_error = f"Invalid JSON body: {exc}"
        hay: list[str] = []
        if isinstance(body, dict):
            hay = [v for v in (body.get("prompt"), body.get("model")) if isinstance(v, str)]
        rule = self.state.faults.take("post", hay)
        if rule is None:
            return self._create(req, rid, body, parse_error, client_request_id)
        if rule.action == "delay":
            response = self._create(req, rid, body, parse_error, client_request_id)
            await asyncio.sleep(float(rule.params.get("seconds", 1.0)))
            return response
        if rule.params.get("create"):
            self._create(req, rid, body, parse_error, client_request_id)
        return fault_response(rule, rid, req.path, cdn=False)

    def _create(
        self, req: Request, rid: str, body: Any, parse_error: str | None, client_request_id: str | None
    ) -> Response:
        if parse_error is not None:
            return api_error(
                400, "Body validation error", req.path, rid, [{"field": "body", "message": parse_error}]
            )
        details, norm = validate_submission(body)
        if details:
            return api_error(400, "Body validation error", req.path, rid, details)
        gen = self.state.create(
            norm["model"], norm["prompt"], norm["music_length_ms"], norm["audio_format"], client_request_id
        )
        out: dict[str, Any] = {"id": gen.id, "status": "queued"}
        headers = [(INFERENCE_ID_HEADER, gen.id)]
        mode = self.state.config.usage
        credits, usd = usage_for(gen.music_length_ms)
        if mode in ("both", "body"):
            out["meta"] = {"usage": {"credits_used": credits, "usd_spent": float(usd)}}
        if mode in ("both", "headers"):
            headers += [(CREDITS_HEADER, str(credits)), (USD_HEADER, f"{usd:.9f}")]
        return json_response(self.state.config.submit_status, out, rid, headers)

    # --------------------------------------------------------------------------------------- GET

    async def _get(self, req: Request, rid: str) -> Response:
        counters = self.state.counters
        counters.gets += 1
        if not self._authorized(req):
            counters.auth_failures += 1
            return api_error(401, _message(401), req.path, rid)
        gid = req.query_one("generation_id")
        gen = self.state.generations.get(gid) if gid else None
        if gen is not None:
            gen.gets += 1
        hay = [gid or ""] + ([gen.prompt] if gen is not None else [])
        rule = self.state.faults.take(
            "get", hay, lambda r: r.action not in GET_STATE_ACTIONS or gen is not None
        )
        if rule is None:
            return self._status(req, rid, gid, gen)
        if rule.action == "delay":
            response = self._status(req, rid, gid, gen)
            await asyncio.sleep(float(rule.params.get("seconds", 1.0)))
            return response
        if rule.action in GET_STATE_ACTIONS and gen is not None:
            return self._state_fault(rule, rid, gen)
        return fault_response(rule, rid, req.path, cdn=False)

    def _status(self, req: Request, rid: str, gid: str | None, gen: Generation | None) -> Response:
        if not gid:
            return api_error(
                400,
                "Query validation error",
                req.path,
                rid,
                [{"field": "generation_id", "message": "generation_id should not be empty"}],
            )
        if gen is None:
            return api_error(404, "Generation not found", req.path, rid)
        status = gen.status()
        out: dict[str, Any] = {"id": gen.id, "status": status}
        if status == "completed":
            out["audio_file"] = {
                "url": self.server.sign_url(gen),
                "content_type": gen.content_type,
                "file_name": gen.file_name,
                "file_size": gen.size_bytes,
            }
        gen.last_reported_status = status
        return json_response(200, out, rid, [(INFERENCE_ID_HEADER, gen.id)])

    def _state_fault(self, rule: FaultRule, rid: str, gen: Generation) -> Response:
        out: dict[str, Any] = {"id": gen.id}
        action = rule.action
        if action == "generation_error":
            out["status"] = "error"
            out["error"] = rule.params.get("payload", DEFAULT_GENERATION_ERROR)
        elif action == "unknown_status":
            out["status"] = rule.params.get("status", "mystery")
        elif action == "never_complete":
            out["status"] = "generating"
        elif action == "no_audio_url":
            out["status"] = "completed"
        else:  # waiting
            out["status"] = rule.params.get("status", "waiting" if gen.status() == "queued" else "active")
        gen.last_reported_status = out["status"]
        return json_response(200, out, rid, [(INFERENCE_ID_HEADER, gen.id)])

    # ------------------------------------------------------------------------------------- admin

    async def _admin(self, req: Request, rid: str) -> Response:
        sub = req.path[len(ADMIN_PREFIX) :].rstrip("/")
        method = req.method
        try:
            body: Any = json.loads(req.body) if req.body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return api_error(400, "Invalid JSON body", req.path, rid)
        try:
            if sub == "health" and method == "GET":
                return json_response(200, {"ok": True}, rid)
            if sub == "stats" and method == "GET":
                return json_response(200, await self.server.stats(), rid)
            if sub == "reset" and method == "POST":
                self.state.reset()
                return json_response(200, {"ok": True}, rid)
            if sub == "config":
                if method == "POST":
                    if not isinstance(body, dict):
                        raise ValueError("config must be a JSON object")
                    self.state.config.update(body)
                if method in ("GET", "POST"):
                    return json_response(200, self.state.config.to_dict(), rid)
            if sub == "faults":
                if method == "POST":
                    rules = body.get("faults") if isinstance(body, dict) else body
                    if not isinstance(rules, list):
                        raise ValueError('expected {"faults": [rule, ...]}')
                    added = self.state.faults.add(rules)
                    return json_response(200, {"added": len(added), "faults": self._faults()}, rid)
                if method == "DELETE":
                    self.state.faults.clear()
                    return json_response(200, {"faults": []}, rid)
                if method == "GET":
                    return json_response(200, {"faults": self._faults()}, rid)
            if sub in ("release", "hold") and method == "POST":
                if not isinstance(body, dict):
                    raise ValueError("expected a JSON object")
                unknown = set(body) - {"generation_id", "status"}
                if unknown:
                    raise ValueError(f"unknown key(s): {', '.join(sorted(unknown))}")
                gid = body.get("generation_id")
                status = body.get("status")
                if gid is not None and not isinstance(gid, str):
                    raise ValueError("generation_id must be a string")
                if status is not None and not isinstance(status, str):
                    raise ValueError("status must be a string")
                try:
                    if sub == "release":
                        moved = self.state.release(gid, status or "completed")
                    else:
                        moved = self.state.hold(gid, status)
                except KeyError:
                    return api_error(404, "Generation not found", req.path, rid)
                return json_response(200, {"released" if sub == "release" else "held": moved}, rid)
            if sub.startswith("generations/") and method in ("GET", "POST"):
                gen = self.state.generations.get(unquote(sub[len("generations/") :]))
                if gen is None:
                    return api_error(404, "Generation not found", req.path, rid)
                if method == "POST":
                    if not isinstance(body, dict):
                        raise ValueError("expected a JSON object")
                    gen.update(body)
                return json_response(200, (await self.server.stats())["generations"][gen.id], rid)
        except ValueError as exc:
            return api_error(400, str(exc), req.path, rid)
        return api_error(404, f"Cannot {method} {req.path}", req.path, rid)

    def _faults(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.state.faults.rules]


class AudioApp:
    """The "CDN": signed, expiring links that stream generated audio."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.state = server.state

    async def handle(self, req: Request) -> Response:
        rid = str(uuid.uuid4())
        if req.method not in ("GET", "HEAD"):
            return cdn_error(405, rid)
        match = _FILE_PATH.fullmatch(req.path)
        if match is None:
            return cdn_error(404, rid)
        token, ext = match.groups()
        gen = self.state.by_token.get(token)
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
        expected = self.server.signature(name, int(expires), signature[:16])
        if not hmac.compare_digest(signature, expected):
            return "The request signature we calculated does not match the signature you provided"
        if time.time() >= int(expires):
            return "Request has expired"
        return None

    def _serve(self, req: Request, rid: str, gen: Generation | None, token: str, ext: str) -> Response:
        refusal = self._check_signature(req, f"{token}.{ext}")
        if refusal is not None:
            return cdn_error(403, rid, refusal)
        if gen is None or gen.ext != ext:
            return cdn_error(404, rid)
        return self._audio(gen, rid, complete=True)

    def _audio(
        self,
        gen: Generation,
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
        fmt, length_ms, size = gen.audio_format, gen.music_length_ms, gen.size_bytes
        counters = self.state.counters

        async def body() -> AsyncGenerator[bytes, None]:
            sent = 0
            stall_at = -1 if stall_after is None else stall_after  # -1: no stall (or done)
            for chunk in audio_stream(fmt, length_ms, chunk_size):
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

        headers = [("x-request-id", rid), ("Accept-Ranges", "none"), ("Cache-Control", "private, max-age=0")]
        return Response(
            200,
            content_type=gen.content_type,
            headers=headers,
            stream=body(),
            content_length=None if extra else size,
            on_complete=done,
        )

    async def _fault(self, rule: FaultRule, req: Request, rid: str, gen: Generation | None) -> Response:
        p = rule.params
        action = rule.action
        if action == "delay":
            await asyncio.sleep(float(p.get("seconds", 1.0)))
            match = _FILE_PATH.fullmatch(req.path)
            assert match is not None
            return self._serve(req, rid, gen, *match.groups())
        if action in ("truncate", "slow", "oversize", "stall"):
            if gen is None:
                return cdn_error(404, rid)
            if action == "truncate":
                response = self._audio(gen, rid, complete=False, limit=p.get("bytes", gen.size_bytes // 2))
                response.reset_if_short = bool(p.get("reset", False))
                return response
            if action == "slow":
                return self._audio(
                    gen,
                    rid,
                    complete=True,
                    pause=float(p.get("seconds", 0.2)),
                    chunk_size=p.get("chunk_size", DEFAULT_CHUNK_SIZE),
                )
            if action == "stall":
                return self._audio(
                    gen,
                    rid,
                    complete=True,
                    stall_after=p.get("bytes", gen.size_bytes // 2),
                    stall_seconds=float(p.get("seconds", 3600.0)),
                )
            extra = p.get("extra_bytes", max(gen.size_bytes, DEFAULT_CHUNK_SIZE))
            return self._audio(gen, rid, complete=False, extra=extra)
        return fault_response(rule, rid, req.path, cdn=True)


# ------------------------------------------------------------------------------------------ core


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def raise_fd_limit() -> None:
    """Lift the soft open-files limit to the hard one: 1,000 clients need more than 1,024 fds."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Unix
        return
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class EmulatorServer:
    """Both listeners and the shared state, on the current event loop."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        audio_port: int = 0,
        api_key: str = "emulator-key",
        config: Config | None = None,
        audio_base_url: str | None = None,
        keepalive_timeout: float = 75.0,
    ) -> None:
        self.host = host
        self.port = port
        self.audio_port = audio_port
        self.api_key = api_key
        self.state = State(config or Config())
        self._audio_base_override = audio_base_url.rstrip("/") if audio_base_url else None
        self._api = HttpServer(
            ApiApp(self).handle,
            name="api",
            logger=logger,
            error_factory=lambda code, msg: api_error(code, msg, "", str(uuid.uuid4())),
            keepalive_timeout=keepalive_timeout,
        )
        self._audio = HttpServer(
            AudioApp(self).handle,
            name="audio",
            logger=logger,
            error_factory=lambda code, msg: cdn_error(code, str(uuid.uuid4()), msg),
            keepalive_timeout=keepalive_timeout,
        )
        self._started = False

    async def start(self) -> None:
        # Build the audio periods off the loop now, not inside the first download.
        await asyncio.get_running_loop().run_in_executor(None, warm_up)
        self.port = await self._api.start(self.host, self.port)
        try:
            self.audio_port = await self._audio.start(self.host, self.audio_port)
        except BaseException:
            await self._api.close()
            raise
        self._started = True

    async def stop(self) -> None:
        await self._api.close()
        await self._audio.close()
        self._started = False

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def audio_base_url(self) -> str:
        return self._audio_base_override or f"http://{_url_host(self.host)}:{self.audio_port}"

    def signature(self, name: str, expires: int, nonce: str) -> str:
        """A nonce plus an HMAC, so every minted link differs even within the same second."""
        mac = hmac.new(self.state.secret, f"{name}\n{expires}\n{nonce}".encode(), hashlib.sha256)
        return nonce + mac.hexdigest()

    def sign_url(self, gen: Generation) -> str:
        ttl = self.state.config.url_ttl
        now = time.time()
        expires = math.ceil(now + ttl) if ttl > 0 else int(now)
        signature = self.signature(gen.file_name, expires, secrets.token_hex(8))
        return f"{self.audio_base_url}/files/{gen.file_name}?expires={expires}&signature={signature}"

    async def stats(self) -> dict[str, Any]:
        """Counters plus one entry per generation (sha256 computed off the loop, then cached)."""
        loop = asyncio.get_running_loop()
        state = self.state
        gens = list(state.generations.values())
        digests: dict[tuple[str, int], tuple[int, str]] = {}
        for key in {(g.audio_format, g.music_length_ms) for g in gens}:
            digests[key] = await loop.run_in_executor(None, expected_audio, *key)
        out: dict[str, Any] = dict(vars(state.counters))
        out["api_connections"] = self._api.connections_accepted
        out["faults_applied"] = state.faults.applied
        out["faults_pending"] = len(state.faults.rules)
        out["generations"] = {
            g.id: {
                "model": g.model,
                "prompt": g.prompt,
                "music_length_ms": g.music_length_ms,
                "status": g.status(),
                "held": g.held,
                "last_reported_status": g.last_reported_status,
                "client_request_id": g.client_request_id,
                "usage": g.usage,
                "gets": g.gets,
                "downloads": g.downloads,
                "downloads_completed": g.downloads_completed,
                "heads": g.heads,
                "created_at": g.created_at,
                "format": g.audio_format,
                "content_type": g.content_type,
                "file_name": g.file_name,
                "size_bytes": digests[(g.audio_format, g.music_length_ms)][0],
                "sha256": digests[(g.audio_format, g.music_length_ms)][1],
            }
            for g in gens
        }
        return out


class Emulator:
    """The emulator on a private event loop in a daemon thread, for tests (`with Emulator() as emu:`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        audio_port: int = 0,
        api_key: str = "emulator-key",
        generation_seconds: float = 3.0,
        *,
        queued_seconds: float | None = None,
        audio_format: str = "wav",
        url_ttl: float = 900.0,
        submit_status: int = 200,
        usage: str | bool = "both",
        hold: bool = False,
        polls_to_complete: int | None = None,
        audio_base_url: str | None = None,
        keepalive_timeout: float = 75.0,
    ) -> None:
        config = Config(
            generation_seconds=generation_seconds,
            queued_seconds=queued_seconds,
            audio_format=audio_format,
            url_ttl=url_ttl,
            submit_status=submit_status,
            usage=usage,  # type: ignore[arg-type]  # Config normalizes the boolean form
            hold=hold,
            polls_to_complete=polls_to_complete,
        )
        self._server = EmulatorServer(
            host=host,
            port=port,
            audio_port=audio_port,
            api_key=api_key,
            config=config,
            audio_base_url=audio_base_url,
            keepalive_timeout=keepalive_timeout,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------- lifecycle

    def start(self) -> Emulator:
        """Start both listeners; returns once they accept connections."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._server.start())
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

        thread = threading.Thread(target=run, name="aimlapi-emulator", daemon=True)
        thread.start()
        if not ready.wait(30):
            raise RuntimeError("emulator did not start within 30 s")
        if errors:
            thread.join(5)
            raise errors[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Close the listeners and every open connection, then end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._server.stop(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._loop = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("emulator is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(60)

    # ---------------------------------------------------------------------------------- access

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def audio_port(self) -> int:
        return self._server.audio_port

    @property
    def api_key(self) -> str:
        return self._server.api_key

    @property
    def base_url(self) -> str:
        """API base URL, e.g. ``http://127.0.0.1:PORT`` (POST ``{base_url}/v2/generate/audio``)."""
        return self._server.base_url

    @property
    def audio_base_url(self) -> str:
        return self._server.audio_base_url

    def stats(self) -> dict[str, Any]:
        return self._call(self._server.stats())

    def reset(self) -> None:
        async def run() -> None:
            self._server.state.reset()

        self._call(run())

    def add_faults(self, rules: Iterable[FaultRule | Mapping[str, Any]]) -> list[FaultRule]:
        """Append rules (dicts in the admin JSON shape, or `FaultRule`); raises ValueError if invalid."""
        rule_list = list(rules)

        async def run() -> list[FaultRule]:
            return self._server.state.faults.add(rule_list)

        return self._call(run())

    def clear_faults(self) -> None:
        async def run() -> None:
            self._server.state.faults.clear()

        self._call(run())

    def faults(self) -> list[dict[str, Any]]:
        """Pending rules with their remaining ``times``."""

        async def run() -> list[dict[str, Any]]:
            return [r.to_dict() for r in self._server.state.faults.rules]

        return self._call(run())

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change runtime config (generation_seconds, queued_seconds, audio_format, url_ttl, submit_status,
        usage, hold, polls_to_complete); returns the whole config. Affects generations created afterwards
        (``usage``: answers from now on)."""

        async def run() -> dict[str, Any]:
            self._server.state.config.update(changes)
            return self._server.state.config.to_dict()

        return self._call(run())

    def update_generation(self, generation_id: str, **changes: Any) -> None:
        """Override one generation's ``audio_format``, ``generation_seconds`` or ``queued_seconds``."""

        async def run() -> None:
            gen = self._server.state.generations.get(generation_id)
            if gen is None:
                raise KeyError(generation_id)
            gen.update(changes)

        self._call(run())

    # ------------------------------------------------------------------------ deterministic control

    def release(self, generation_id: str | None = None, status: str = "completed") -> list[str]:
        """
        Move a generation to ``status``: ``"completed"`` (the default; it completes now, whatever its
        timer) or a pending status (``queued``, ``generating``, ``waiting``, ``active``, ``processing``)
        at which it stays held. With no id: every held generation. Returns the ids moved; KeyError for
        an unknown id.
        """

        async def run() -> list[str]:
            return self._server.state.release(generation_id, status)

        return self._call(run())

    def hold(self, generation_id: str | None = None, status: str | None = None) -> list[str]:
        """
        Pin a generation at a pending ``status`` (default: the one it reports now) until `release`.
        With no id: every generation not completed yet. ValueError for a completed one without a
        status. To hold generations from their POST on, use ``configure(hold=True)``.
        """

        async def run() -> list[str]:
            return self._server.state.hold(generation_id, status)

        return self._call(run())

    def wait_until(
        self,
        predicate: Callable[[dict[str, Any]], T | None],
        timeout: float = 60.0,
        what: str = "the emulator's stats to match",
        interval: float = 0.02,
    ) -> T:
        """
        Poll `stats` until ``predicate(stats)`` returns something truthy and return it; TimeoutError
        after ``timeout`` seconds. For tests: wait for what a client did, never for a fixed time.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self.stats())
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(interval)

    def wait_for_generations(self, count: int = 1, timeout: float = 60.0) -> list[str]:
        """Wait until at least ``count`` generations were created; their ids, oldest first."""

        def created(stats: dict[str, Any]) -> list[str] | None:
            ids = list(stats["generations"])
            return ids if len(ids) >= count else None

        return self.wait_until(created, timeout, f"{count} generation(s) to be created")

    def wait_for_polls(self, generation_id: str, polls: int = 1, timeout: float = 60.0) -> int:
        """Wait until ``generation_id`` was polled (GET) at least ``polls`` times; the count so far."""

        def polled(stats: dict[str, Any]) -> int | None:
            gen = stats["generations"].get(generation_id)
            return gen["gets"] if gen is not None and gen["gets"] >= polls else None

        return self.wait_until(polled, timeout, f"{polls} poll(s) of {generation_id}")
