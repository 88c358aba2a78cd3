"""
The listening page (``airflow_provider_music.ui``) in a real ``airflow api-server``, loaded as the
provider's plugin from its entry point, and in headless Chromium.

One module-scoped api-server (an auth manager that says no to one user for the DAG, see
``_restricted_auth``) and one ``airflow dags test`` run against the emulator: an unmapped task that
stores a 60 s WAV, a mapped one with two map indexes, and a task whose manifest the tests tamper
with directly in the metadata database (a user allowed to edit XComs could do the same). The HTTP
tests prove the access checks (401, 403), the Range answers byte for byte, and that nothing but the
recorded objects can be read; the browser tests log in, open the task instance, open the "Listen"
tab and check the player, a seek's Range request, the waveform and the manifest; screenshots go to
the test's tmp path (printed) and ``test-artifacts/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from ui._airflow_ui import (
    GOOD_KEY,
    PASSWORD,
    REPO,
    USERNAME,
    ApiServer,
    start_browser,
    stop_browser,
)

from airflow_provider_music.emulator import Emulator
from airflow_provider_music.integration import LISTEN_URL_PREFIX, listen_path

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.ui

DAG_ID = "listen_music"
OUTSIDER = "outsider"  # a viewer whom the auth manager refuses DAG_ID (tests/ui/_restricted_auth.py)
SECONDS = 60  # long enough that Chromium does not fetch the whole WAV before a seek
OUTSIDER_PASSWORD = "ui-outsider-password-0123456789"
ARTIFACTS = REPO / "test-artifacts"
WAIT = 90
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

DAG_FILE = """
from datetime import datetime, timedelta
from airflow.sdk import DAG
from airflow_provider_music.operators.music import GenerateMusicOperator

OUT = {out!r}


def fail_first_try(context, result):
    if context["ti"].try_number == 1:
        raise RuntimeError("the first try fails after storing its track")

with DAG(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    GenerateMusicOperator(
        task_id="generate",
        prompt="Calm piano under soft rain, for the listening page",
        music_length_ms={ms},
        destination=OUT + "/generate/",
        poll_interval=0.2,
        quality={{"length_tolerance": 0.1, "max_true_peak_dbtp": 0.5}},
        waveform=True,
    )
    GenerateMusicOperator.partial(
        task_id="generate_mapped", music_length_ms=10_000, destination=OUT + "/mapped/", poll_interval=0.2
    ).expand(prompt=["Mapped track one", "Mapped track two"])
    GenerateMusicOperator(
        task_id="retried",
        prompt="A track stored by the second try",
        music_length_ms=10_000,
        destination=OUT + "/retried/",
        poll_interval=0.2,
        retries=1,
        retry_delay=timedelta(seconds=0),
        post_execute=fail_first_try,
    )
    GenerateMusicOperator(
        task_id="tampered",
        prompt="A track whose manifest the test rewrites",
        music_length_ms=10_000,
        destination=OUT + "/tampered/",
        poll_interval=0.2,
    )
"""


# ------------------------------------------------------------------------------------------ helpers


class Http:
    """GET/HEAD against the api-server with a bearer token, a session cookie, or nothing."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server

    def token(self, username: str, password: str) -> str:
        data = json.dumps({"username": username, "password": password}).encode()
        request = urllib.request.Request(
            self.server.base_url + "/auth/token",
            data=data,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with _OPENER.open(request, timeout=60) as response:
            return str(json.loads(response.read())["access_token"])

    def get(
        self, path: str, token: str | None = None, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, dict[str, str], bytes]:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.server.base_url + path, headers=all_headers, method=method)
        try:
            with _OPENER.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()


def _db(server: ApiServer) -> sqlite3.Connection:
    return sqlite3.connect(server.home / "airflow.db")


def read_xcom(server: ApiServer, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
    with closing(_db(server)) as conn:
        (value,) = conn.execute(
            "SELECT value FROM xcom WHERE dag_id=? AND task_id=? AND map_index=? AND key=?",
            (DAG_ID, task_id, map_index, key),
        ).fetchone()
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def write_xcom(
    server: ApiServer, task_id: str, value: Any, map_index: int = -1, key: str = "return_value"
) -> None:
    """Rewrite (or add) a manifest XCom, as a user allowed to edit XComs could."""
    with closing(_db(server)) as conn:
        updated = conn.execute(
            "UPDATE xcom SET value=? WHERE dag_id=? AND task_id=? AND map_index=? AND key=?",
            (json.dumps(value), DAG_ID, task_id, map_index, key),
        ).rowcount
        if not updated:
            row = conn.execute(
                "SELECT dag_run_id, run_id, timestamp FROM xcom WHERE dag_id=? AND task_id=? AND map_index=?",
                (DAG_ID, task_id, map_index),
            ).fetchone()
            conn.execute(
                "INSERT INTO xcom (dag_run_id, task_id, map_index, key, dag_id, run_id, value, timestamp)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row[0], task_id, map_index, key, DAG_ID, row[1], json.dumps(value), row[2]),
            )
        conn.commit()


def _file_of(uri: str) -> Path:
    assert uri.startswith("file://"), uri
    return Path(uri[len("file://") :])


# ----------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def listen_server(browser: WebDriver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """An api-server with the plugin (from the installed entry point) and an admin plus an outsider."""
    server = ApiServer(tmp_path_factory.mktemp("listen-ui"))
    (server.home / "simple_auth_manager_passwords.json.generated").write_text(
        json.dumps({USERNAME: PASSWORD, OUTSIDER: OUTSIDER_PASSWORD}) + "\n"
    )
    server.env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
            "AIRFLOW__CORE__AUTH_MANAGER": "ui._restricted_auth.RestrictedAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin,{OUTSIDER}:viewer",
            "RESTRICTED_AUTH_USER": OUTSIDER,
            "RESTRICTED_AUTH_DAGS": DAG_ID,
        }
    )
    out = server.root / "tracks"
    out.mkdir()
    (server.root / "dags" / "listen_music.py").write_text(
        DAG_FILE.format(out=f"file://{out}", dag_id=DAG_ID, ms=SECONDS * 1000)
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stored_run(listen_server: ApiServer) -> dict[str, Any]:
    """One ``airflow dags test`` run of the DAG against the emulator; the run id and the manifests."""
    with Emulator(api_key=GOOD_KEY, generation_seconds=0.2, audio_character="music") as emulator:
        env = {
            **listen_server.env,
            "AIRFLOW_CONN_AIMLAPI_DEFAULT": json.dumps(
                {"conn_type": "aimlapi", "password": GOOD_KEY, "host": emulator.base_url}
            ),
        }
        result = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, "2026-01-02"],
            cwd=listen_server.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    with closing(_db(listen_server)) as conn:
        (run_id,) = conn.execute("SELECT run_id FROM dag_run WHERE dag_id=?", (DAG_ID,)).fetchone()
    manifest = read_xcom(listen_server, "generate")
    track = _file_of(manifest["uri"])
    # The analysis, the quality verdict and the waveform are the operator's own (the audio extra).
    assert manifest["quality"]["passed"] is True
    png = _file_of(manifest["waveform"]["png_uri"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return {"run_id": run_id, "manifest": manifest, "track": track, "png": png}


@pytest.fixture(scope="module")
def http(listen_server: ApiServer) -> Http:
    return Http(listen_server)


@pytest.fixture(scope="module")
def tokens(http: Http) -> dict[str, str]:
    return {"admin": http.token(USERNAME, PASSWORD), "outsider": http.token(OUTSIDER, OUTSIDER_PASSWORD)}


def _loudness_text(manifest: dict[str, Any]) -> str:
    return f"{manifest['analysis']['integrated_loudness_lufs']:.1f} LUFS"


def _peak_text(manifest: dict[str, Any]) -> str:
    return f"{manifest['analysis']['true_peak_dbtp']:.2f} dBTP"


def _page(run_id: str, task_id: str = "generate", map_index: int | None = None) -> str:
    return listen_path(DAG_ID, run_id, task_id, map_index=map_index)


def _object(
    run_id: str, task_id: str = "generate", map_index: int = -1, key: str = "return_value", oid: str = "track"
) -> str:
    base = _page(run_id, task_id).split("?")[0]
    return f"{base}/{map_index}/{key}/{oid}"


# -------------------------------------------------------------------------------- HTTP: access checks


def test_without_a_session_or_token_nothing_is_served(http: Http, stored_run: dict[str, Any]) -> None:
    run_id = stored_run["run_id"]
    for path in (_page(run_id), _object(run_id), _object(run_id, oid="waveform")):
        status, _, body = http.get(path)
        assert status == 401, (path, status, body[:200])
        assert b"RIFF" not in body
    status, _, _ = http.get(_object(run_id), token="not-a-jwt")
    assert status in (401, 403)


def test_a_user_the_auth_manager_refuses_gets_403(
    http: Http, stored_run: dict[str, Any], tokens: dict[str, str]
) -> None:
    run_id = stored_run["run_id"]
    for path in (_page(run_id), _object(run_id), _object(run_id, oid="waveform")):
        status, _, body = http.get(path, tokens["outsider"])
        assert status == 403, (path, status, body[:200])
        assert b"RIFF" not in body
        assert b"PNG" not in body
    # The same user may read what the auth manager allows: the refusal is the auth manager's.
    status, _, _ = http.get("/api/v2/monitor/health", tokens["outsider"])
    assert status == 200


def test_the_page_shows_the_manifest(http: Http, stored_run: dict[str, Any], tokens: dict[str, str]) -> None:
    status, headers, body = http.get(_page(stored_run["run_id"]), tokens["admin"])
    assert status == 200, body[:500]
    assert headers["content-type"].startswith("text/html")
    html = body.decode()
    manifest = stored_run["manifest"]
    for text in (
        "<audio controls",
        "Calm piano under soft rain",
        manifest["generation_id"],
        manifest["model"] if manifest.get("model") else "",
        _loudness_text(manifest),
        _peak_text(manifest),
        "60.00 s",
        manifest["uri"],
        'class="waveform"',
        "passed",
    ):
        assert text in html, text
    # Objects are addressed by ids only, relative to the page.
    assert 'src="./generate/-1/return_value/track"' in html
    assert "file://" not in html.split("<table")[0]


def test_mapped_task_shows_each_map_index(
    http: Http, stored_run: dict[str, Any], tokens: dict[str, str]
) -> None:
    status, _, body = http.get(
        f"{_page(stored_run['run_id'], 'generate_mapped').split('?')[0]}?map_index=%7BMAP_INDEX%7D",
        tokens["admin"],
    )
    assert status == 200
    html = body.decode()
    assert "Map index 0" in html
    assert "Map index 1" in html
    assert "Mapped track one" in html
    assert "Mapped track two" in html
    status, _, body = http.get(_page(stored_run["run_id"], "generate_mapped", map_index=1), tokens["admin"])
    assert status == 200
    assert "Mapped track two" in body.decode()
    assert "Mapped track one" not in body.decode()
    status, _headers, body = http.get(
        _object(stored_run["run_id"], "generate_mapped", map_index=1), tokens["admin"], {"Range": "bytes=0-3"}
    )
    assert (status, body) == (206, b"RIFF")


# ---------------------------------------------------------------------------------- HTTP: ranges


def test_range_answers_are_exact(http: Http, stored_run: dict[str, Any], tokens: dict[str, str]) -> None:
    data = stored_run["track"].read_bytes()
    size = len(data)
    path = _object(stored_run["run_id"])
    token = tokens["admin"]

    status, headers, body = http.get(path, token)
    assert status == 200
    assert headers["accept-ranges"] == "bytes"
    assert headers["content-type"] == "audio/wav"
    assert int(headers["content-length"]) == size
    assert hashlib.sha256(body).hexdigest() == stored_run["manifest"]["sha256"]

    cases = {
        "bytes=0-0": (0, 0),
        "bytes=100-199": (100, 199),
        f"bytes={size - 10}-": (size - 10, size - 1),
        "bytes=-50": (size - 50, size - 1),
        f"bytes=1000-{size + 5000}": (1000, size - 1),
        f"bytes={size // 2}-{size // 2 + 700_000}": (size // 2, size // 2 + 700_000),  # several chunks
    }
    for header, (start, end) in cases.items():
        status, headers, body = http.get(path, token, {"Range": header})
        assert status == 206, header
        assert headers["content-range"] == f"bytes {start}-{end}/{size}", header
        assert int(headers["content-length"]) == end - start + 1 == len(body), header
        assert body == data[start : end + 1], header
        assert headers["content-type"] == "audio/wav"

    status, headers, body = http.get(path, token, {"Range": f"bytes={size}-"})
    assert status == 416
    assert headers["content-range"] == f"bytes */{size}"
    assert body == b""

    # HEAD: the headers of a GET, no body.
    status, headers, body = http.get(path, token, {"Range": "bytes=10-19"}, method="HEAD")
    assert (status, headers["content-range"], body) == (206, f"bytes 10-19/{size}", b"")

    status, headers, body = http.get(_object(stored_run["run_id"], oid="waveform"), token)
    assert status == 200
    assert headers["content-type"] == "image/png"
    assert body == stored_run["png"].read_bytes()


# ------------------------------------------------------------------- HTTP: only the recorded objects


def test_path_traversal_and_unknown_ids_are_refused(
    http: Http, stored_run: dict[str, Any], tokens: dict[str, str]
) -> None:
    run_id = stored_run["run_id"]
    token = tokens["admin"]
    base = _page(run_id).split("?")[0]
    quoted_run = urllib.parse.quote(run_id, safe="")
    attempts = [
        f"{base}/-1/return_value/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        f"{base}/-1/return_value/%2E%2E",
        f"{base}/-1/return_value/track%2F..%2F..%2Fsidecar",
        f"{base}/-1/..%2Freturn_value/track",
        f"{base}/-1/rejected/track",  # no such manifest
        f"{base}/-1/other_key/track",
        f"{base}/-1/return_value/attempt-0",  # no attempts recorded
        f"{base}/-1/return_value/attempt-9999",
        f"{base}/-1/return_value/uri",
        f"{base}/-1/return_value/track?uri=file:///etc/passwd&path=/etc/passwd",
        f"{base}/0/return_value/track",  # map index 0 of an unmapped task
        f"{LISTEN_URL_PREFIX}/listen/{DAG_ID}/{quoted_run}/..%2Fgenerate/-1/return_value/track",
        f"{LISTEN_URL_PREFIX}/listen/{DAG_ID}/{quoted_run}/generate/-1/return_value/..%2F..%2F..%2Fetc%2Fpasswd",
        f"{LISTEN_URL_PREFIX}/listen/{DAG_ID}/{quoted_run}/generate/-1/return_value/file:%2F%2F%2Fetc%2Fpasswd",
        f"{LISTEN_URL_PREFIX}/listen/{DAG_ID}/{quoted_run}/generate/-1/return_value/s3:%2F%2Fbucket%2Fkey",
    ]
    served = stored_run["track"].read_bytes()
    for path in attempts:
        status, _, body = http.get(path, token)
        if path.endswith("track?uri=file:///etc/passwd&path=/etc/passwd"):
            # The query is ignored: still the recorded track, never the named file.
            assert status == 200, path
            assert body == served, path
            continue
        assert status in (404, 422), (path, status, body[:200])
        assert b"root:" not in body, path
        assert not body.startswith(b"RIFF"), path


def test_a_tampered_manifest_cannot_read_other_files(
    http: Http, listen_server: ApiServer, stored_run: dict[str, Any], tokens: dict[str, str]
) -> None:
    """A manifest rewritten by someone allowed to edit XComs still cannot reach other files."""
    token = tokens["admin"]
    original = read_xcom(listen_server, "tampered")
    track = _file_of(original["uri"])
    secret = listen_server.root / "secret.txt"
    secret.write_text("root:x:0:0:the secret of this test\n")
    other_audio = listen_server.root / "not-recorded.wav"
    shutil.copy(track, other_audio)
    injected = [
        f"file://{secret}",
        "file:///etc/passwd",
        f"file://{track.parent}/../../secret.txt",
        f"file://{track.parent}/./{track.name}",
        f"file://localhost{track}",
        f"file://{track}?x=1",
        f"file://{track}#x",
        "s3://user:pass@bucket/key.wav",
        "s3://aws_default@bucket/key.wav",
        "http://127.0.0.1:1/track.wav",
        "https://cdn.example/signed.wav?X-Amz-Signature=abc",
        f"file://{track.parent}/%2e%2e/secret.txt",
        f"{track}",
        f"file://{other_audio}",  # audio, but not of the recorded size
        "",
        None,
        ["file:///etc/passwd"],
    ]
    try:
        for uri in injected:
            manifest = {**original, "uri": uri, "size_bytes": original["size_bytes"]}
            write_xcom(listen_server, "tampered", manifest)
            status, _, body = http.get(_object(stored_run["run_id"], "tampered"), token)
            if uri == f"file://{other_audio}":
                # Same bytes as the recorded track: this one is served (audio of the recorded size);
                # the point of the check below is that a non-audio file never is.
                assert status == 200, (uri, status)
                continue
            assert status == 404, (uri, status, body[:200])
            assert b"secret" not in body, uri
            assert b"root:" not in body, uri
        # A text file of exactly the recorded size is still refused: it is not audio.
        secret.write_bytes(b"root:" + b"x" * (original["size_bytes"] - 5))
        write_xcom(listen_server, "tampered", {**original, "uri": f"file://{secret}"})
        status, _, body = http.get(_object(stored_run["run_id"], "tampered"), token)
        assert status == 404
        assert b"root:" not in body
        # A waveform must be a PNG.
        write_xcom(listen_server, "tampered", {**original, "waveform": {"png_uri": f"file://{secret}"}})
        status, _, body = http.get(_object(stored_run["run_id"], "tampered", oid="waveform"), token)
        assert status == 404
        assert b"root:" not in body
    finally:
        write_xcom(listen_server, "tampered", original)
    status, _, _ = http.get(_object(stored_run["run_id"], "tampered"), token, {"Range": "bytes=0-3"})
    assert status == 206


def test_rejected_and_mastered_tracks_show(
    http: Http, listen_server: ApiServer, stored_run: dict[str, Any], tokens: dict[str, str]
) -> None:
    original = read_xcom(listen_server, "tampered")
    uri = original["uri"]
    rejected = {
        **original,
        "rejected": True,
        "intended_uri": uri.replace("/tampered/", "/final/"),
        "quality": {
            "passed": False,
            "failures": [
                {
                    "rule": "max_true_peak_dbtp",
                    "measured": 0.4,
                    "limit": -1.0,
                    "message": "true peak 0.4 dBTP > -1.0",
                }
            ],
        },
    }
    mastered = {
        "uri": uri,
        "size_bytes": original["size_bytes"],
        "source": {"uri": uri, "sha256": original["sha256"], "size_bytes": original["size_bytes"]},
        "mastering": {"target_lufs": -14.0, "true_peak_limit_dbtp": -1.0},
        "analysis": {"integrated_loudness_lufs": -14.0, "true_peak_dbtp": -1.0, "duration_seconds": 10.0},
    }
    try:
        write_xcom(listen_server, "tampered", mastered)
        write_xcom(listen_server, "tampered", rejected, key="rejected")
        status, _, body = http.get(_page(stored_run["run_id"], "tampered"), tokens["admin"])
        html = body.decode()
        assert status == 200
        assert "Mastered track" in html
        assert "Before mastering" in html
        assert "target_lufs: -14.0" in html
        assert "Rejected track" in html
        assert "true peak 0.4 dBTP &gt; -1.0" in html
        for oid, key in (("source", "return_value"), ("track", "rejected")):
            status, _, body = http.get(
                _object(stored_run["run_id"], "tampered", key=key, oid=oid),
                tokens["admin"],
                {"Range": "bytes=0-3"},
            )
            assert (status, body) == (206, b"RIFF"), (oid, key)
    finally:
        write_xcom(listen_server, "tampered", original)
        with closing(_db(listen_server)) as conn:
            conn.execute(
                "DELETE FROM xcom WHERE dag_id=? AND task_id='tampered' AND key='rejected'", (DAG_ID,)
            )
            conn.commit()


def test_extra_links_point_at_the_page(
    http: Http, stored_run: dict[str, Any], tokens: dict[str, str], listen_server: ApiServer
) -> None:
    run_id = urllib.parse.quote(stored_run["run_id"], safe="")
    status, body = listen_server.api(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/generate/links"
    )
    assert status == 200, body
    links = body.get("extra_links", body)
    assert links["S3 console"] in (None, ""), body  # stored on a local disk
    listen = links["Listen"]
    assert listen.startswith(listen_server.base_url + LISTEN_URL_PREFIX + "/listen/"), listen
    assert "try_number=1" in listen
    status, _, page = http.get(listen[len(listen_server.base_url) :], tokens["admin"])
    assert status == 200
    assert b"<audio" in page


def test_links_and_page_follow_the_latest_try(
    http: Http, stored_run: dict[str, Any], tokens: dict[str, str], listen_server: ApiServer
) -> None:
    """The first try stored a track and failed; the links and the page are the second try's."""
    run_id = urllib.parse.quote(stored_run["run_id"], safe="")
    status, body = listen_server.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/retried")
    assert status == 200, body
    assert (body["state"], body["try_number"]) == ("success", 2), body
    status, body = listen_server.api(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/retried/links"
    )
    assert status == 200, body
    listen = body.get("extra_links", body)["Listen"]
    assert "try_number=2" in listen, listen
    status, _, page = http.get(listen[len(listen_server.base_url) :], tokens["admin"])
    assert status == 200
    html = page.decode()
    assert "try 2, success" in html
    assert "the link was made by try" not in html
    assert "A track stored by the second try" in html
    # The page of the first try's link says which try it shows.
    first_try = listen_path(DAG_ID, stored_run["run_id"], "retried", map_index=-1, try_number=1)
    status, _, page = http.get(first_try, tokens["admin"])
    assert status == 200
    assert "the link was made by try 1" in page.decode()


# ------------------------------------------------------------------------------------------ browser


def _log_in(driver: WebDriver, server: ApiServer, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(server.base_url + "/auth/login")
    driver.delete_all_cookies()
    driver.execute_script("window.localStorage.clear(); window.sessionStorage.clear();")
    driver.get(server.base_url + "/")
    WebDriverWait(driver, WAIT).until(lambda d: "/auth/login" in d.current_url)
    WebDriverWait(driver, WAIT).until(ec.visibility_of_element_located((By.NAME, "username"))).send_keys(
        username
    )
    driver.find_element(By.NAME, "password").send_keys(password)
    WebDriverWait(driver, WAIT).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "button[type=submit]"))
    ).click()
    WebDriverWait(driver, WAIT).until(lambda d: "/auth/login" not in d.current_url)


def _screenshot(driver: WebDriver, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path)), path
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)
    print(f"screenshot: {path}")
    return path


def _network(driver: WebDriver) -> list[dict[str, Any]]:
    entries = driver.get_log("performance")  # type: ignore[attr-defined]  # Chromium's WebDriver has it
    return [json.loads(entry["message"])["message"] for entry in entries]


@pytest.fixture(scope="module")
def net_browser(tmp_path_factory: pytest.TempPathFactory, browser: WebDriver) -> Iterator[WebDriver]:
    """A second Chromium that keeps its network events (the seek's Range request)."""
    driver = start_browser(tmp_path_factory.mktemp("chromium-net"), network_log=True)
    try:
        yield driver
    finally:
        stop_browser(driver)


def test_player_in_the_task_instance_tab(
    net_browser: WebDriver, listen_server: ApiServer, stored_run: dict[str, Any], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = net_browser
    _log_in(driver, listen_server, USERNAME, PASSWORD)
    run_id = urllib.parse.quote(stored_run["run_id"], safe="")
    driver.get(f"{listen_server.base_url}/dags/{DAG_ID}/runs/{run_id}/tasks/generate")

    def tab(d: WebDriver) -> Any:
        for element in d.find_elements(By.XPATH, "//*[self::a or self::button][normalize-space()='Listen']"):
            if element.is_displayed():
                return element
        return None

    WebDriverWait(driver, WAIT).until(tab).click()
    frame: Any = WebDriverWait(driver, WAIT).until(
        lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, "iframe[title='Listen']")), None)
    )
    driver.switch_to.frame(frame)
    try:
        WebDriverWait(driver, WAIT).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "audio[data-object=track]")
        )
        duration = WebDriverWait(driver, WAIT).until(
            lambda d: d.execute_script(
                "const a = document.querySelector('audio[data-object=track]');"
                "return a.readyState >= 1 && isFinite(a.duration) ? a.duration : null;"
            )
        )
        assert abs(duration - stored_run["manifest"]["duration_seconds"]) < 0.05, duration
        image = WebDriverWait(driver, WAIT).until(
            lambda d: d.execute_script(
                "const i = document.querySelector('img.waveform');"
                "return i && i.complete && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight] : null;"
            )
        )
        assert image == [1800, 280]  # the picture the waveform feature stores
        text = driver.find_element(By.TAG_NAME, "body").text
        for expected in (
            "Calm piano under soft rain",
            _loudness_text(stored_run["manifest"]),
            _peak_text(stored_run["manifest"]),
            stored_run["manifest"]["generation_id"],
        ):
            assert expected in text, expected
        _network(driver)  # forget what loading the page did
        seek_to = SECONDS - 8
        driver.execute_script(
            "const a = document.querySelector('audio[data-object=track]');"
            "window.__seeked = false; a.addEventListener('seeked', () => { window.__seeked = true; });"
            f"a.currentTime = {seek_to};"
        )
        WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return window.__seeked"))
        _screenshot(driver, tmp_path / "listen-frame.png")
    finally:
        driver.switch_to.default_content()
    events = _network(driver)
    byte_offset = 44 + seek_to * 44100 * 4
    ranges = []
    for event in events:
        params = event.get("params", {})
        if event.get("method") == "Network.responseReceivedExtraInfo":
            headers = {k.lower(): v for k, v in params.get("headers", {}).items()}
            if "content-range" in headers:
                ranges.append(headers["content-range"])
        if event.get("method") == "Network.responseReceived":
            response = params.get("response", {})
            headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
            if response.get("status") == 206 and "/track" in response.get("url", ""):
                ranges.append(headers.get("content-range", ""))
    starts = [int(r.split()[1].split("-")[0]) for r in ranges if r.startswith("bytes ")]
    assert any(start >= byte_offset * 0.9 for start in starts), (ranges, byte_offset)
    _screenshot(driver, tmp_path / "listen.png")


def test_outsider_is_refused_in_the_browser(
    browser: WebDriver, listen_server: ApiServer, stored_run: dict[str, Any], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    _log_in(driver, listen_server, OUTSIDER, OUTSIDER_PASSWORD)
    driver.get(listen_server.base_url + _page(stored_run["run_id"]))
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "Forbidden" in body or "403" in body or "denied" in body.lower(), body
    assert not driver.find_elements(By.TAG_NAME, "audio")
    status = driver.execute_script(
        "return fetch(arguments[0], {headers: {Range: 'bytes=0-3'}}).then(r => r.status);",
        listen_server.base_url + _object(stored_run["run_id"]),
    )
    assert status == 403
    _screenshot(driver, tmp_path / "listen-outsider.png")
