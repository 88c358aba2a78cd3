"""`EmulatorHost`: what the API, admin and CDN apps need from the server that runs them.

A Protocol, so the apps sit below `EmulatorServer` (which builds them) without importing it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from ._state import EmulatedGeneration, State


class EmulatorHost(Protocol):
    """The shared state, the API key, link signing, the stats and audio preparation."""

    state: State
    api_key: str

    def signature(self, name: str, expires: int, nonce: str) -> str:
        """The signature of a link to ``name`` that expires at ``expires`` (Unix time)."""

    def sign_url(self, gen: EmulatedGeneration) -> str:
        """A fresh signed link to ``gen``'s audio."""

    async def stats(self) -> dict[str, Any]:
        """Counters plus one entry per generation."""

    def start_preparing(self, gen: EmulatedGeneration) -> asyncio.Future[int] | None:
        """Start the slow work ``gen``'s audio needs (a period to build, an MP3 to encode) off the loop."""

    async def prepare_audio(self, gen: EmulatedGeneration) -> None:
        """Wait until ``gen``'s audio is ready to serve (see `start_preparing`)."""
