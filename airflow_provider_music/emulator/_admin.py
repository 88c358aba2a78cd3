"""The unauthenticated admin API on the API port (``/_emulator/...``).

Tests and scripts drive the emulator through it: health, stats, reset, config, fault rules,
hold/release and per-generation overrides. Each route is one small handler; `AdminApi.handle`
parses the body once, picks the handler and turns its ValueError into a 400.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from ._host import EmulatorHost
from ._messages import Request, Response
from ._responses import api_error, json_response

ADMIN_PREFIX = "/_emulator/"
GENERATIONS_PREFIX = "generations/"
#: The keys ``POST /_emulator/release`` and ``POST /_emulator/hold`` accept.
MOVE_KEYS = frozenset({"generation_id", "status"})

#: ``handler(request, request_id, sub_path, parsed_body)``.
AdminHandler = Callable[[Request, str, str, Any], Awaitable[Response]]


class AdminApi:
    """The ``/_emulator/`` routes; they share the server's state with the API and the CDN."""

    def __init__(self, server: EmulatorHost) -> None:
        self.server = server
        self.state = server.state
        self._routes: dict[tuple[str, str], AdminHandler] = {
            ("health", "GET"): self._health,
            ("stats", "GET"): self._stats,
            ("reset", "POST"): self._reset,
            ("config", "GET"): self._config,
            ("config", "POST"): self._config,
            ("faults", "GET"): self._list_faults,
            ("faults", "POST"): self._add_faults,
            ("faults", "DELETE"): self._clear_faults,
            ("release", "POST"): self._move,
            ("hold", "POST"): self._move,
        }

    async def handle(self, req: Request, rid: str) -> Response:
        """Answer one ``/_emulator/...`` request (a malformed JSON body is a 400 on any route)."""
        sub = req.path[len(ADMIN_PREFIX) :].rstrip("/")
        try:
            body: Any = json.loads(req.body) if req.body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return api_error(400, "Invalid JSON body", req.path, rid)
        handler = self._route(sub, req.method)
        if handler is None:
            return api_error(404, f"Cannot {req.method} {req.path}", req.path, rid)
        try:
            return await handler(req, rid, sub, body)
        except ValueError as exc:
            return api_error(400, str(exc), req.path, rid)

    def _route(self, sub: str, method: str) -> AdminHandler | None:
        if sub.startswith(GENERATIONS_PREFIX) and method in ("GET", "POST"):
            return self._generation
        return self._routes.get((sub, method))

    async def _health(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        return json_response(200, {"ok": True}, rid)

    async def _stats(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        return json_response(200, await self.server.stats(), rid)

    async def _reset(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        self.state.reset()
        return json_response(200, {"ok": True}, rid)

    async def _config(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        if req.method == "POST":
            if not isinstance(body, dict):
                raise ValueError("config must be a JSON object")
            self.state.config.update(body)
        return json_response(200, self.state.config.to_dict(), rid)

    def _faults(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.state.faults.rules]

    async def _list_faults(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        return json_response(200, {"faults": self._faults()}, rid)

    async def _add_faults(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        rules = body.get("faults") if isinstance(body, dict) else body
        if not isinstance(rules, list):
            raise ValueError('expected {"faults": [rule, ...]}')
        added = self.state.faults.add(rules)
        return json_response(200, {"added": len(added), "faults": self._faults()}, rid)

    async def _clear_faults(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        self.state.faults.clear()
        return json_response(200, {"faults": []}, rid)

    async def _move(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        """``release`` or ``hold``: body ``{"generation_id": id (default: all), "status": ...}``."""
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        unknown = set(body) - MOVE_KEYS
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

    async def _generation(self, req: Request, rid: str, sub: str, body: Any) -> Response:
        """One generation's stats entry; ``POST`` overrides its format or timing first."""
        gen = self.state.generations.get(unquote(sub[len(GENERATIONS_PREFIX) :]))
        if gen is None:
            return api_error(404, "Generation not found", req.path, rid)
        if req.method == "POST":
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            gen.update(body)
        return json_response(200, (await self.server.stats())["generations"][gen.id], rid)
