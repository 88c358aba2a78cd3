"""
What the emulator reports about cost and tracing (usage, ``X-Client-Request-Id``, ``x-inference-id``)
and the controls that make tests deterministic (hold/release, ``polls_to_complete``, waiting helpers).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_music.emulator import (
    CREDITS_PER_USD,
    PENDING_STATUSES,
    USAGE_MODES,
    Emulator,
    usage_for,
)

GEN = "/v2/generate/audio"
ELEVEN = "elevenlabs/eleven_music"
ROOT = Path(__file__).resolve().parents[3]


def submit(client: httpx.Client, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return client.post(GEN, json={"model": ELEVEN, "prompt": "calm piano", **body}, headers=headers)


def created_id(client: httpx.Client, **body: Any) -> str:
    resp = submit(client, **body)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def poll(client: httpx.Client, gid: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return client.get(GEN, params={"generation_id": gid}, headers=headers)


# ----------------------------------------------------------------------------------------- usage


@pytest.mark.parametrize(
    ("length_ms", "credits", "usd"),
    [(10_000, 21_000, "0.010500000"), (12_345, 25_925, "0.012962500"), (300_000, 630_000, "0.315000000")],
)
def test_the_price_is_deterministic(length_ms: int, credits: int, usd: str) -> None:
    got_credits, got_usd = usage_for(length_ms)
    assert (got_credits, f"{got_usd:.9f}") == (credits, usd)
    assert got_usd == Decimal(credits) / CREDITS_PER_USD


@pytest.mark.parametrize("mode", USAGE_MODES)
def test_usage_is_reported_where_the_switch_says(emu: Emulator, client: httpx.Client, mode: str) -> None:
    emu.configure(usage=mode)
    resp = submit(client, music_length_ms=20_000)
    assert resp.status_code == 200
    body = resp.json()
    if mode in ("both", "body"):
        assert body["meta"] == {"usage": {"credits_used": 42_000, "usd_spent": 0.021}}
    else:
        assert "meta" not in body
    if mode in ("both", "headers"):
        assert resp.headers["x-aimlapi-credits-used"] == "42000"
        assert resp.headers["x-aimlapi-usd-spent"] == "0.021000000"
    else:
        assert "x-aimlapi-credits-used" not in resp.headers and "x-aimlapi-usd-spent" not in resp.headers
    # Whatever is reported, the stats say what the generation cost; polls report nothing.
    assert emu.stats()["generations"][body["id"]]["usage"] == {
        "credits_used": 42_000,
        "usd_spent": "0.021000000",
    }
    answer = poll(client, body["id"])
    assert "meta" not in answer.json() and "x-aimlapi-credits-used" not in answer.headers


def test_usage_is_on_by_default_and_the_boolean_form_still_works() -> None:
    with Emulator() as emu:
        assert emu.configure()["usage"] == "both"
        assert emu.configure(usage=False)["usage"] == "none"
        assert emu.configure(usage=True)["usage"] == "both"


def test_failed_posts_report_no_usage(emu: Emulator, client: httpx.Client) -> None:
    invalid = submit(client, prompt="")
    emu.add_faults([{"target": "post", "action": "status", "code": 502, "create": True}])
    ambiguous = submit(client)
    assert (invalid.status_code, ambiguous.status_code) == (400, 502)
    for resp in (invalid, ambiguous):
        assert "x-aimlapi-credits-used" not in resp.headers and "meta" not in resp.json()


@pytest.mark.parametrize("value", ["sometimes", 1, None])
def test_bad_usage_values_are_refused(emu: Emulator, value: Any) -> None:
    with pytest.raises(ValueError, match="usage must be one of both, body, headers, none"):
        emu.configure(usage=value)
    resp = httpx.post(f"{emu.base_url}/_emulator/config", json={"usage": value})
    assert resp.status_code == 400 and "usage must be one of" in resp.json()["message"]
    assert emu.configure()["usage"] == "both"


def test_usage_through_the_config_endpoint(emu: Emulator, client: httpx.Client) -> None:
    cfg = httpx.post(f"{emu.base_url}/_emulator/config", json={"usage": "headers"}).json()
    assert cfg["usage"] == "headers"
    resp = submit(client)
    assert "meta" not in resp.json() and resp.headers["x-aimlapi-usd-spent"] == "0.010500000"


# --------------------------------------------------------------------------------------- tracing


VALID_IDS = ["a", "dag.run_1:task-0", "x" * 128, "A-Z.a_z:0-9"]
INVALID_IDS = ["", "x" * 129, "has space", "slash/y", "émoji", "semi;colon", "tab\there"]


@pytest.mark.parametrize("crid", VALID_IDS)
def test_a_valid_client_request_id_is_echoed_and_recorded(
    emu: Emulator, client: httpx.Client, crid: str
) -> None:
    resp = submit(client, headers={"X-Client-Request-Id": crid})
    assert resp.status_code == 200 and resp.headers["x-client-request-id"] == crid
    gid = resp.json()["id"]
    assert emu.stats()["generations"][gid]["client_request_id"] == crid
    assert poll(client, gid, {"X-Client-Request-Id": crid}).headers["x-client-request-id"] == crid
    assert emu.stats()["client_request_ids_dropped"] == 0


@pytest.mark.parametrize("crid", INVALID_IDS)
def test_an_invalid_client_request_id_is_silently_dropped(
    emu: Emulator, client: httpx.Client, crid: str
) -> None:
    resp = client.post(
        GEN,
        json={"model": ELEVEN, "prompt": "x"},
        headers=[("X-Client-Request-Id", crid.encode("utf-8"))],
    )
    assert resp.status_code == 200  # the request still runs (and is billed)
    assert "x-client-request-id" not in resp.headers
    stats = emu.stats()
    assert stats["generations"][resp.json()["id"]]["client_request_id"] is None
    assert stats["client_request_ids_dropped"] == 1


def test_without_a_client_request_id_nothing_is_echoed(emu: Emulator, client: httpx.Client) -> None:
    resp = submit(client)
    assert "x-client-request-id" not in resp.headers
    stats = emu.stats()
    assert stats["generations"][resp.json()["id"]]["client_request_id"] is None
    assert stats["client_request_ids_dropped"] == 0


def test_error_answers_echo_the_client_request_id_too(emu: Emulator) -> None:
    resp = httpx.post(
        f"{emu.base_url}{GEN}", json={"model": ELEVEN, "prompt": "x"}, headers={"X-Client-Request-Id": "r1"}
    )
    assert resp.status_code == 401 and resp.headers["x-client-request-id"] == "r1"


def test_inference_id_is_the_generation_id(emu: Emulator, client: httpx.Client) -> None:
    emu.configure(generation_seconds=0)
    resp = submit(client)
    gid = resp.json()["id"]
    assert resp.headers["x-inference-id"] == gid
    done = poll(client, gid)
    assert done.json()["status"] == "completed" and done.headers["x-inference-id"] == gid
    emu.add_faults([{"target": "get", "action": "generation_error"}])
    assert poll(client, gid).headers["x-inference-id"] == gid
    missing = poll(client, "nope:elevenlabs/eleven_music")
    assert missing.status_code == 404 and "x-inference-id" not in missing.headers


# -------------------------------------------------------------------------------- hold / release


def test_held_generations_stay_queued_until_released(emu: Emulator, client: httpx.Client) -> None:
    emu.configure(hold=True, generation_seconds=0)
    first, second = created_id(client), created_id(client)
    assert {poll(client, first).json()["status"] for _ in range(5)} == {"queued"}
    gens = emu.stats()["generations"]
    assert gens[first]["held"] and gens[first]["status"] == "queued"

    assert emu.release(first, "processing") == [first]
    assert poll(client, first).json() == {"id": first, "status": "processing"}
    assert emu.stats()["generations"][first]["held"]

    assert emu.release(first) == [first]
    assert poll(client, first).json()["status"] == "completed"
    assert not emu.stats()["generations"][first]["held"]
    assert poll(client, second).json()["status"] == "queued"

    assert emu.release() == [second]  # every held one
    assert emu.release() == []
    assert poll(client, second).json()["status"] == "completed"


def test_release_completes_a_generation_whatever_its_timer(emu: Emulator, client: httpx.Client) -> None:
    emu.configure(generation_seconds=3600)
    gid = created_id(client)
    assert poll(client, gid).json()["status"] == "queued"
    assert emu.release() == []  # not held: "all" means all held ones
    emu.release(gid)
    assert poll(client, gid).json()["audio_file"]["url"]


def test_hold_pins_a_running_generation(emu: Emulator, client: httpx.Client) -> None:
    emu.configure(generation_seconds=3600, queued_seconds=0)
    gid = created_id(client)
    assert emu.hold(gid) == [gid]
    assert poll(client, gid).json()["status"] == "generating"
    assert emu.hold(gid, "waiting") == [gid]
    assert poll(client, gid).json()["status"] == "waiting"
    emu.release(gid)
    with pytest.raises(ValueError, match="has completed"):
        emu.hold(gid)
    assert emu.hold(gid, "active") == [gid]  # back to pending, explicitly
    assert poll(client, gid).json()["status"] == "active"


def test_release_and_hold_refuse_unknown_ids_and_statuses(emu: Emulator, client: httpx.Client) -> None:
    gid = created_id(client)
    with pytest.raises(KeyError):
        emu.release("missing")
    with pytest.raises(KeyError):
        emu.hold("missing")
    with pytest.raises(ValueError, match="status must be"):
        emu.release(gid, "error")
    with pytest.raises(ValueError, match="status must be"):
        emu.hold(gid, "completed")
    assert set(PENDING_STATUSES) == {"queued", "generating", "waiting", "active", "processing"}


def test_hold_and_release_over_http(emu: Emulator, client: httpx.Client) -> None:
    admin = f"{emu.base_url}/_emulator"
    assert httpx.post(f"{admin}/config", json={"hold": True}).json()["hold"] is True
    gid = created_id(client)
    assert poll(client, gid).json()["status"] == "queued"
    moved = httpx.post(f"{admin}/release", json={"generation_id": gid, "status": "generating"})
    assert moved.json() == {"released": [gid]}
    assert poll(client, gid).json()["status"] == "generating"
    assert httpx.post(f"{admin}/release", json={}).json() == {"released": [gid]}
    assert poll(client, gid).json()["status"] == "completed"
    assert httpx.post(f"{admin}/hold", json={"generation_id": gid, "status": "queued"}).json() == {
        "held": [gid]
    }
    assert poll(client, gid).json()["status"] == "queued"
    assert httpx.post(f"{admin}/release", json={"generation_id": "missing"}).status_code == 404
    for bad in ({"status": "done"}, {"generation_id": 5}, {"other": 1}, ["x"]):
        assert httpx.post(f"{admin}/release", json=bad).status_code == 400
    assert httpx.post(f"{admin}/config", json={"hold": "yes"}).status_code == 400


# --------------------------------------------------------------------------------- poll-counting


def test_polls_to_complete(emu: Emulator, client: httpx.Client) -> None:
    emu.configure(polls_to_complete=3, generation_seconds=0)
    gid = created_id(client)
    assert emu.stats()["generations"][gid]["status"] == "queued"
    assert [poll(client, gid).json()["status"] for _ in range(4)] == [
        "queued",
        "generating",
        "completed",
        "completed",
    ]
    emu.configure(polls_to_complete=1)
    assert poll(client, created_id(client)).json()["status"] == "completed"
    emu.configure(polls_to_complete=2, hold=True)  # hold wins
    held = created_id(client)
    assert [poll(client, held).json()["status"] for _ in range(3)] == ["queued"] * 3
    emu.release(held)
    assert poll(client, held).json()["status"] == "completed"


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2"])
def test_bad_polls_to_complete_values_are_refused(emu: Emulator, value: Any) -> None:
    with pytest.raises(ValueError, match="polls_to_complete"):
        emu.configure(polls_to_complete=value)


# ------------------------------------------------------------------------------------- waiting


def test_waiting_helpers(emu: Emulator, client: httpx.Client) -> None:
    emu.configure(hold=True)
    with pytest.raises(TimeoutError, match="1 generation"):
        emu.wait_for_generations(1, timeout=0)
    gid = created_id(client)
    assert emu.wait_for_generations(1) == [gid]
    with pytest.raises(TimeoutError, match="poll"):
        emu.wait_for_polls(gid, 1, timeout=0)
    poll(client, gid)
    assert emu.wait_for_polls(gid, 1) == 1
    assert emu.wait_until(lambda stats: stats["gets"]) == 1
    with pytest.raises(TimeoutError, match="something"):
        emu.wait_until(lambda stats: None, timeout=0, what="something")


# ----------------------------------------------------------------------------------------- CLI


def test_cli_usage_hold_and_polls_flags(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    args = ["--port", "0", "--usage", "headers", "--hold", "--polls-to-complete", "2", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_music.emulator", *args, "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("emulator listening")
        api = json.loads(ready.read_text())["api"]
        config = httpx.get(f"{api}/_emulator/config").json()
        assert (config["usage"], config["hold"], config["polls_to_complete"]) == ("headers", True, 2)
        with httpx.Client(base_url=api, headers={"Authorization": "Bearer emulator-key"}) as client:
            resp = submit(client)
            assert "meta" not in resp.json() and resp.headers["x-aimlapi-credits-used"] == "21000"
            gid = resp.json()["id"]
            assert [poll(client, gid).json()["status"] for _ in range(3)] == ["queued"] * 3
            httpx.post(f"{api}/_emulator/release", json={"generation_id": gid})
            assert poll(client, gid).json()["status"] == "completed"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "args", [["--usage", "sometimes"], ["--polls-to-complete", "0"], ["--polls-to-complete", "x"]]
)
def test_cli_refuses_bad_values(args: list[str]) -> None:
    from airflow_provider_music.emulator.__main__ import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(args)


def test_cli_defaults() -> None:
    from airflow_provider_music.emulator.__main__ import build_parser

    args = build_parser().parse_args([])
    assert (args.port, args.usage, args.hold, args.polls_to_complete) == (8090, "both", False, None)
    assert build_parser().parse_args(["--usage"]).usage == "both"
