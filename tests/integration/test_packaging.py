"""
The distributions are what users install: build the sdist and the wheel, check their metadata, then
install the wheel into a fresh virtual environment next to the same Airflow and ask Airflow itself
whether it finds the provider, its connection type and every example DAG.
"""

from __future__ import annotations

import configparser
import email.parser
import importlib.metadata
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

import airflow_provider_music

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
UV = REPO / ".venv" / "tools" / "bin" / "uv"
DIST = "airflow-provider-music"
ENTRY_POINT = "airflow_provider_music.get_provider_info:get_provider_info"
PLUGIN_ENTRY_POINT = "airflow_provider_music.ui.plugin:MusicListenPlugin"
HOOK_CLASS = "airflow_provider_music.hooks.music.MusicGenerationHook"
AIRFLOW_VERSION = importlib.metadata.version("apache-airflow")
EXAMPLE_DAG_IDS = sorted(p.stem for p in (REPO / "example_dags").glob("example_*.py"))


def _run(cmd: Sequence[str | Path], *, env: dict[str, str] | None = None, cwd: Path | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    result = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{' '.join(str(c) for c in cmd)} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
    )
    return result


def _require_uv() -> None:
    if UV.is_file():
        return
    message = f"{UV} does not exist: run `bash scripts/test.sh` (it installs uv) first"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would point a child at this checkout or env."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_", "AIRFLOW", "CONDA_PREFIX")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def _json_from(stdout: str) -> Any:
    """The JSON document in a CLI's output, ignoring any log lines printed before it."""
    start = min((i for i in (stdout.find("["), stdout.find("{")) if i >= 0), default=-1)
    assert start >= 0, f"no JSON in output:\n{stdout[-2000:]}"
    value, _ = json.JSONDecoder().raw_decode(stdout[start:])
    return value


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    _require_uv()
    out = tmp_path_factory.mktemp("dist")
    # `build` makes the sdist, then the wheel from the unpacked sdist (so both are exercised), each in
    # an isolated environment with only the build backend (hatchling); uv creates those in ~1 s.
    env = _clean_env(PATH=f"{UV.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    _run([sys.executable, "-m", "build", "--installer", "uv", "--outdir", out, REPO], env=env, timeout=180)
    wheels = sorted(out.glob("*.whl"))
    sdists = sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1, sorted(p.name for p in out.iterdir())
    assert len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return Built(wheel=wheels[0], sdist=sdists[0])


@pytest.fixture(scope="module")
def wheel_metadata(built: Built) -> Message:
    with zipfile.ZipFile(built.wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(zf.read(name).decode("utf-8"))


@pytest.fixture(scope="module")
def fresh_venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the built wheel and the Airflow version this suite runs on."""
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    env = _clean_env()
    _run([UV, "venv", "--quiet", "--python", sys.executable, venv], env=env)
    # Pin every other distribution to the version installed here: the set this suite is tested with
    # (Airflow's own advice is to install with constraints), and all of it already in uv's cache.
    constraints = root / "constraints.txt"
    pins = {
        dist.metadata["Name"].lower(): dist.version
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() != DIST
    }
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
    _run(
        [UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python", "--constraint",
         constraints, built.wheel, f"apache-airflow=={AIRFLOW_VERSION}"],
        env=env,
        timeout=300,
    )  # fmt: skip
    return venv


def _airflow_env(root: Path) -> dict[str, str]:
    home = root / "airflow-home"
    home.mkdir(exist_ok=True)
    return _clean_env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "example_dags"),
        # Airflow puts the DAGs folder on sys.path; the examples share a settings module from it.
        # The repository itself is deliberately NOT on the path: the provider must come from the wheel.
        PYTHONPATH=str(REPO / "example_dags"),
    )


# --- the distributions ------------------------------------------------------------------------------


def test_twine_check_passes(built: Built) -> None:
    result = _run([sys.executable, "-m", "twine", "check", "--strict", built.wheel, built.sdist])
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_wheel_metadata(built: Built, wheel_metadata: Message) -> None:
    meta = wheel_metadata
    assert meta["Name"] == DIST
    assert meta["Version"] == airflow_provider_music.__version__
    assert built.wheel.name == f"airflow_provider_music-{airflow_provider_music.__version__}-py3-none-any.whl"
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["Summary"].strip()
    assert meta["Description-Content-Type"] == "text/markdown"
    assert "AI/ML API" in meta.get_payload()  # the README is the long description

    classifiers = set(meta.get_all("Classifier") or [])
    expected = {
        "Framework :: Apache Airflow",
        "Framework :: Apache Airflow :: Provider",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Typing :: Typed",
    }
    assert expected <= classifiers, sorted(expected - classifiers)

    # The license: an SPDX expression (metadata 2.4) or the older License field, plus the file itself.
    assert meta["License-Expression"] == "Apache-2.0" or "Apache" in (meta["License"] or "")
    license_files = meta.get_all("License-File") or []
    assert "LICENSE" in license_files

    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Documentation", "Changelog"} <= set(urls), urls
    assert all(u.startswith("https://") for u in urls.values()), urls

    requires = [r.split(";")[0].strip() for r in meta.get_all("Requires-Dist") or []]
    assert any(r.startswith("apache-airflow>=3") for r in requires), requires


def test_wheel_contents(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as zf:
        names = set(zf.namelist())
        (dist_info,) = {n.split("/")[0] for n in names if ".dist-info/" in n}
        entry_points = configparser.ConfigParser()
        entry_points.read_string(zf.read(f"{dist_info}/entry_points.txt").decode())
        license_text = zf.read(f"{dist_info}/licenses/LICENSE").decode()
    assert dict(entry_points["apache_airflow_provider"]) == {"provider_info": ENTRY_POINT}
    # The Listen page's plugin: every Airflow component reads this group (docs/listen.md).
    assert dict(entry_points["airflow.plugins"]) == {"music_listen": PLUGIN_ENTRY_POINT}
    assert "Apache License" in license_text
    assert "airflow_provider_music/py.typed" in names
    for module in (
        "__init__",
        "get_provider_info",
        "hooks/music",
        "operators/music",
        "sensors/music",
        "triggers/music",
        "exceptions",
        "defaults",
        "emulator/__main__",
        "ui/plugin",
        "ui/_app",
    ):
        assert f"airflow_provider_music/{module}.py" in names, module
    # Only the package goes into the wheel: no tests, example DAGs or caches.
    stray = sorted(n for n in names if not n.startswith(("airflow_provider_music/", dist_info)))
    assert stray == []
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_sdist_contents(built: Built) -> None:
    with tarfile.open(built.sdist) as tf:
        prefix = f"airflow_provider_music-{airflow_provider_music.__version__}/"
        names = {n.removeprefix(prefix) for n in tf.getnames()}
    for required in ("pyproject.toml", "README.md", "LICENSE", "PKG-INFO", "airflow_provider_music/py.typed"):
        assert required in names, required
    for dag in EXAMPLE_DAG_IDS:
        assert f"example_dags/{dag}.py" in names, dag
    # The Changelog Project-URL points at docs/changelog.md; the docs travel with the source.
    for page in sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")):
        assert page in names, page
    assert "docs/changelog.md" in names
    assert not [n for n in names if n.startswith(".venv/") or "__pycache__" in n]


# --- the wheel installed next to a real Airflow --------------------------------------------------------


def test_airflow_lists_the_provider(fresh_venv: Path) -> None:
    result = _run(
        [fresh_venv / "bin" / "airflow", "providers", "list", "-o", "json"],
        env=_airflow_env(fresh_venv.parent),
        cwd=fresh_venv.parent,
    )
    providers = {p["package_name"]: p for p in _json_from(result.stdout)}
    assert DIST in providers, sorted(providers)
    assert providers[DIST]["version"] == airflow_provider_music.__version__


def test_airflow_loads_the_listen_plugin(fresh_venv: Path) -> None:
    result = _run(
        [fresh_venv / "bin" / "airflow", "plugins", "-o", "json"],
        env=_airflow_env(fresh_venv.parent),
        cwd=fresh_venv.parent,
    )
    ours = [p for p in _json_from(result.stdout) if p.get("name") == "music_listen"]
    assert len(ours) == 1, result.stdout[-2000:]
    text = json.dumps(ours[0])
    assert "/music" in text, text
    assert "task_instance" in text, text


def test_airflow_registers_the_connection_type(fresh_venv: Path) -> None:
    result = _run(
        [fresh_venv / "bin" / "airflow", "providers", "hooks", "-o", "json"],
        env=_airflow_env(fresh_venv.parent),
        cwd=fresh_venv.parent,
    )
    ours = [h for h in _json_from(result.stdout) if h.get("connection_type") == "aimlapi"]
    assert len(ours) == 1, ours
    assert ours[0]["class"] == HOOK_CLASS
    assert ours[0]["package_name"] == DIST
    assert ours[0]["conn_id_attribute_name"] == "conn_id"


def test_example_dags_import_from_the_wheel(fresh_venv: Path) -> None:
    code = (
        "import json, airflow_provider_music\n"
        "try:\n"
        "    from airflow.dag_processing.dagbag import DagBag\n"
        "except ImportError:  # Airflow 3.1\n"
        "    from airflow.models.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(REPO / 'example_dags')!r})\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},\n"
        "                  'dags': sorted(bag.dag_ids),\n"
        "                  'provider': airflow_provider_music.__file__}))"
    )
    result = _run(
        [fresh_venv / "bin" / "python", "-c", code],
        env=_airflow_env(fresh_venv.parent),
        cwd=fresh_venv.parent,
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    # The provider was imported from the fresh environment, not from this checkout.
    assert Path(found["provider"]).resolve().is_relative_to(fresh_venv.resolve()), found["provider"]
    assert len(EXAMPLE_DAG_IDS) >= 3
    assert set(EXAMPLE_DAG_IDS) <= set(found["dags"]), found["dags"]
