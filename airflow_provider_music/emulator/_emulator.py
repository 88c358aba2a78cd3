"""`Emulator`: the emulator on a private event loop in a daemon thread, for tests.

Its methods hop onto that loop (``run_coroutine_threadsafe``), so the state is only ever touched
from one thread. The ``wait_*`` helpers poll the stats, so tests wait for what a client did rather
than for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from ._character import DEFAULT_CHARACTER, CharacterLike
from ._config import (
    DEFAULT_API_KEY,
    DEFAULT_AUDIO_FORMAT,
    DEFAULT_GENERATION_SECONDS,
    DEFAULT_HOST,
    DEFAULT_KEEPALIVE_TIMEOUT,
    DEFAULT_SUBMIT_STATUS,
    DEFAULT_URL_TTL,
    DEFAULT_USAGE,
    Config,
)
from ._faults import FaultRule
from ._server import EmulatorServer

T = TypeVar("T")

#: Seconds `Emulator.start` waits for both listeners.
START_TIMEOUT_S = 30
#: Seconds `Emulator.stop` waits for the listeners to close and the thread to end.
STOP_TIMEOUT_S = 15
#: Seconds to wait for a thread that failed to start.
FAILED_START_JOIN_S = 5
#: Seconds one call onto the emulator's loop may take.
CALL_TIMEOUT_S = 60
DEFAULT_WAIT_TIMEOUT = 60.0
DEFAULT_WAIT_INTERVAL = 0.02
THREAD_NAME = "aimlapi-emulator"


class Emulator:
    """The emulator on a private event loop in a daemon thread, for tests (`with Emulator() as emu:`)."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        audio_port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        generation_seconds: float = DEFAULT_GENERATION_SECONDS,
        *,
        queued_seconds: float | None = None,
        audio_format: str = DEFAULT_AUDIO_FORMAT,
        audio_character: CharacterLike = DEFAULT_CHARACTER,
        url_ttl: float = DEFAULT_URL_TTL,
        submit_status: int = DEFAULT_SUBMIT_STATUS,
        usage: str | bool = DEFAULT_USAGE,
        hold: bool = False,
        polls_to_complete: int | None = None,
        audio_base_url: str | None = None,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
    ) -> None:
        config = Config(
            generation_seconds=generation_seconds,
            queued_seconds=queued_seconds,
            audio_format=audio_format,
            audio_character=audio_character,  # type: ignore[arg-type]  # Config parses every form
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

        thread = threading.Thread(target=run, name=THREAD_NAME, daemon=True)
        thread.start()
        if not ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"emulator did not start within {START_TIMEOUT_S} s")
        if errors:
            thread.join(FAILED_START_JOIN_S)
            raise errors[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Close the listeners and every open connection, then end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._server.stop(), loop).result(STOP_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_S)
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
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT_S)

    # ---------------------------------------------------------------------------------- access

    @property
    def host(self) -> str:
        """The address the listeners are bound to."""
        return self._server.host

    @property
    def port(self) -> int:
        """The API port (the one picked when 0 was asked for)."""
        return self._server.port

    @property
    def audio_port(self) -> int:
        """The audio (CDN) port (the one picked when 0 was asked for)."""
        return self._server.audio_port

    @property
    def api_key(self) -> str:
        """The bearer key the API accepts."""
        return self._server.api_key

    @property
    def base_url(self) -> str:
        """API base URL, e.g. ``http://127.0.0.1:PORT`` (POST ``{base_url}/v2/generate/audio``)."""
        return self._server.base_url

    @property
    def audio_base_url(self) -> str:
        """Base URL of the audio links (``audio_base_url`` when given, else the audio port)."""
        return self._server.audio_base_url

    def stats(self) -> dict[str, Any]:
        """Counters plus one entry per generation, as ``GET /_emulator/stats`` answers."""
        return self._call(self._server.stats())

    def reset(self) -> None:
        """Forget generations, counters and fault rules (the config is kept)."""

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
        """Drop every pending fault rule."""

        async def run() -> None:
            self._server.state.faults.clear()

        self._call(run())

    def faults(self) -> list[dict[str, Any]]:
        """Pending rules with their remaining ``times``."""

        async def run() -> list[dict[str, Any]]:
            return [r.to_dict() for r in self._server.state.faults.rules]

        return self._call(run())

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change runtime config (generation_seconds, queued_seconds, audio_format, audio_character,
        url_ttl, submit_status, usage, hold, polls_to_complete); returns the whole config. Affects
        generations created afterwards (``usage``: answers from now on)."""

        async def run() -> dict[str, Any]:
            self._server.state.config.update(changes)
            return self._server.state.config.to_dict()

        return self._call(run())

    def update_generation(self, generation_id: str, **changes: Any) -> None:
        """Override one generation's ``audio_format``, ``audio_character``, ``generation_seconds`` or
        ``queued_seconds``."""

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
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        what: str = "the emulator's stats to match",
        interval: float = DEFAULT_WAIT_INTERVAL,
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

    def wait_for_generations(self, count: int = 1, timeout: float = DEFAULT_WAIT_TIMEOUT) -> list[str]:
        """Wait until at least ``count`` generations were created; their ids, oldest first."""

        def created(stats: dict[str, Any]) -> list[str] | None:
            ids = list(stats["generations"])
            return ids if len(ids) >= count else None

        return self.wait_until(created, timeout, f"{count} generation(s) to be created")

    def wait_for_polls(
        self, generation_id: str, polls: int = 1, timeout: float = DEFAULT_WAIT_TIMEOUT
    ) -> int:
        """Wait until ``generation_id`` was polled (GET) at least ``polls`` times; the count so far."""

        def polled(stats: dict[str, Any]) -> int | None:
            gen = stats["generations"].get(generation_id)
            return gen["gets"] if gen is not None and gen["gets"] >= polls else None

        return self.wait_until(polled, timeout, f"{polls} poll(s) of {generation_id}")
