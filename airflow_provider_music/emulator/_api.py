"""The API app: ``POST|GET /v2/generate/audio``, and the ``/_emulator/`` admin API handed to `AdminApi`."""

from __future__ import annotations

import asyncio
import hmac
import json
import uuid
from typing import Any

from ._admin import ADMIN_PREFIX, AdminApi
from ._faults import CHARACTER_ACTION, DEFAULT_DELAY_SECONDS, GET_STATE_ACTIONS, FaultRule
from ._host import EmulatorHost
from ._messages import Request, Response
from ._responses import api_error, fault_response, json_response, message_for
from ._state import USD_PLACES, EmulatedGeneration, usage_for, valid_client_request_id
from ._synthesis import audio_problem
from ._validation import validate_submission

API_PATH = "/v2/generate/audio"
CLIENT_REQUEST_ID_HEADER = "x-client-request-id"
INFERENCE_ID_HEADER = "x-inference-id"
CREDITS_HEADER = "x-aimlapi-credits-used"
USD_HEADER = "x-aimlapi-usd-spent"
DEFAULT_GENERATION_ERROR: dict[str, Any] = {
    "name": "GenerationError",
    "message": "The model failed to generate audio",
}
#: What an ``unknown_status`` fault reports when it names no status.
DEFAULT_UNKNOWN_STATUS = "mystery"


class ApiApp:
    """``/v2/generate/audio`` plus the unauthenticated ``/_emulator/`` admin API."""

    def __init__(self, server: EmulatorHost) -> None:
        self.server = server
        self.state = server.state
        self.admin = AdminApi(server)

    async def handle(self, req: Request) -> Response:
        """Answer one request to the API port."""
        rid = str(uuid.uuid4())
        if req.path.startswith(ADMIN_PREFIX):
            return await self.admin.handle(req, rid)
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
            return api_error(401, message_for(401), req.path, rid)
        body: Any = None
        parse_error: str | None = None
        try:
            body = json.loads(req.body) if req.body else None
        except (ValueError, UnicodeDecodeError) as exc:
            parse_error = f"Invalid JSON body: {exc}"
        hay: list[str] = []
        if isinstance(body, dict):
            hay = [v for v in (body.get("prompt"), body.get("model")) if isinstance(v, str)]
        rule = self.state.faults.take("post", hay, lambda r: r.action != CHARACTER_ACTION)
        if rule is None:
            return self._create(req, rid, body, parse_error, client_request_id, hay)
        if rule.action == "delay":
            response = self._create(req, rid, body, parse_error, client_request_id, hay)
            await asyncio.sleep(float(rule.params.get("seconds", DEFAULT_DELAY_SECONDS)))
            return response
        if rule.params.get("create"):
            self._create(req, rid, body, parse_error, client_request_id, hay)
        return fault_response(rule, rid, req.path, cdn=False)

    def _create(
        self,
        req: Request,
        rid: str,
        body: Any,
        parse_error: str | None,
        client_request_id: str | None,
        hay: list[str],
    ) -> Response:
        if parse_error is not None:
            return api_error(
                400, "Body validation error", req.path, rid, [{"field": "body", "message": parse_error}]
            )
        details, norm = validate_submission(body)
        if details:
            return api_error(400, "Body validation error", req.path, rid, details)
        fmt = norm["audio_format"] or self.state.config.audio_format
        rule = self.state.faults.take("post", hay, lambda r: r.action == CHARACTER_ACTION)
        character = (rule.character if rule is not None else None) or self.state.config.audio_character
        problem = audio_problem(fmt, character)
        if problem is not None:  # the emulator's own set-up, not the client's fault: say so loudly
            return api_error(500, f"emulator: {problem}", req.path, rid)
        gen = self.state.create(
            norm["model"], norm["prompt"], norm["music_length_ms"], fmt, client_request_id, character
        )
        self.server.start_preparing(gen)  # while it "generates": an MP3 may take seconds to encode
        out: dict[str, Any] = {"id": gen.id, "status": "queued"}
        headers = [(INFERENCE_ID_HEADER, gen.id)]
        mode = self.state.config.usage
        credits, usd = usage_for(gen.music_length_ms)
        if mode in ("both", "body"):
            out["meta"] = {"usage": {"credits_used": credits, "usd_spent": float(usd)}}
        if mode in ("both", "headers"):
            headers += [(CREDITS_HEADER, str(credits)), (USD_HEADER, f"{usd:.{USD_PLACES}f}")]
        return json_response(self.state.config.submit_status, out, rid, headers)

    # --------------------------------------------------------------------------------------- GET

    async def _get(self, req: Request, rid: str) -> Response:
        counters = self.state.counters
        counters.gets += 1
        if not self._authorized(req):
            counters.auth_failures += 1
            return api_error(401, message_for(401), req.path, rid)
        gid = req.query_one("generation_id")
        gen = self.state.generations.get(gid) if gid else None
        if gen is not None:
            gen.gets += 1
        hay = [gid or ""] + ([gen.prompt] if gen is not None else [])
        rule = self.state.faults.take(
            "get", hay, lambda r: r.action not in GET_STATE_ACTIONS or gen is not None
        )
        if gen is not None and gen.status() == "completed":
            await self.server.prepare_audio(gen)  # its size, in the answer: an MP3 may need encoding
        if rule is None:
            return self._status(req, rid, gid, gen)
        if rule.action == "delay":
            response = self._status(req, rid, gid, gen)
            await asyncio.sleep(float(rule.params.get("seconds", DEFAULT_DELAY_SECONDS)))
            return response
        if rule.action in GET_STATE_ACTIONS and gen is not None:
            return self._state_fault(rule, rid, gen)
        return fault_response(rule, rid, req.path, cdn=False)

    def _status(self, req: Request, rid: str, gid: str | None, gen: EmulatedGeneration | None) -> Response:
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

    def _state_fault(self, rule: FaultRule, rid: str, gen: EmulatedGeneration) -> Response:
        out: dict[str, Any] = {"id": gen.id}
        action = rule.action
        if action == "generation_error":
            out["status"] = "error"
            out["error"] = rule.params.get("payload", DEFAULT_GENERATION_ERROR)
        elif action == "unknown_status":
            out["status"] = rule.params.get("status", DEFAULT_UNKNOWN_STATUS)
        elif action == "never_complete":
            out["status"] = "generating"
        elif action == "no_audio_url":
            out["status"] = "completed"
        else:  # waiting
            out["status"] = rule.params.get("status", "waiting" if gen.status() == "queued" else "active")
        gen.last_reported_status = out["status"]
        return json_response(200, out, rid, [(INFERENCE_ID_HEADER, gen.id)])
