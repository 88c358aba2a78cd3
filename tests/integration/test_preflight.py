"""
Fail before paying: every misconfiguration of the destination that can be known without the audio
stops ``GenerateMusicOperator`` before its POST (zero POSTs on the emulator) and the sensor before it
defers or pokes. S3 cases run against the real S3 server (Ceph RGW); the missing ``[amazon]`` extra
runs in a subprocess whose environment really lacks the packages.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from helpers import REPO, FakeTaskStateStore, TaskDeferred, make_context

from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import (
    AirflowFailException,
    MusicDeliveryError,
    MusicDestinationExistsError,
    MusicInputError,
)
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.operators.music import GenerateMusicOperator
from airflow_provider_music.sensors.music import MusicGenerationSensor

if TYPE_CHECKING:
    from helpers.s3_server import S3Server

pytestmark = pytest.mark.integration

CONN_ID = "music_s3_preflight"
PIP_LINE = 'pip install "airflow-provider-music[amazon]"'


def _generate(destination: str, **kw: Any) -> GenerateMusicOperator:
    return GenerateMusicOperator(task_id="g", prompt="p", destination=destination, **kw)


def _refused_before_paying(
    emulator: Emulator, op: GenerateMusicOperator, error: type[Exception], match: str
) -> Exception:
    with pytest.raises(error, match=match) as info:
        op.execute(make_context(FakeTaskStateStore()))
    assert emulator.stats()["posts"] == 0, "a misconfigured destination must not cost a generation"
    if error is not MusicDestinationExistsError:
        assert str(info.value).endswith("Checked before any request: this try created no generation.")
    return info.value


# --- S3 on the real server ---------------------------------------------------------------------------


@pytest.fixture
def preflight_bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", s3_server.airflow_conn_json())
    return s3_server.make_bucket(f"pre-{uuid.uuid4().hex[:12]}")


def _conn_with(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, conn_id: str, **changes: Any) -> str:
    conn = s3_server.airflow_conn()
    extra = {**conn["extra"], **changes.pop("extra", {})}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, **changes, "extra": extra}))
    return conn_id


@pytest.mark.s3
def test_a_good_s3_destination_passes_and_the_task_stores(emulator: Emulator, preflight_bucket: str) -> None:
    emulator.configure(generation_seconds=0)
    op = _generate(
        f"s3://{preflight_bucket}/music/",
        storage_conn_id=CONN_ID,
        object_name="t",
        deferrable=False,
        poll_interval=0.05,
    )
    manifest = op.execute(make_context(FakeTaskStateStore()))
    assert manifest["uri"] == f"s3://{preflight_bucket}/music/t.wav"
    assert emulator.stats()["posts"] == 1


@pytest.mark.s3
def test_a_missing_bucket_is_refused_before_paying(emulator: Emulator, preflight_bucket: str) -> None:
    err = _refused_before_paying(
        emulator,
        _generate(f"s3://{preflight_bucket}-typo/music/", storage_conn_id=CONN_ID),
        MusicInputError,
        f"bucket '{preflight_bucket}-typo' of s3://{preflight_bucket}-typo/music does not exist",
    )
    assert isinstance(err, AirflowFailException)
    assert CONN_ID + "@" not in str(err)


@pytest.mark.s3
@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"login": "AKIANOSUCHKEY0000000"}, "InvalidAccessKeyId"),
        ({"password": "wrong-secret"}, "SignatureDoesNotMatch"),
    ],
)
def test_refused_credentials_are_refused_before_paying(
    emulator: Emulator,
    s3_server: S3Server,
    preflight_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    changes: dict[str, str],
    code: str,
) -> None:
    # One connection id per case: Airflow caches a store's filesystem per (scheme, connection id).
    conn_id = _conn_with(s3_server, monkeypatch, f"music_s3_bad_{code.lower()}", **changes)
    err = _refused_before_paying(
        emulator,
        _generate(f"s3://{preflight_bucket}/music/", storage_conn_id=conn_id),
        MusicInputError,
        f"S3 refused the credentials of storage connection '{conn_id}' .*{code}",
    )
    assert "wrong-secret" not in str(err)


@pytest.mark.s3
def test_an_unreachable_endpoint_is_a_retryable_error_before_paying(
    emulator: Emulator, s3_server: S3Server, preflight_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    conn_id = _conn_with(
        s3_server,
        monkeypatch,
        "music_s3_unreachable",
        extra={"endpoint_url": closed, "config_kwargs": {"retries": {"max_attempts": 1}}},
    )
    err = _refused_before_paying(
        emulator,
        _generate(f"s3://{preflight_bucket}/music/", storage_conn_id=conn_id),
        MusicDeliveryError,
        "Could not reach the storage",
    )
    assert not isinstance(err, AirflowFailException)  # a retry may find it up: nothing was paid


@pytest.mark.s3
def test_a_misspelled_storage_connection_is_named_and_never_falls_back(
    emulator: Emulator,
    preflight_bucket: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bug 4: amazon logged "switching to empty", the task paid and waited, then failed with the
    connection id inside the URI of the message (s3://my_s3_typo@my-bucket/...)."""
    for kw in ({"storage_conn_id": "my_s3_typo"}, {}):
        destination = (
            f"s3://{preflight_bucket}/music/" if kw else f"s3://my_s3_typo@{preflight_bucket}/music/"
        )
        err = _refused_before_paying(
            emulator, _generate(destination, **kw), MusicInputError, "'my_s3_typo' .*does not exist"
        )
        assert "my_s3_typo@" not in str(err)
    logged = capsys.readouterr().out + caplog.text
    assert "switching to empty" not in logged


@pytest.mark.s3
@pytest.mark.parametrize("if_exists", ["skip", "fail"])
def test_skip_and_fail_find_the_object_on_s3_before_paying(
    emulator: Emulator, s3_server: S3Server, preflight_bucket: str, if_exists: str
) -> None:
    s3_server.client().put_object(
        Bucket=preflight_bucket, Key="daily/2026-11-28.mp3", Body=b"ID3-earlier-track"
    )
    s3_server.client().put_object(
        Bucket=preflight_bucket, Key="daily/2026-11-28-other.wav", Body=b"RIFF-not-it"
    )
    op = _generate(
        f"s3://{preflight_bucket}/daily/",
        storage_conn_id=CONN_ID,
        object_name="2026-11-28",
        if_exists=if_exists,
    )
    if if_exists == "fail":
        _refused_before_paying(emulator, op, MusicDestinationExistsError, r"2026-11-28\.mp3 already exists")
        return
    manifest = op.execute(make_context(FakeTaskStateStore()))
    assert manifest["skipped"] is True
    assert manifest["uri"] == f"s3://{preflight_bucket}/daily/2026-11-28.mp3"
    assert emulator.stats()["posts"] == 0


@pytest.mark.s3
def test_the_sensor_checks_before_it_defers(emulator: Emulator, preflight_bucket: str) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")  # the two-task form: the submit task has paid
    sensor = MusicGenerationSensor(
        task_id="wait",
        generation_id=gen_id,
        destination=f"s3://{preflight_bucket}-typo/x/",
        storage_conn_id=CONN_ID,
    )
    with pytest.raises(MusicInputError, match="does not exist") as info:
        sensor.execute(make_context())  # not TaskDeferred: no wait for a track that cannot be stored
    assert str(info.value).endswith(f"Checked before waiting for generation {gen_id}.")
    ok = MusicGenerationSensor(
        task_id="wait",
        generation_id=gen_id,
        destination=f"s3://{preflight_bucket}/x/",
        storage_conn_id=CONN_ID,
    )
    with pytest.raises(TaskDeferred):
        ok.execute(make_context())
    assert emulator.stats()["generations"][gen_id]["gets"] == 0


@pytest.mark.s3
def test_storage_errors_never_show_the_connection_id(emulator: Emulator, preflight_bucket: str) -> None:
    """Past the checks (the bucket goes away during the wait), the error names the URI without it."""
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p", music_length_ms=10_000)
    sensor = MusicGenerationSensor(
        task_id="store", generation_id=gen_id, destination=f"s3://{CONN_ID}@{preflight_bucket}-gone/x/t.wav"
    )
    with pytest.raises(MusicDeliveryError) as info:
        sensor.execute_complete(make_context(), {"status": "success", "generation_id": gen_id})
    assert f"s3://{preflight_bucket}-gone/x" in str(info.value)
    assert CONN_ID not in str(info.value)


# --- the [amazon] extra missing: a real environment without the packages -------------------------------

_CHILD = r"""
import json, sys
try:
    import s3fs  # noqa: F401
    print("ENVIRONMENT: s3fs importable"); sys.exit(3)
except ImportError:
    pass
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.operators.music import GenerateMusicOperator
from airflow_provider_music.sensors.music import MusicGenerationSensor

class TI:
    dag_id, task_id, run_id, map_index, try_number = "dag", "g", "run1", -1, 1
    def xcom_push(self, key, value):
        pass

class Store(dict):
    def set(self, key, value, **_):
        self[key] = value
    def delete(self, key):
        self.pop(key, None)

context = {"ti": TI(), "task_instance": TI(), "run_id": "run1", "task_state_store": Store()}
if sys.argv[1] == "operator":
    task = GenerateMusicOperator(task_id="g", prompt="p", destination="s3://bucket/music/")
else:
    task = MusicGenerationSensor(task_id="w", generation_id="g:m", destination="s3://bucket/music/")
try:
    task.execute(context)
except MusicInputError as exc:
    print("REFUSED " + json.dumps(str(exc)))
    sys.exit(0)
except BaseException as exc:
    print("OTHER " + type(exc).__name__ + ": " + str(exc)[:500])
    sys.exit(2)
print("NOT REFUSED")
sys.exit(1)
"""


def _shadow_site_packages(root: Path, hidden: Callable[[str], bool], hidden_providers: set[str]) -> Path:
    """
    This environment's site-packages as symlinks, less what ``hidden`` names (top-level packages and
    their ``.dist-info``) and the ``airflow.providers`` subpackages in ``hidden_providers``: to
    Python and to Airflow's provider discovery, those are simply not installed.
    """
    site = Path(sysconfig.get_paths()["purelib"])
    root.mkdir()
    for entry in site.iterdir():
        if hidden(entry.name) or entry.suffix == ".pth":
            continue
        if entry.name != "airflow":
            (root / entry.name).symlink_to(entry)
            continue
        (root / "airflow").mkdir()
        for sub in entry.iterdir():
            if sub.name != "providers":
                (root / "airflow" / sub.name).symlink_to(sub)
                continue
            (root / "airflow" / "providers").mkdir()
            for provider in sub.iterdir():
                if provider.name not in hidden_providers:
                    (root / "airflow" / "providers" / provider.name).symlink_to(provider)
    return root


ENVIRONMENTS = {
    # `pip install airflow-provider-music` without the extra: neither the amazon provider nor s3fs.
    "without-the-amazon-extra": (
        lambda name: name == "s3fs" or name.startswith(("s3fs-", "apache_airflow_providers_amazon-")),
        {"amazon"},
    ),
    # the amazon provider installed on its own: its S3 filesystem needs s3fs, which is missing.
    "amazon-provider-without-s3fs": (lambda name: name == "s3fs" or name.startswith("s3fs-"), set()),
}


@pytest.mark.parametrize("task", ["operator", "sensor"])
@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_s3_without_the_extra_names_the_pip_line_before_paying(
    emulator: Emulator, tmp_path: Path, environment: str, task: str
) -> None:
    """Bug 3: the POST happened, the wait completed, then `ValueError: No filesystem registered for s3`."""
    hidden, providers = ENVIRONMENTS[environment]
    site = _shadow_site_packages(tmp_path / "site-packages", hidden, providers)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "COVERAGE_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    # -S: no site-packages of this environment, only the shadow copy on PYTHONPATH.
    result = subprocess.run(
        [sys.executable, "-S", "-c", _CHILD, task], capture_output=True, text=True, env=env, timeout=300
    )
    out = result.stdout.strip().splitlines()
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert out, (result.stdout + result.stderr)[-3000:]
    message = json.loads(out[-1].removeprefix("REFUSED "))
    assert PIP_LINE in message.splitlines(), message  # the exact line, on a line of its own
    assert message.startswith("Storing to s3:// needs a package this environment lacks")
    assert emulator.stats()["posts"] == 0
