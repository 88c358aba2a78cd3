"""
What a connection resolves to (``ApiSettings``), the lookup that concurrent async clients share,
the environment's proxy for a URL, and the one SSL context of the process.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed

from airflow_provider_music.defaults import CONN_TYPE, SHARED_CONNECTION_TTL_S
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.wire import normalize_base_url

if TYPE_CHECKING:
    from airflow.sdk import Connection


@dataclass(frozen=True)
class ApiSettings:
    """What a connection resolves to; the key lives only here and in request headers."""

    base_url: str
    api_key: str = ""
    timeout: float | None = None  # read timeout from the connection's extra {"timeout": seconds}
    scheme_assumed: bool = False  # the host had no scheme, so https:// was assumed

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback
        """The settings without the key."""
        return f"ApiSettings(base_url={self.base_url!r}, api_key='***', timeout={self.timeout!r})"

    @classmethod
    def from_connection(cls, conn: Connection) -> ApiSettings:
        """Read an ``aimlapi`` connection; any other type is refused before its secret goes anywhere."""
        conn_type = conn.conn_type
        if not isinstance(conn_type, str) or conn_type.strip().lower() != CONN_TYPE:
            # Another service's connection: its secret must not go to the AI/ML API as a bearer token.
            shown = repr(conn_type[:40]) if isinstance(conn_type, str) else "no type"
            raise MusicInputError(
                f"Connection {conn.conn_id!r} is of type {shown}, not {CONN_TYPE!r}: it was not used. "
                f"Point conn_id at a connection of type {CONN_TYPE!r} (its password is the API key)."
            )
        api_key = (conn.password or "").strip()
        if not api_key:
            raise MusicInputError(
                f"Connection {conn.conn_id!r} has no API key: put it in the connection's password field"
            )
        timeout = None
        raw = (conn.extra_dejson or {}).get("timeout")
        if raw is not None:
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
                raise MusicInputError(
                    f"Connection {conn.conn_id!r}: extra 'timeout' must be positive seconds"
                )
            timeout = float(raw)
        host = (conn.host or "").strip()
        return cls(
            base_url=normalize_base_url(conn.host, conn.port),
            api_key=api_key,
            timeout=timeout,
            scheme_assumed=bool(host) and "://" not in host,
        )


class _SharedEntry:
    """One connection lookup, used by every async client of the process that runs at the same time."""

    __slots__ = ("fetched_at", "settings", "users")

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.fetched_at = time.monotonic()
        self.users = 0

    def age(self) -> float:
        return time.monotonic() - self.fetched_at


# conn_id -> the lookup that running async clients share (see SharedSettings).
_SHARED_SETTINGS: dict[str, _SharedEntry] = {}


def open_shared_settings() -> dict[str, int]:
    """The shared connection lookups in use now: conn_id -> how many clients hold it (none when idle)."""
    return {conn_id: entry.users for conn_id, entry in _SHARED_SETTINGS.items() if entry.users > 0}


def reset_shared_settings() -> None:
    """Forget every shared lookup: the next async client of each connection reads it afresh."""
    _SHARED_SETTINGS.clear()


class SharedSettings:
    """
    One async client's hold on the lookup of ``conn_id`` that concurrent clients share.

    Clients running at the same time in one process share one lookup per connection for up to
    ``ttl_s``: a lookup costs more CPU than several polls, and a triggerer starts trigger runs all the
    time. Once no client uses it, or it is older, the next one reads the connection afresh.
    """

    def __init__(
        self,
        conn_id: str,
        read: Callable[[str], Awaitable[Connection]],
        *,
        ttl_s: float = SHARED_CONNECTION_TTL_S,
    ) -> None:
        self.conn_id = conn_id
        self.ttl_s = ttl_s
        self._read = read
        self._entry: _SharedEntry | None = None
        self.read_here = False  # this client did the lookup it holds (so a 401 is not a stale key)

    @property
    def current(self) -> ApiSettings | None:
        """The settings held now, if any."""
        return self._entry.settings if self._entry is not None else None

    async def acquire(self) -> ApiSettings:
        """The settings: the shared lookup when it is fresh and in use, else a new lookup."""
        entry = self._entry
        if entry is None:
            entry = _SHARED_SETTINGS.get(self.conn_id)
            if entry is None or entry.users <= 0 or entry.age() >= self.ttl_s:
                entry = _SharedEntry(ApiSettings.from_connection(await self._read(self.conn_id)))
                _SHARED_SETTINGS[self.conn_id] = entry
                self.read_here = True
            else:
                self.read_here = False
            entry.users += 1
            self._entry = entry
        return entry.settings

    def release(self) -> None:
        """Let go of the lookup; the last user removes it."""
        entry, self._entry = self._entry, None
        if entry is not None:
            entry.users -= 1
            if entry.users <= 0 and _SHARED_SETTINGS.get(self.conn_id) is entry:
                del _SHARED_SETTINGS[self.conn_id]

    def forget(self) -> None:
        """Stop sharing this lookup (a key it holds was refused): the next acquire reads afresh."""
        if self._entry is not None and _SHARED_SETTINGS.get(self.conn_id) is self._entry:
            del _SHARED_SETTINGS[self.conn_id]


@lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """One context for every async client of the process (each costs ~1 MB and milliseconds of CPU)."""
    return ssl.create_default_context()


def env_proxy(base_url: str) -> str | None:
    """
    The ``<scheme>_proxy`` that applies to ``base_url``, honouring ``no_proxy`` (as requests and curl
    do). Only the few variables involved are read: scanning the whole environment on every trigger
    run, as ``urllib.request.getproxies()`` does, costs more than a poll.
    """
    parts = urlsplit(base_url)
    scheme = parts.scheme.lower()
    proxy = os.environ.get(f"{scheme}_proxy") or os.environ.get(f"{scheme.upper()}_PROXY")
    if not proxy:
        return None
    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
    if no_proxy and parts.hostname and proxy_bypass_environment(parts.hostname, {"no": no_proxy}):
        return None
    return proxy
