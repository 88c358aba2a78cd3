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
from airflow_provider_music.emulator.__main__ import build_parser

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
def test_usage_is_reported_where_the_switch_says(
    clean_emulator: Emulator, emulator_client: httpx.Client, mode: str
) -> None:
    clean_emulator.configure(usage=mode)
    resp = submit(emulator_client, music_length_ms=20_000)
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
        assert "x-aimlapi-credits-used" not in resp.headers
        assert "x-aimlapi-usd-spent" not in resp.headers
    # Whatever is reported, the stats say what the generation cost; polls report nothing.
    assert clean_emulator.stats()["generations"][body["id"]]["usage"] == {
        "credits_used": 42_000,
        "usd_spent": "0.021000000",
    }
    answer = poll(emulator_client, body["id"])
    assert "meta" not in answer.json()
    assert "x-aimlapi-credits-used" not in answer.headers


def test_usage_is_on_by_default_and_the_boolean_form_still_works() -> None:
    with Emulator() as emu:
        assert emu.configure()["usage"] == "both"
        assert emu.configure(usage=False)["usage"] == "none"
        assert emu.configure(usage=True)["usage"] == "both"


def test_failed_posts_report_no_usage(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    invalid = submit(emulator_client, prompt="")
    clean_emulator.add_faults([{"target": "post", "action": "status", "code": 502, "create": True}])
    ambiguous = submit(emulator_client)
    assert (invalid.status_code, ambiguous.status_code) == (400, 502)
    for resp in (invalid, ambiguous):
        assert "x-aimlapi-credits-used" not in resp.headers
        assert "meta" not in resp.json()


@pytest.mark.parametrize("value", ["sometimes", 1, None])
def test_bad_usage_values_are_refused(clean_emulator: Emulator, value: Any) -> None:
    with pytest.raises(ValueError, match="usage must be one of both, body, headers, none"):
        clean_emulator.configure(usage=value)
    resp = httpx.post(f"{clean_emulator.base_url}/_emulator/config", json={"usage": value})
    assert resp.status_code == 400
    assert "usage must be one of" in resp.json()["message"]
    assert clean_emulator.configure()["usage"] == "both"


def test_usage_through_the_config_endpoint(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    cfg = httpx.post(f"{clean_emulator.base_url}/_emulator/config", json={"usage": "headers"}).json()
    assert cfg["usage"] == "headers"
    resp = submit(emulator_client)
    assert "meta" not in resp.json()
    assert resp.headers["x-aimlapi-usd-spent"] == "0.010500000"


# --------------------------------------------------------------------------------------- tracing


VALID_IDS = ["a", "dag.run_1:task-0", "x" * 128, "A-Z.a_z:0-9"]
INVALID_IDS = ["", "x" * 129, "has space", "slash/y", "émoji", "semi;colon", "tab\there"]


@pytest.mark.parametrize("crid", VALID_IDS)
def test_a_valid_client_request_id_is_echoed_and_recorded(
    clean_emulator: Emulator, emulator_client: httpx.Client, crid: str
) -> None:
    resp = submit(emulator_client, headers={"X-Client-Request-Id": crid})
    assert resp.status_code == 200
    assert resp.headers["x-client-request-id"] == crid
    gid = resp.json()["id"]
    assert clean_emulator.stats()["generations"][gid]["client_request_id"] == crid
    assert poll(emulator_client, gid, {"X-Client-Request-Id": crid}).headers["x-client-request-id"] == crid
    assert clean_emulator.stats()["client_request_ids_dropped"] == 0


@pytest.mark.parametrize("crid", INVALID_IDS)
def test_an_invalid_client_request_id_is_silently_dropped(
    clean_emulator: Emulator, emulator_client: httpx.Client, crid: str
) -> None:
    resp = emulator_client.post(
        GEN,
        json={"model": ELEVEN, "prompt": "x"},
        headers=[(b"X-Client-Request-Id", crid.encode("utf-8"))],
    )
    assert resp.status_code == 200  # the request still runs (and is billed)
    assert "x-client-request-id" not in resp.headers
    stats = clean_emulator.stats()
    assert stats["generations"][resp.json()["id"]]["client_request_id"] is None
    assert stats["client_request_ids_dropped"] == 1


def test_without_a_client_request_id_nothing_is_echoed(
    clean_emulator: Emulator, emulator_client: httpx.Client
) -> None:
    resp = submit(emulator_client)
    assert "x-client-request-id" not in resp.headers
    stats = clean_emulator.stats()
    assert stats["generations"][resp.json()["id"]]["client_request_id"] is None
    assert stats["client_request_ids_dropped"] == 0


def test_error_answers_echo_the_client_request_id_too(clean_emulator: Emulator) -> None:
    resp = httpx.post(
        f"{clean_emulator.base_url}{GEN}",
        json={"model": ELEVEN, "prompt": "x"},
        headers={"X-Client-Request-Id": "r1"},
    )
    assert resp.status_code == 401
    assert resp.headers["x-client-request-id"] == "r1"


def test_inference_id_is_the_generation_id(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(generation_seconds=0)
    resp = submit(emulator_client)
    gid = resp.json()["id"]
    assert resp.headers["x-inference-id"] == gid
    done = poll(emulator_client, gid)
    assert done.json()["status"] == "completed"
    assert done.headers["x-inference-id"] == gid
    clean_emulator.add_faults([{"target": "get", "action": "generation_error"}])
    assert poll(emulator_client, gid).headers["x-inference-id"] == gid
    missing = poll(emulator_client, "nope:elevenlabs/eleven_music")
    assert missing.status_code == 404
    assert "x-inference-id" not in missing.headers


# -------------------------------------------------------------------------------- hold / release


def test_held_generations_stay_queued_until_released(
    clean_emulator: Emulator, emulator_client: httpx.Client
) -> None:
    clean_emulator.configure(hold=True, generation_seconds=0)
    first, second = created_id(emulator_client), created_id(emulator_client)
    assert {poll(emulator_client, first).json()["status"] for _ in range(5)} == {"queued"}
    gens = clean_emulator.stats()["generations"]
    assert gens[first]["held"]
    assert gens[first]["status"] == "queued"

    assert clean_emulator.release(first, "processing") == [first]
    assert poll(emulator_client, first).json() == {"id": first, "status": "processing"}
    assert clean_emulator.stats()["generations"][first]["held"]

    assert clean_emulator.release(first) == [first]
    assert poll(emulator_client, first).json()["status"] == "completed"
    assert not clean_emulator.stats()["generations"][first]["held"]
    assert poll(emulator_client, second).json()["status"] == "queued"

    assert clean_emulator.release() == [second]  # every held one
    assert clean_emulator.release() == []
    assert poll(emulator_client, second).json()["status"] == "completed"


def test_release_completes_a_generation_whatever_its_timer(
    clean_emulator: Emulator, emulator_client: httpx.Client
) -> None:
    clean_emulator.configure(generation_seconds=3600)
    gid = created_id(emulator_client)
    assert poll(emulator_client, gid).json()["status"] == "queued"
    assert clean_emulator.release() == []  # not held: "all" means all held ones
    clean_emulator.release(gid)
    assert poll(emulator_client, gid).json()["audio_file"]["url"]


def test_hold_pins_a_running_generation(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(generation_seconds=3600, queued_seconds=0)
    gid = created_id(emulator_client)
    assert clean_emulator.hold(gid) == [gid]
    assert poll(emulator_client, gid).json()["status"] == "generating"
    assert clean_emulator.hold(gid, "waiting") == [gid]
    assert poll(emulator_client, gid).json()["status"] == "waiting"
    clean_emulator.release(gid)
    with pytest.raises(ValueError, match="has completed"):
        clean_emulator.hold(gid)
    assert clean_emulator.hold(gid, "active") == [gid]  # back to pending, explicitly
    assert poll(emulator_client, gid).json()["status"] == "active"


def test_release_and_hold_refuse_unknown_ids_and_statuses(
    clean_emulator: Emulator, emulator_client: httpx.Client
) -> None:
    gid = created_id(emulator_client)
    with pytest.raises(KeyError):
        clean_emulator.release("missing")
    with pytest.raises(KeyError):
        clean_emulator.hold("missing")
    with pytest.raises(ValueError, match="status must be"):
        clean_emulator.release(gid, "error")
    with pytest.raises(ValueError, match="status must be"):
        clean_emulator.hold(gid, "completed")
    assert set(PENDING_STATUSES) == {"queued", "generating", "waiting", "active", "processing"}


def test_hold_and_release_over_http(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    admin = f"{clean_emulator.base_url}/_emulator"
    assert httpx.post(f"{admin}/config", json={"hold": True}).json()["hold"] is True
    gid = created_id(emulator_client)
    assert poll(emulator_client, gid).json()["status"] == "queued"
    moved = httpx.post(f"{admin}/release", json={"generation_id": gid, "status": "generating"})
    assert moved.json() == {"released": [gid]}
    assert poll(emulator_client, gid).json()["status"] == "generating"
    assert httpx.post(f"{admin}/release", json={}).json() == {"released": [gid]}
    assert poll(emulator_client, gid).json()["status"] == "completed"
    assert httpx.post(f"{admin}/hold", json={"generation_id": gid, "status": "queued"}).json() == {
        "held": [gid]
    }
    assert poll(emulator_client, gid).json()["status"] == "queued"
    assert httpx.post(f"{admin}/release", json={"generation_id": "missing"}).status_code == 404
    for bad in ({"status": "done"}, {"generation_id": 5}, {"other": 1}, ["x"]):
        assert httpx.post(f"{admin}/release", json=bad).status_code == 400
    assert httpx.post(f"{admin}/config", json={"hold": "yes"}).status_code == 400


# --------------------------------------------------------------------------------- poll-counting


def test_polls_to_complete(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(polls_to_complete=3, generation_seconds=0)
    gid = created_id(emulator_client)
    assert clean_emulator.stats()["generations"][gid]["status"] == "queued"
    assert [poll(emulator_client, gid).json()["status"] for _ in range(4)] == [
        "queued",
        "generating",
        "completed",
        "completed",
    ]
    clean_emulator.configure(polls_to_complete=1)
    assert poll(emulator_client, created_id(emulator_client)).json()["status"] == "completed"
    clean_emulator.configure(polls_to_complete=2, hold=True)  # hold wins
    held = created_id(emulator_client)
    assert [poll(emulator_client, held).json()["status"] for _ in range(3)] == ["queued"] * 3
    clean_emulator.release(held)
    assert poll(emulator_client, held).json()["status"] == "completed"


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2"])
def test_bad_polls_to_complete_values_are_refused(clean_emulator: Emulator, value: Any) -> None:
    with pytest.raises(ValueError, match="polls_to_complete"):
        clean_emulator.configure(polls_to_complete=value)


# ------------------------------------------------------------------------------------- waiting


def test_waiting_helpers(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(hold=True)
    with pytest.raises(TimeoutError, match="1 generation"):
        clean_emulator.wait_for_generations(1, timeout=0)
    gid = created_id(emulator_client)
    assert clean_emulator.wait_for_generations(1) == [gid]
    with pytest.raises(TimeoutError, match="poll"):
        clean_emulator.wait_for_polls(gid, 1, timeout=0)
    poll(emulator_client, gid)
    assert clean_emulator.wait_for_polls(gid, 1) == 1
    assert clean_emulator.wait_until(lambda stats: stats["gets"]) == 1
    with pytest.raises(TimeoutError, match="something"):
        clean_emulator.wait_until(lambda stats: None, timeout=0, what="something")


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
            assert "meta" not in resp.json()
            assert resp.headers["x-aimlapi-credits-used"] == "21000"
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
    with pytest.raises(SystemExit):
        build_parser().parse_args(args)


def test_cli_defaults() -> None:
    args = build_parser().parse_args([])
    assert (args.port, args.usage, args.hold, args.polls_to_complete) == (8090, "both", False, None)
    assert build_parser().parse_args(["--usage"]).usage == "both"
