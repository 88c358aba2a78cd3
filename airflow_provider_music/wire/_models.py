"""The values the wire layer hands out: statuses, generations, submissions and requests as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

Operation = Literal["submit", "status"]


class GenerationStatus(str, Enum):
    """A generation's status as the service reports it, folded into what a waiter needs to know."""

    QUEUED = "queued"
    GENERATING = "generating"
    WAITING = "waiting"  # seen by older clients
    ACTIVE = "active"  # seen by older clients
    PROCESSING = "processing"  # pending in the vendor's own Python SDK
    COMPLETED = "completed"
    ERROR = "error"
    UNKNOWN = "unknown"  # anything else: treated as a failure, never as "keep waiting"

    @classmethod
    def parse(cls, raw: object) -> GenerationStatus:
        """Map the service's string to a member; unknown or missing values become ``UNKNOWN``."""
        if isinstance(raw, str):
            try:
                status = cls(raw.strip().lower())
            except ValueError:
                return cls.UNKNOWN
            return status
        return cls.UNKNOWN

    def is_pending(self) -> bool:
        """Still worth waiting for (the vendor SDK's pending set)."""
        return self in _PENDING

    def is_terminal(self) -> bool:
        """Done waiting: completed, failed or unknown."""
        return not self.is_pending()

    def is_success(self) -> bool:
        """Completed (whether it carries audio is the ``Generation``'s business)."""
        return self is GenerationStatus.COMPLETED


# The vendor SDK's pending set (aimlapi/api-sdk-python, resources/audio/_polling.py).
_PENDING = frozenset(
    {
        GenerationStatus.QUEUED,
        GenerationStatus.GENERATING,
        GenerationStatus.WAITING,
        GenerationStatus.ACTIVE,
        GenerationStatus.PROCESSING,
    }
)


@dataclass(frozen=True)
class Generation:
    """One parsed answer of ``GET /v2/generate/audio``."""

    id: str
    status: GenerationStatus
    raw_status: str
    audio_url: str | None = None
    error_message: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    usage: Mapping[str, Any] | None = None  # parse_usage of this answer


@dataclass(frozen=True)
class Submission:
    """A created generation: its id, the cost the service reported, and the client request id sent."""

    id: str
    usage: dict[str, Any] | None = None
    client_request_id: str | None = None


@dataclass(frozen=True)
class ApiRequest:
    """A request, described as data so each transport sends the very same thing."""

    method: Literal["GET", "POST"]
    url: str
    operation: Operation
    params: Mapping[str, str] | None = None
    json_body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None  # per request, beside the session's auth headers
