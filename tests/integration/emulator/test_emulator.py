"""The emulator over real HTTP: API contract, audio links, faults, stats and the HTTP layer."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from airflow_provider_music.emulator import Emulator, FaultRule, expected_audio

GEN = "/v2/generate/audio"
ELEVEN = "elevenlabs/eleven_music"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
CONNECTION_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.ConnectError)


def submit(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post(GEN, json={"model": ELEVEN, "prompt": "calm piano", **body})


def created_id(client: httpx.Client, **body: Any) -> str:
    resp = submit(client, **body)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def poll(client: httpx.Client, gid: str) -> httpx.Response:
    return client.get(GEN, params={"generation_id": gid})


def wait_completed(client: httpx.Client, gid: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = poll(client, gid).json()
        if body["status"] == "completed":
            return body
        time.sleep(0.05)
    raise AssertionError(f"{gid} did not complete")


def downloads_completed(emu: Emulator, gid: str, count: int) -> dict[str, Any]:
    """The generation's stats once the server has counted ``count`` completed downloads.

    The server counts a download once its last byte is handed to the socket, which may be just after
    the client has read it: wait for the count, never for a time.
    """
    return emu.wait_until(
        lambda stats: (entry := stats["generations"][gid])["downloads_completed"] >= count and entry,
        what=f"{count} completed download(s) of {gid}",
    )


def assert_error(resp: httpx.Response, code: int, message: str | None = None) -> dict[str, Any]:
    assert resp.status_code == code, resp.text
    body: dict[str, Any] = resp.json()
    assert {"message", "path", "requestId", "statusCode", "timestamp"} <= set(body)
    assert body["statusCode"] == code
    assert body["requestId"] == resp.headers["x-request-id"]
    assert re.fullmatch(UUID, body["requestId"])
    assert datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")).tzinfo is not None
    if message is not None:
        assert body["message"] == message
    return body


# ----------------------------------------------------------------------------------------- API


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "emulator-key"}, {"Authorization": "Basic x"}],
)
def test_auth_required(clean_emulator: Emulator, headers: dict[str, str]) -> None:
    resp = httpx.post(
        f"{clean_emulator.base_url}{GEN}", json={"model": ELEVEN, "prompt": "x"}, headers=headers
    )
    body = assert_error(resp, 401, "A valid API key is required")
    assert body["path"] == GEN
    get = httpx.get(f"{clean_emulator.base_url}{GEN}", params={"generation_id": "x"}, headers=headers)
    assert_error(get, 401)
    stats = clean_emulator.stats()
    assert (stats["posts"], stats["posts_created"], stats["auth_failures"]) == (1, 0, 2)


def test_submit_returns_queued_id_with_model_suffix(emulator_client: httpx.Client) -> None:
    resp = submit(emulator_client, music_length_ms=12_000)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "queued"
    assert set(body) == {"id", "status", "meta"}
    assert re.fullmatch(UUID + ":elevenlabs/eleven_music", body["id"])
    assert re.fullmatch(UUID, resp.headers["x-request-id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": ELEVEN, "prompt": "x" * 2001}, "prompt"),
        ({"model": ELEVEN, "prompt": ""}, "prompt"),
        ({"model": ELEVEN, "prompt": 5}, "prompt"),
        ({"model": ELEVEN}, "prompt"),
        ({"prompt": "x"}, "model"),
        ({"model": "acme/music", "prompt": "x"}, "model"),
        ({"model": ELEVEN, "prompt": "x", "music_length_ms": 9_999}, "music_length_ms"),
        ({"model": ELEVEN, "prompt": "x", "music_length_ms": 300_001}, "music_length_ms"),
        ({"model": ELEVEN, "prompt": "x", "music_length_ms": True}, "music_length_ms"),
        ({"model": ELEVEN, "prompt": "x", "music_length_ms": 10_000.0}, "music_length_ms"),
        ({"model": ELEVEN, "prompt": "x", "music_length_ms": "10000"}, "music_length_ms"),
        ({"model": ELEVEN, "prompt": "x", "seed": 1}, "seed"),
        ({"model": "stable-audio", "prompt": "x", "seconds_total": 48}, "seconds_total"),
        (["not", "an", "object"], "body"),
    ],
)
def test_validation_errors(
    clean_emulator: Emulator, emulator_client: httpx.Client, body: Any, field: str
) -> None:
    resp = emulator_client.post(GEN, json=body)
    err = assert_error(resp, 400)
    assert field in [d["field"] for d in err["details"]]
    assert all(set(d) == {"field", "message"} for d in err["details"])
    assert clean_emulator.stats()["posts_created"] == 0


def test_invalid_json_is_400(emulator_client: httpx.Client) -> None:
    resp = emulator_client.post(GEN, content=b"{nope", headers={"Content-Type": "application/json"})
    assert assert_error(resp, 400)["details"][0]["field"] == "body"


def test_boundaries_accepted(emulator_client: httpx.Client) -> None:
    assert submit(emulator_client, prompt="x" * 2000, music_length_ms=300_000).status_code == 200
    assert submit(emulator_client, music_length_ms=10_000).status_code == 200


def test_other_models_lengths(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    stable = emulator_client.post(
        GEN, json={"model": "stable-audio", "prompt": "x", "seconds_total": 12, "steps": 8}
    )
    lyria = emulator_client.post(
        GEN, json={"model": "google/lyria2", "prompt": "x", "negative_prompt": "y", "seed": 3}
    )
    minimax = emulator_client.post(
        GEN,
        json={
            "model": "minimax/music-2.0",
            "prompt": "upbeat synth pop",
            "lyrics": "[Verse]\nla la la la",
            "audio_setting": {"format": "mp3"},
        },
    )
    gens = clean_emulator.stats()["generations"]
    assert stable.json()["id"].endswith(":stable-audio")
    assert gens[stable.json()["id"]]["music_length_ms"] == 12_000
    assert gens[lyria.json()["id"]]["music_length_ms"] == 30_000  # lyria2 takes no length: 30 s clips
    assert gens[minimax.json()["id"]]["format"] == "mp3"


def test_submit_status(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(submit_status=201)
    resp = submit(emulator_client, music_length_ms=20_000)
    assert resp.status_code == 201
    assert resp.json()["status"] == "queued"


def test_get_errors(emulator_client: httpx.Client) -> None:
    assert_error(emulator_client.get(GEN), 400)
    assert_error(poll(emulator_client, "nope:elevenlabs/eleven_music"), 404, "Generation not found")
    assert_error(emulator_client.get("/v1/other"), 404)


def test_status_progression(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(hold=True)
    gid = created_id(emulator_client)
    assert poll(emulator_client, gid).json() == {"id": gid, "status": "queued"}
    assert clean_emulator.release(gid, "generating") == [gid]
    assert poll(emulator_client, gid).json() == {"id": gid, "status": "generating"}
    assert clean_emulator.release(gid) == [gid]
    done = poll(emulator_client, gid).json()
    assert done["status"] == "completed"
    audio = done["audio_file"]
    name = audio["file_name"]
    assert audio["content_type"] == "audio/wav"
    assert name.endswith(".wav")
    assert audio["file_size"] == expected_audio("wav", 10_000)[0]
    url = urlsplit(audio["url"])
    assert f"{url.scheme}://{url.netloc}" == clean_emulator.audio_base_url != clean_emulator.base_url
    assert url.path == f"/files/{name}"
    query = parse_qs(url.query)
    assert query["expires"][0].isdigit()
    assert re.fullmatch("[0-9a-f]+", query["signature"][0])


def test_zero_generation_seconds_completes_at_once(
    clean_emulator: Emulator, emulator_client: httpx.Client
) -> None:
    clean_emulator.configure(generation_seconds=0)
    assert poll(emulator_client, created_id(emulator_client)).json()["status"] == "completed"


def test_each_get_mints_fresh_url(emulator_client: httpx.Client) -> None:
    gid = created_id(emulator_client)
    first = wait_completed(emulator_client, gid)["audio_file"]["url"]
    second = poll(emulator_client, gid).json()["audio_file"]["url"]
    assert first != second
    assert httpx.get(first).status_code == httpx.get(second).status_code == 200


def test_expired_and_forged_links_are_403(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(url_ttl=0)
    gid = created_id(emulator_client)
    url = wait_completed(emulator_client, gid)["audio_file"]["url"]
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert b"<Error>" in expired.content
    assert b"expired" in expired.content
    clean_emulator.configure(url_ttl=900)
    good = poll(emulator_client, gid).json()["audio_file"]["url"]
    forged = re.sub(r"signature=([0-9a-f])", lambda m: "signature=" + ("1" if m[1] != "1" else "2"), good)
    assert httpx.get(forged).status_code == 403
    assert httpx.get(good.split("?")[0]).status_code == 403
    assert httpx.get(good.replace("/files/", "/files/0")).status_code == 404


@pytest.mark.parametrize(("fmt", "ctype"), [("wav", "audio/wav"), ("mp3", "audio/mpeg")])
def test_download_matches_expected_audio(
    clean_emulator: Emulator, emulator_client: httpx.Client, fmt: str, ctype: str
) -> None:
    clean_emulator.configure(audio_format=fmt)
    gid = created_id(emulator_client, music_length_ms=15_000)
    audio = wait_completed(emulator_client, gid)["audio_file"]
    resp = httpx.get(audio["url"])
    size, sha = expected_audio(fmt, 15_000)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == ctype
    assert int(resp.headers["content-length"]) == len(resp.content) == size == audio["file_size"]
    assert hashlib.sha256(resp.content).hexdigest() == sha
    if fmt == "wav":
        assert resp.content[:4] == b"RIFF"
        assert resp.content[8:12] == b"WAVE"
    else:
        assert resp.content[:2] == b"\xff\xfb"
        assert audio["file_name"].endswith(".mp3")
    head = httpx.head(audio["url"])
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == size
    assert not head.content
    entry = downloads_completed(clean_emulator, gid, 1)
    assert (entry["size_bytes"], entry["sha256"], entry["format"]) == (size, sha, fmt)
    assert (entry["downloads"], entry["downloads_completed"], entry["heads"]) == (1, 1, 1)


def test_update_generation_format(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    gid = created_id(emulator_client)
    clean_emulator.update_generation(gid, audio_format="mp3_id3")
    audio = wait_completed(emulator_client, gid)["audio_file"]
    data = httpx.get(audio["url"]).content
    assert data[:3] == b"ID3"
    assert audio["content_type"] == "audio/mpeg"
    assert (len(data), hashlib.sha256(data).hexdigest()) == expected_audio("mp3_id3", 10_000)


# --------------------------------------------------------------------------------------- faults


def test_post_status_fault_does_not_create(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.add_faults(
        [{"target": "post", "action": "status", "code": 429, "headers": {"Retry-After": "1"}}]
    )
    resp = submit(emulator_client)
    assert_error(resp, 429)
    assert resp.headers["retry-after"] == "1"
    assert submit(emulator_client).status_code == 200  # times defaults to 1
    stats = clean_emulator.stats()
    assert (stats["posts"], stats["posts_created"], stats["faults_applied"]) == (2, 1, 1)


def test_post_ambiguous_5xx_creates(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.add_faults([{"target": "post", "action": "status", "code": 502, "create": True}])
    assert_error(submit(emulator_client, prompt="ambiguous"), 502)
    gens = clean_emulator.stats()["generations"]
    assert [g["prompt"] for g in gens.values()] == ["ambiguous"]


def test_post_403_shapes(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.add_faults(
        [
            {"target": "post", "action": "status", "code": 403},
            {"target": "post", "action": "status", "code": 403, "shape": "title"},
            {"target": "post", "action": "status", "code": 500, "body": "oops"},
        ]
    )
    assert_error(submit(emulator_client), 403, "Insufficient credits")
    titled = submit(emulator_client)
    assert titled.status_code == 403
    assert titled.json() == {"title": "Forbidden", "status": 403, "message": "Insufficient credits"}
    raw = submit(emulator_client)
    assert raw.status_code == 500
    assert raw.text == "oops"


def test_post_reset_html_bad_json(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.add_faults(
        [
            {"target": "post", "action": "reset"},
            {"target": "post", "action": "html"},
            {"target": "post", "action": "bad_json"},
            {"target": "post", "action": "bad_json", "body": {"unexpected": True}},
        ]
    )
    with pytest.raises(CONNECTION_ERRORS):
        submit(emulator_client)
    html = submit(emulator_client)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "Bad Gateway" in html.text
    bad = submit(emulator_client)
    assert bad.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        bad.json()
    assert submit(emulator_client).json() == {"unexpected": True}
    assert clean_emulator.stats()["posts_created"] == 0


def test_post_delay_creates_then_times_out(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    # The answer comes after 30 s; the client gives up reading after 1 s (connecting may take longer).
    clean_emulator.add_faults([{"target": "post", "action": "delay", "seconds": 30}])
    with pytest.raises(httpx.ReadTimeout):
        emulator_client.post(GEN, json={"model": ELEVEN, "prompt": "slow"}, timeout=httpx.Timeout(30, read=1))
    assert clean_emulator.stats()["posts_created"] == 1


def test_get_http_faults_and_times(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    gid = created_id(emulator_client)
    clean_emulator.add_faults(
        [
            {"target": "get", "action": "status", "code": 503, "times": 2},
            {"target": "get", "action": "reset"},
            {"target": "get", "action": "delay", "seconds": 0.3},
        ]
    )
    assert_error(poll(emulator_client, gid), 503)
    assert_error(poll(emulator_client, gid), 503)
    with pytest.raises(CONNECTION_ERRORS):
        poll(emulator_client, gid)
    started = time.monotonic()
    assert poll(emulator_client, gid).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert clean_emulator.faults() == []


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"detail": [{"loc": ["body", "prompt"], "msg": "bad prompt", "type": "value_error"}]},
        "plain failure",
    ],
)
def test_generation_error(clean_emulator: Emulator, emulator_client: httpx.Client, payload: Any) -> None:
    gid = created_id(emulator_client)
    rule: dict[str, Any] = {"target": "get", "action": "generation_error"}
    if payload is not None:
        rule["payload"] = payload
    clean_emulator.add_faults([rule])
    body = poll(emulator_client, gid).json()
    assert body["id"] == gid
    assert body["status"] == "error"
    expected = payload or {"name": "GenerationError", "message": "The model failed to generate audio"}
    assert body["error"] == expected


def test_state_faults(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(generation_seconds=0)
    gid = created_id(emulator_client)
    clean_emulator.add_faults(
        [
            {"target": "get", "action": "unknown_status"},
            {"target": "get", "action": "unknown_status", "status": "failed"},
            {"target": "get", "action": "no_audio_url"},
            {"target": "get", "action": "waiting", "times": 2},
            {"target": "get", "action": "never_complete", "times": -1},
        ]
    )
    assert poll(emulator_client, gid).json() == {"id": gid, "status": "mystery"}
    assert poll(emulator_client, gid).json()["status"] == "failed"
    assert poll(emulator_client, gid).json() == {"id": gid, "status": "completed"}
    assert [poll(emulator_client, gid).json()["status"] for _ in range(2)] == ["active", "active"]
    assert {poll(emulator_client, gid).json()["status"] for _ in range(5)} == {"generating"}
    assert len(clean_emulator.faults()) == 1
    assert clean_emulator.faults()[0]["times"] == -1
    clean_emulator.clear_faults()
    assert poll(emulator_client, gid).json()["status"] == "completed"


def test_state_fault_not_consumed_by_unknown_id(
    clean_emulator: Emulator, emulator_client: httpx.Client
) -> None:
    clean_emulator.add_faults([{"target": "get", "action": "generation_error"}])
    assert_error(poll(emulator_client, "missing"), 404)
    assert poll(emulator_client, created_id(emulator_client)).json()["status"] == "error"


def test_match_faults_one_generation(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    clean_emulator.configure(generation_seconds=0)
    victim = created_id(emulator_client, prompt="victim track")
    other = created_id(emulator_client, prompt="other track")
    clean_emulator.add_faults([{"target": "get", "action": "never_complete", "times": -1, "match": "victim"}])
    assert poll(emulator_client, victim).json()["status"] == "generating"
    assert poll(emulator_client, other).json()["status"] == "completed"
    clean_emulator.add_faults(
        [{"target": "get", "action": "status", "code": 500, "match": other.split(":")[0]}]
    )
    assert_error(poll(emulator_client, other), 500)
    clean_emulator.add_faults([{"target": "post", "action": "status", "code": 503, "match": "flaky"}])
    assert submit(emulator_client, prompt="fine").status_code == 200
    assert_error(submit(emulator_client, prompt="flaky one"), 503)


def read_raw_into(resp: httpx.Response, chunks: list[bytes]) -> None:
    """Append each raw chunk of ``resp`` as it arrives (so what came before an error is kept)."""
    for chunk in resp.iter_raw():
        chunks.append(chunk)


def completed_url(emu: Emulator, client: httpx.Client, prompt: str = "calm piano") -> tuple[str, str, int]:
    emu.configure(generation_seconds=0)
    gid = created_id(client, prompt=prompt)
    audio = poll(client, gid).json()["audio_file"]
    return gid, audio["url"], audio["file_size"]


def test_audio_truncate(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    gid, url, size = completed_url(clean_emulator, emulator_client)
    clean_emulator.add_faults(
        [{"target": "audio", "action": "truncate"}, {"target": "audio", "action": "truncate", "bytes": 10}]
    )
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url)
    received = 0
    with httpx.stream("GET", url) as resp:
        for chunk in resp.iter_bytes():
            received += len(chunk)
    assert received == size
    entry = downloads_completed(clean_emulator, gid, 1)
    assert (entry["downloads"], entry["downloads_completed"]) == (3, 1)


def test_audio_error_bodies(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    _, url, _ = completed_url(clean_emulator, emulator_client)
    clean_emulator.add_faults(
        [
            {"target": "audio", "action": "html"},
            {"target": "audio", "action": "json"},
            {"target": "audio", "action": "expired"},
            {"target": "audio", "action": "expired", "code": 410},
            {"target": "audio", "action": "status", "code": 503, "headers": {"Retry-After": "2"}},
            {"target": "audio", "action": "reset"},
        ]
    )
    html = httpx.get(url)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    js = httpx.get(url)
    assert js.status_code == 200
    assert "error" in js.json()
    assert httpx.get(url).status_code == 403
    assert httpx.get(url).status_code == 410
    unavailable = httpx.get(url)
    assert unavailable.status_code == 503
    assert unavailable.headers["retry-after"] == "2"
    with pytest.raises(CONNECTION_ERRORS):
        httpx.get(url)
    assert httpx.get(url).status_code == 200


def test_audio_slow_and_oversize(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    _, url, size = completed_url(clean_emulator, emulator_client)
    clean_emulator.add_faults(
        [
            {"target": "audio", "action": "slow", "seconds": 0.02, "chunk_size": 200_000},
            {"target": "audio", "action": "oversize", "extra_bytes": 1000},
        ]
    )
    started = time.monotonic()
    slow = httpx.get(url)
    assert len(slow.content) == size
    assert time.monotonic() - started >= 0.1
    assert hashlib.sha256(slow.content).hexdigest() == expected_audio("wav", 10_000)[1]
    big = httpx.get(url)
    assert "content-length" not in big.headers
    assert len(big.content) == size + 1000


def test_audio_stall_sends_exactly_the_bytes_then_holds(
    clean_emulator: Emulator, emulator_client: httpx.Client
) -> None:
    gid, url, size = completed_url(clean_emulator, emulator_client)
    clean_emulator.add_faults([{"target": "audio", "action": "stall", "bytes": 100_000, "seconds": 60}])
    chunks: list[bytes] = []
    # The stall lasts a minute; the client gives up reading after 2 s without data.
    with httpx.stream("GET", url, timeout=httpx.Timeout(30, read=2)) as resp:
        assert int(resp.headers["content-length"]) == size
        with pytest.raises(httpx.ReadTimeout):
            read_raw_into(resp, chunks)
    assert sum(map(len, chunks)) == 100_000
    clean_emulator.add_faults([{"target": "audio", "action": "stall", "bytes": 0, "seconds": 0}])
    whole = httpx.get(url)  # a stall of no time: the whole file, byte for byte
    assert hashlib.sha256(whole.content).hexdigest() == expected_audio("wav", 10_000)[1]
    assert downloads_completed(clean_emulator, gid, 1)["downloads"] == 2


def test_invalid_fault_rules(clean_emulator: Emulator) -> None:
    for rule, message in (
        ({"target": "audio", "action": "generation_error"}, "unknown action 'generation_error'"),
        ({"target": "post", "action": "nope"}, "unknown action 'nope'"),
        ({"target": "get", "action": "status", "cde": 500}, r"unknown parameter\(s\) cde"),
        ({"target": "get", "action": "status", "times": 0}, "times must be a positive integer"),
        ({"target": "audio", "action": "stall", "bytes": -1}, "bytes must be a non-negative integer"),
        ({"target": "audio", "action": "stall", "seconds": "long"}, "seconds must be a non-negative number"),
        ({"target": "sideways", "action": "status"}, "fault target must be one of"),
    ):
        resp = httpx.post(f"{clean_emulator.base_url}/_emulator/faults", json={"faults": [rule]})
        assert_error(resp, 400)
        with pytest.raises(ValueError, match=message):
            clean_emulator.add_faults([rule])
    assert clean_emulator.faults() == []
    assert FaultRule.from_dict({"target": "get", "action": "delay", "seconds": 1}).params == {"seconds": 1}


# ---------------------------------------------------------------------------------------- admin


def test_admin_api(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    admin = f"{clean_emulator.base_url}/_emulator"
    cfg = httpx.post(f"{admin}/config", json={"generation_seconds": 0, "audio_format": "mp3"}).json()
    assert cfg["generation_seconds"] == 0
    assert cfg["audio_format"] == "mp3"
    assert_error(httpx.post(f"{admin}/config", json={"bogus": 1}), 400)
    added = httpx.post(
        f"{admin}/faults", json={"faults": [{"target": "get", "action": "waiting", "times": -1}]}
    )
    assert added.json()["faults"] == [{"target": "get", "action": "waiting", "times": -1}]
    gid = created_id(emulator_client)
    assert poll(emulator_client, gid).json()["status"] == "active"
    assert httpx.delete(f"{admin}/faults").json() == {"faults": []}
    assert poll(emulator_client, gid).json()["audio_file"]["file_name"].endswith(".mp3")
    quoted = httpx.get(f"{admin}/generations/{gid.replace('/', '%2F')}").json()
    assert quoted["format"] == "mp3"
    assert quoted["gets"] == 2
    stats = httpx.get(f"{admin}/stats").json()
    assert (stats["posts"], stats["posts_created"], stats["gets"]) == (1, 1, 2)
    assert httpx.post(f"{admin}/reset").status_code == 200
    assert clean_emulator.stats()["generations"] == {}
    assert httpx.get(f"{admin}/health").json() == {"ok": True}


def test_stats_counters(clean_emulator: Emulator, emulator_client: httpx.Client) -> None:
    gid = created_id(emulator_client, prompt="counted", music_length_ms=11_000)
    submit(emulator_client, prompt="")
    audio = wait_completed(emulator_client, gid)["audio_file"]
    httpx.get(audio["url"])
    downloads_completed(clean_emulator, gid, 1)
    stats = clean_emulator.stats()
    assert stats["posts"] == 2
    assert stats["posts_created"] == 1
    assert stats["gets"] >= 1
    assert stats["downloads"] == stats["downloads_completed"] == 1
    entry = stats["generations"][gid]
    assert entry["model"] == ELEVEN
    assert entry["prompt"] == "counted"
    assert entry["music_length_ms"] == 11_000
    assert entry["status"] == "completed"
    assert entry["gets"] == stats["gets"]
    assert datetime.fromisoformat(entry["created_at"].replace("Z", "+00:00"))


# ------------------------------------------------------------------------------------ HTTP layer


def raw_exchange(sock: socket.socket, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one request and read exactly one response (Content-Length framed)."""
    sock.sendall(request)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), headers, rest


def test_keep_alive_many_requests_one_connection(clean_emulator: Emulator) -> None:
    body = json.dumps({"model": ELEVEN, "prompt": "x"}).encode()
    post = (
        f"POST {GEN} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {clean_emulator.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection((clean_emulator.host, clean_emulator.port), timeout=5) as sock:
        ids = []
        for _ in range(3):
            status, headers, payload = raw_exchange(sock, post)
            assert status == 200
            assert headers["connection"] == "keep-alive"
            ids.append(json.loads(payload)["id"])
        auth = f"Authorization: Bearer {clean_emulator.api_key}\r\n"
        get = f"GET {GEN}?generation_id={ids[0]} HTTP/1.1\r\nHost: x\r\n{auth}"
        status, headers, _ = raw_exchange(sock, (get + "Connection: close\r\n\r\n").encode())
        assert status == 200
        assert headers["connection"] == "close"
        assert sock.recv(10) == b""
    assert len(set(ids)) == 3


def test_chunked_body_and_expect_continue(clean_emulator: Emulator) -> None:
    body = json.dumps({"model": ELEVEN, "prompt": "chunked"}).encode()
    head = f"POST {GEN} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {clean_emulator.api_key}\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n"
    request = head.encode() + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    with socket.create_connection((clean_emulator.host, clean_emulator.port), timeout=5) as sock:
        status, _, payload = raw_exchange(sock, request)
    assert status == 200
    assert json.loads(payload)["status"] == "queued"
    expecting = httpx.post(
        f"{clean_emulator.base_url}{GEN}",
        content=json.dumps({"model": ELEVEN, "prompt": "e" * 3000}).encode(),
        headers={"Authorization": f"Bearer {clean_emulator.api_key}", "Expect": "100-continue"},
    )
    assert expecting.status_code == 400  # the body was read (prompt too long), not stuck waiting


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /x HTTP/1.1 extra\r\n\r\n",
        b"GET /x HTTP/9\r\n\r\n",
        b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ],
)
@pytest.mark.parametrize("port_attr", ["port", "audio_port"])
def test_malformed_requests_get_400(clean_emulator: Emulator, request_bytes: bytes, port_attr: str) -> None:
    with socket.create_connection(
        (clean_emulator.host, getattr(clean_emulator, port_attr)), timeout=5
    ) as sock:
        status, headers, _ = raw_exchange(sock, request_bytes)
        assert status == 400
        assert headers["connection"] == "close"
        assert sock.recv(10) == b""


def test_http10_closes_by_default(clean_emulator: Emulator) -> None:
    with socket.create_connection((clean_emulator.host, clean_emulator.port), timeout=5) as sock:
        status, headers, _ = raw_exchange(sock, b"GET /_emulator/health HTTP/1.0\r\n\r\n")
        assert status == 200
        assert headers["connection"] == "close"


def test_request_log_has_no_secrets(
    clean_emulator: Emulator, emulator_client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="airflow_provider_music.emulator")
    clean_emulator.configure(generation_seconds=0)
    url = poll(emulator_client, created_id(emulator_client)).json()["audio_file"]["url"]
    httpx.get(url)
    text = caplog.text
    assert "POST /v2/generate/audio -> 200" in text
    assert "/files/" in text
    assert clean_emulator.api_key not in text
    assert "signature" not in text
    assert "generation_id" not in text
