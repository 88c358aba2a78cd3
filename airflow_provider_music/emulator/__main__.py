"""``python -m airflow_provider_music.emulator``: serve the emulator until SIGTERM/SIGINT.

Prints ``emulator listening api=URL audio=URL`` (flushed) once both ports accept connections, and
optionally writes the same as JSON to ``--ready-file`` so scripts need not parse stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

from ._character import CHARACTER_PARAMS, CHARACTERS, DEFAULT_CHARACTER, AudioCharacter
from ._config import (
    API_KEY_ENV,
    CLI_SUBMIT_STATUSES,
    DEFAULT_API_KEY,
    DEFAULT_AUDIO_FORMAT,
    DEFAULT_CLI_PORT,
    DEFAULT_GENERATION_SECONDS,
    DEFAULT_HOST,
    DEFAULT_KEEPALIVE_TIMEOUT,
    DEFAULT_SUBMIT_STATUS,
    DEFAULT_URL_TTL,
    DEFAULT_USAGE,
    USAGE_MODES,
    Config,
)
from ._server import EmulatorServer, logger, raise_fd_limit
from ._state import PENDING_STATUSES
from ._synthesis import FORMATS, audio_problem

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"

if TYPE_CHECKING:
    from collections.abc import Sequence


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return number


def _character(value: str) -> AudioCharacter:
    try:
        return AudioCharacter.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _character_help() -> str:
    params = "; ".join(
        f"{name} takes {', '.join(f'{k} (default {v:g})' for k, v in defaults.items())}"
        for name, defaults in CHARACTER_PARAMS.items()
    )
    return (
        f"what new generations' audio sounds like: one of {', '.join(CHARACTERS)}, optionally with"
        f" parameters as NAME:KEY=VALUE[,KEY=VALUE] ({params}); default: %(default)s"
    )


def build_parser() -> argparse.ArgumentParser:
    """The CLI's flags (every runtime `Config` key has one)."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_music.emulator",
        description="Local emulator of the AI/ML API music endpoints (/v2/generate/audio) and its audio CDN.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_CLI_PORT,
        help="API port; 0 picks a free one (default: %(default)s; 8080 is the Airflow api-server's)",
    )
    parser.add_argument(
        "--audio-port",
        type=int,
        default=None,
        help="audio (CDN) port; default: 0 (free) when --port is 0, else --port + 1",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV, DEFAULT_API_KEY),
        help=f"the accepted bearer key (default: ${API_KEY_ENV} or '{DEFAULT_API_KEY}')",
    )
    parser.add_argument(
        "--generation-seconds",
        type=_non_negative,
        default=DEFAULT_GENERATION_SECONDS,
        help="time to 'completed'",
    )
    parser.add_argument(
        "--queued-seconds",
        type=_non_negative,
        default=None,
        help="time in 'queued' (default: 25%% of generation)",
    )
    parser.add_argument(
        "--audio-format",
        choices=FORMATS,
        default=DEFAULT_AUDIO_FORMAT,
        help="elevenlabs/eleven_music's audio (other models send their own format); default: %(default)s",
    )
    parser.add_argument(
        "--audio-character",
        type=_character,
        default=AudioCharacter(DEFAULT_CHARACTER),
        metavar="CHARACTER",
        help=_character_help(),
    )
    parser.add_argument(
        "--url-ttl", type=_non_negative, default=DEFAULT_URL_TTL, help="audio link lifetime in seconds"
    )
    parser.add_argument(
        "--submit-status",
        type=int,
        choices=CLI_SUBMIT_STATUSES,
        default=DEFAULT_SUBMIT_STATUS,
        help="HTTP code of a POST",
    )
    parser.add_argument(
        "--usage",
        choices=USAGE_MODES,
        nargs="?",
        const=DEFAULT_USAGE,
        default=DEFAULT_USAGE,
        help="where a POST answer reports the cost: meta.usage in the body, the x-aimlapi-credits-used"
        " and x-aimlapi-usd-spent headers, both or none (default: %(default)s)",
    )
    parser.add_argument(
        "--hold",
        action="store_true",
        help="new generations stay 'queued' until released: POST /_emulator/release"
        f' {{"generation_id": ID (default: all), "status": \'completed\' or one of'
        f" {', '.join(PENDING_STATUSES)}}}",
    )
    parser.add_argument(
        "--polls-to-complete",
        type=_positive_int,
        default=None,
        metavar="N",
        help="a generation completes on its Nth poll (GET), whatever the time (timers ignored)",
    )
    parser.add_argument(
        "--audio-base-url", default=None, help="audio base URL to advertise (e.g. behind a proxy)"
    )
    parser.add_argument(
        "--keepalive-timeout",
        type=_non_negative,
        default=DEFAULT_KEEPALIVE_TIMEOUT,
        help="idle keep-alive seconds",
    )
    parser.add_argument(
        "--ready-file", default=None, help='write {"api": URL, "audio": URL} here once listening'
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (access log lines are INFO)")
    parser.add_argument("--quiet", action="store_true", help="no access log (same as --log-level WARNING)")
    return parser


async def serve(args: argparse.Namespace) -> None:
    """Run the emulator until SIGTERM or SIGINT, announcing its URLs once it listens."""
    audio_port = args.audio_port
    if audio_port is None:
        audio_port = 0 if args.port == 0 else args.port + 1
    server = EmulatorServer(
        host=args.host,
        port=args.port,
        audio_port=audio_port,
        api_key=args.api_key,
        config=Config(
            generation_seconds=args.generation_seconds,
            queued_seconds=args.queued_seconds,
            audio_format=args.audio_format,
            audio_character=args.audio_character,
            url_ttl=args.url_ttl,
            submit_status=args.submit_status,
            usage=args.usage,
            hold=args.hold,
            polls_to_complete=args.polls_to_complete,
        ),
        audio_base_url=args.audio_base_url,
        keepalive_timeout=args.keepalive_timeout,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await server.start()
    try:
        if args.ready_file:
            tmp = f"{args.ready_file}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"api": server.base_url, "audio": server.audio_base_url}, fh)
            os.replace(tmp, args.ready_file)
        print(f"emulator listening api={server.base_url} audio={server.audio_base_url}", flush=True)
        await stop.wait()
        logger.info("shutting down")
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI entry point: 0 after a clean shutdown, 1 when a port cannot be bound."""
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = audio_problem(args.audio_format, args.audio_character)
    if problem is not None:
        parser.error(f"--audio-character {args.audio_character} in {args.audio_format}: {problem}")
    level = "WARNING" if args.quiet else args.log_level.upper()
    logging.basicConfig(level=level, stream=sys.stderr, format=LOG_FORMAT)
    raise_fd_limit()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:  # pragma: no cover - SIGINT before the handler is installed
        pass
    except OSError as exc:
        print(f"emulator: cannot listen: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
