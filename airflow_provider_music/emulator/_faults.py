"""Fault rules: scripted misbehaviour for the next matching requests.

Rules are checked in the order they were added; the first rule whose target matches (and whose
optional ``match`` substring occurs in the generation id or prompt) answers the request and uses up
one of its ``times`` (-1: forever). Unknown actions or parameters are rejected so typos in tests fail
loudly instead of silently not injecting anything.

One action answers nothing: ``{"target": "post", "action": "character", "character": "quiet"}``
(plus the character's ``seconds`` or ``ratio``) sets the audio character of the next generation a
POST creates, and is used up only by a POST that creates one (`CHARACTER_ACTION`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._character import AudioCharacter

TARGETS: tuple[str, ...] = ("post", "get", "audio")

#: Defaults of the actions' parameters (a rule that names none gets these).
DEFAULT_DELAY_SECONDS = 1.0  # delay: answer normally, this much later
DEFAULT_SLOW_PAUSE_SECONDS = 0.2  # slow: pause between audio chunks
DEFAULT_STALL_SECONDS = 3600.0  # stall: hold the audio stream this long (in effect: forever)
HTTP_STATUS_RANGE = (100, 599)
SHAPES: tuple[str, ...] = ("default", "title")

#: Actions that change what a GET reports about a generation (need an existing generation).
GET_STATE_ACTIONS: frozenset[str] = frozenset(
    {"generation_error", "unknown_status", "never_complete", "no_audio_url", "waiting"}
)

_COMMON: dict[str, frozenset[str]] = {
    "status": frozenset({"code", "headers", "body", "shape", "content_type"}),
    "reset": frozenset(),
    "delay": frozenset({"seconds"}),
    "html": frozenset({"code", "headers", "body"}),
    "bad_json": frozenset({"code", "headers", "body"}),
}
_CREATE = frozenset({"create"})
#: The POST action that changes the created generation's audio instead of the answer.
CHARACTER_ACTION = "character"
#: A character rule's parameters besides ``character``: the character's own (see `AudioCharacter`).
CHARACTER_PARAMS = frozenset({"seconds", "ratio"})
_GET_STATE: dict[str, frozenset[str]] = {
    "generation_error": frozenset({"payload"}),
    "unknown_status": frozenset({"status"}),
    "never_complete": frozenset(),
    "no_audio_url": frozenset(),
    "waiting": frozenset({"status"}),
}
_AUDIO: dict[str, frozenset[str]] = {
    "truncate": frozenset({"bytes", "reset"}),
    "json": frozenset({"code", "headers", "body"}),
    "expired": frozenset({"code", "body"}),
    "slow": frozenset({"seconds", "chunk_size"}),
    "stall": frozenset({"bytes", "seconds"}),
    "oversize": frozenset({"extra_bytes"}),
}

#: target -> action -> allowed parameters (besides target/action/times/match).
ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    "post": {
        **{name: params | (_CREATE if name != "delay" else frozenset()) for name, params in _COMMON.items()},
        CHARACTER_ACTION: frozenset({"character"}) | CHARACTER_PARAMS,
    },
    "get": {**_COMMON, **_GET_STATE},
    "audio": {**_COMMON, **_AUDIO},
}

_RULE_KEYS = frozenset({"target", "action", "times", "match"})


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_answer_params(action: str, params: Mapping[str, Any]) -> None:
    """``code`` and ``headers``: what the canned answer carries."""
    code = params.get("code")
    low, high = HTTP_STATUS_RANGE
    if code is not None and (not isinstance(code, int) or isinstance(code, bool) or not low <= code <= high):
        raise ValueError(f"{action}: code must be an HTTP status code ({low}-{high}), got {code!r}")
    headers = params.get("headers")
    if headers is not None and (
        not isinstance(headers, Mapping)
        or not all(isinstance(k, str) and isinstance(v, (str, int, float)) for k, v in headers.items())
    ):
        raise ValueError(f"{action}: headers must be an object of strings")


def rule_character(params: Mapping[str, Any]) -> AudioCharacter:
    """The audio character a ``character`` rule's parameters name (ValueError if they name none)."""
    if "character" not in params:
        raise ValueError("character: the rule needs a 'character' (a name, 'name:key=value' or an object)")
    extra = {key: params[key] for key in CHARACTER_PARAMS if key in params}
    try:
        return AudioCharacter.parse(params["character"], **extra)
    except ValueError as exc:
        raise ValueError(f"character: {exc}") from None


def _check_params(action: str, params: Mapping[str, Any]) -> None:
    if action == CHARACTER_ACTION:
        rule_character(params)
        return
    _check_answer_params(action, params)
    for key in ("seconds",):
        if key in params and (not _is_number(params[key]) or params[key] < 0):
            raise ValueError(f"{action}: {key} must be a non-negative number")
    for key in ("bytes", "extra_bytes"):
        if key in params and (
            not isinstance(params[key], int) or isinstance(params[key], bool) or params[key] < 0
        ):
            raise ValueError(f"{action}: {key} must be a non-negative integer")
    if "chunk_size" in params and (
        not isinstance(params["chunk_size"], int)
        or isinstance(params["chunk_size"], bool)
        or params["chunk_size"] < 1
    ):
        raise ValueError(f"{action}: chunk_size must be a positive integer")
    for key in ("create", "reset"):
        if key in params and not isinstance(params[key], bool):
            raise ValueError(f"{action}: {key} must be a boolean")
    for key in ("shape", "status", "content_type"):
        if key in params and not isinstance(params[key], str):
            raise ValueError(f"{action}: {key} must be a string")
    if "shape" in params and params["shape"] not in SHAPES:
        raise ValueError(f"{action}: shape must be 'default' or 'title'")


@dataclass
class FaultRule:
    """One scripted fault. ``params`` holds the action's own fields (``code``, ``seconds``, ...)."""

    target: str
    action: str
    times: int = 1
    match: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.target not in ACTIONS:
            raise ValueError(f"fault target must be one of {', '.join(TARGETS)}, got {self.target!r}")
        allowed = ACTIONS[self.target]
        if self.action not in allowed:
            raise ValueError(
                f"unknown action {self.action!r} for target {self.target!r}; "
                f"expected one of {', '.join(allowed)}"
            )
        if (
            not isinstance(self.times, int)
            or isinstance(self.times, bool)
            or self.times == 0
            or self.times < -1
        ):
            raise ValueError("times must be a positive integer or -1 (forever)")
        if self.match is not None and not isinstance(self.match, str):
            raise ValueError("match must be a string")
        unknown = set(self.params) - allowed[self.action]
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(sorted(unknown))} for action {self.action!r}; "
                f"allowed: {', '.join(sorted(allowed[self.action])) or 'none'}"
            )
        _check_params(self.action, self.params)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build from the JSON shape ``{"target", "action", "times", "match", **params}``."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault rule must be a JSON object")
        for key in ("target", "action"):
            if not isinstance(data.get(key), str):
                raise ValueError(f"a fault rule needs a string {key!r}")
        params = {k: copy.deepcopy(v) for k, v in data.items() if k not in _RULE_KEYS}
        return cls(
            target=data["target"],
            action=data["action"],
            times=data.get("times", 1),
            match=data.get("match"),
            params=params,
        )

    def to_dict(self) -> dict[str, Any]:
        """The rule in its JSON shape, with the ``times`` it has left."""
        out: dict[str, Any] = {"target": self.target, "action": self.action, "times": self.times}
        if self.match is not None:
            out["match"] = self.match
        out.update(copy.deepcopy(self.params))
        return out

    @property
    def character(self) -> AudioCharacter | None:
        """The audio character a ``character`` rule sets; None for every other action."""
        return rule_character(self.params) if self.action == CHARACTER_ACTION else None

    def matches(self, target: str, haystacks: Iterable[str]) -> bool:
        """Whether the rule applies to ``target`` and its ``match`` occurs in one of ``haystacks``."""
        if target != self.target:
            return False
        return self.match is None or any(self.match in h for h in haystacks if h)


class FaultBook:
    """The ordered list of pending rules (touched only from the event loop thread)."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.applied = 0

    def add(self, rules: Iterable[FaultRule | Mapping[str, Any]]) -> list[FaultRule]:
        """Append rules (a copy of each); returns them parsed. ValueError if one is invalid."""
        parsed = [r if isinstance(r, FaultRule) else FaultRule.from_dict(r) for r in rules]
        self.rules.extend(copy.deepcopy(parsed))
        return parsed

    def clear(self) -> None:
        """Drop every pending rule."""
        self.rules.clear()

    def take(
        self,
        target: str,
        haystacks: Iterable[str],
        applicable: Callable[[FaultRule], bool] | None = None,
    ) -> FaultRule | None:
        """Consume one use of the first rule that matches, or return None."""
        hay = [h for h in haystacks if h]
        for index, rule in enumerate(self.rules):
            if not rule.matches(target, hay) or (applicable is not None and not applicable(rule)):
                continue
            if rule.times > 0:
                rule.times -= 1
                if rule.times == 0:
                    del self.rules[index]
            self.applied += 1
            return rule
        return None
