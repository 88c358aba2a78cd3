"""
``get_provider_info()`` is what Airflow reads through the ``apache_airflow_provider`` entry point: the
provider list, the hook registry and the connection form. These tests keep it true to the code.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import airflow_provider_music
from airflow_provider_music.defaults import CONN_TYPE, CONNECTION_EXTRA_TIMEOUT, DEFAULT_CONN_ID
from airflow_provider_music.get_provider_info import DESCRIPTION, get_provider_info
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.triggers.music import MusicGenerationTrigger
from airflow_provider_music.version_compat import AIRFLOW_V_3_2_PLUS

REPO = Path(__file__).resolve().parents[2]
ENTRY_POINT = "airflow_provider_music.get_provider_info:get_provider_info"
MODULE_SECTIONS = ("hooks", "operators", "sensors", "triggers")


@pytest.fixture(scope="module")
def info() -> dict[str, Any]:
    return get_provider_info()


@pytest.fixture(scope="module")
def connection_type(info: dict[str, Any]) -> dict[str, Any]:
    entries = info["connection-types"]
    assert len(entries) == 1, entries
    entry: dict[str, Any] = entries[0]
    return entry


def _import_string(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_names_and_version(info: dict[str, Any]) -> None:
    assert info["package-name"] == "airflow-provider-music"
    assert info["versions"] == [airflow_provider_music.__version__]
    assert info["name"].strip()
    assert info["description"].strip()


def test_version_matches_pyproject_and_installed_distribution() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["name"] == get_provider_info()["package-name"]
    # One place for the version: pyproject declares it dynamic and hatch reads ``__version__``.
    assert "version" not in project
    assert "version" in project["dynamic"]
    version_file = REPO / pyproject["tool"]["hatch"]["version"]["path"]
    assert version_file.resolve() == Path(str(airflow_provider_music.__file__)).resolve()
    assert importlib.metadata.version("airflow-provider-music") == airflow_provider_music.__version__


def test_config_options_were_added_in_a_released_version(info: dict[str, Any]) -> None:
    for section in info["config"].values():
        for option in section["options"].values():
            assert option["version_added"] in info["versions"]


def test_entry_point_points_here() -> None:
    eps = importlib.metadata.entry_points(group="apache_airflow_provider")
    ours = [ep for ep in eps if ep.dist is not None and ep.dist.name == "airflow-provider-music"]
    assert [ep.value for ep in ours] == [ENTRY_POINT]
    assert ours[0].load() is get_provider_info


def test_valid_against_airflows_provider_info_schema(info: dict[str, Any]) -> None:
    """Airflow validates every provider's info with this schema when it discovers providers."""
    schema_file = Path(str(importlib.import_module("airflow").__file__)).parent / "provider_info.schema.json"
    jsonschema.validate(info, json.loads(schema_file.read_text()))


def test_every_listed_module_imports(info: dict[str, Any]) -> None:
    modules = [m for section in MODULE_SECTIONS for entry in info[section] for m in entry["python-modules"]]
    assert modules, "no modules listed"
    for section in MODULE_SECTIONS:
        assert info[section], f"{section} lists nothing"
    for name in modules:
        importlib.import_module(name)


def test_every_integration_referenced_is_declared(info: dict[str, Any]) -> None:
    declared = {i["integration-name"] for i in info["integrations"]}
    for integration in info["integrations"]:
        assert integration["external-doc-url"].startswith("https://")
    for section in MODULE_SECTIONS:
        for entry in info[section]:
            assert entry["integration-name"] in declared


def test_trigger_serializes_to_a_listed_module(info: dict[str, Any]) -> None:
    classpath, _ = MusicGenerationTrigger("gen:elevenlabs/eleven_music", deadline=0.0).serialize()
    listed = {m for entry in info["triggers"] for m in entry["python-modules"]}
    assert classpath.rpartition(".")[0] in listed


def test_connection_type_agrees_with_the_hook(connection_type: dict[str, Any]) -> None:
    hook_class = _import_string(connection_type["hook-class-name"])
    assert hook_class is MusicGenerationHook
    assert connection_type["connection-type"] == hook_class.conn_type == CONN_TYPE == "aimlapi"
    assert hook_class.default_conn_name == DEFAULT_CONN_ID == "aimlapi_default"
    assert hook_class.hook_name.strip()
    # conn_name_attr names the constructor argument that holds the connection id.
    hook = hook_class()
    assert getattr(hook, hook_class.conn_name_attr) == DEFAULT_CONN_ID
    assert getattr(hook_class("other"), hook_class.conn_name_attr) == "other"
    # A connection test button only appears for hooks that implement test_connection.
    assert "test_connection" in vars(hook_class)


def test_hook_name_declared_for_the_connection_form(connection_type: dict[str, Any]) -> None:
    """Airflow >= 3.2 lists connection types from provider info without importing hooks."""
    assert connection_type.get("hook-name") == MusicGenerationHook.hook_name


def test_ui_field_behaviour_agrees_with_the_hook(connection_type: dict[str, Any]) -> None:
    """Airflow 3.1 reads the hook's method, Airflow >= 3.2 the provider info: both must say the same."""
    declared = connection_type["ui-field-behaviour"]
    from_hook = MusicGenerationHook.get_ui_field_behaviour()
    assert set(declared) <= {"hidden-fields", "relabeling", "placeholders"}
    assert set(from_hook) <= {"hidden_fields", "relabeling", "placeholders"}
    assert sorted(declared.get("hidden-fields", [])) == sorted(from_hook.get("hidden_fields", []))
    assert declared.get("relabeling", {}) == from_hook.get("relabeling", {})
    assert declared.get("placeholders", {}) == from_hook.get("placeholders", {})


def test_ui_field_behaviour_keeps_the_fields_the_hook_reads(connection_type: dict[str, Any]) -> None:
    behaviour = connection_type["ui-field-behaviour"]
    hidden = set(behaviour.get("hidden-fields", []))
    assert hidden <= {"host", "schema", "login", "password", "port", "extra", "description"}
    assert not hidden & {"password", "host"}, "the API key and base URL must stay editable"
    assert behaviour["relabeling"]["password"]  # the key lives in the password field
    for field in (*behaviour.get("relabeling", {}), *behaviour.get("placeholders", {})):
        assert field not in hidden, f"{field} is relabelled or has a placeholder but is hidden"


def test_providers_manager_sees_the_same(connection_type: dict[str, Any]) -> None:
    """What the running Airflow in this environment registers from the entry point."""
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-music" in manager.providers
    assert manager.providers["airflow-provider-music"].version == airflow_provider_music.__version__
    if hasattr(manager, "iter_connection_type_hook_ui_metadata"):
        # Airflow >= 3.2: the connection form is built from provider info, without importing hooks.
        # (Before ``hooks`` is read: reading it imports the hook and hides a missing hook-name.)
        (meta,) = [
            m for m in manager.iter_connection_type_hook_ui_metadata() if m.connection_type == CONN_TYPE
        ]
        assert meta.hook_class_name == connection_type["hook-class-name"]
        assert meta.field_behaviour == MusicGenerationHook.get_ui_field_behaviour()
    # Airflow 3.1 only reads field behaviours where the UI's form libraries (wtforms) are installed.
    with warnings.catch_warnings():  # Airflow 3.3 deprecates .hooks in favour of the Task SDK's
        warnings.simplefilter("ignore")
        hook_info = manager.hooks[CONN_TYPE]
    assert hook_info is not None
    assert hook_info.hook_class_name == connection_type["hook-class-name"]
    assert hook_info.connection_id_attribute_name == MusicGenerationHook.conn_name_attr
    assert hook_info.hook_name == MusicGenerationHook.hook_name
    assert hook_info.package_name == "airflow-provider-music"


def test_provider_info_import_is_cheap() -> None:
    """Every Airflow process calls the entry point: it must not pull in Airflow or HTTP clients."""
    code = (
        "import sys, json\n"
        "from airflow_provider_music.get_provider_info import get_provider_info\n"
        "get_provider_info()\n"
        "heavy = {'airflow', 'requests', 'httpx', 'fsspec', 'pendulum'}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, timeout=60
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# ------------------------------------------------------------- what Airflow shows of the provider


def test_description_survives_airflows_display_filter(info: dict[str, Any]) -> None:
    """
    Bug 8: ``airflow providers list`` and Admin > Providers showed ``elevenlabs/elevenmusic``.

    Airflow removes every `_`, backtick, `<` and `>` from a provider's description before showing it
    (the REST API behind Admin > Providers and the CLI alike), so escaping cannot help: the text has none.
    """
    from airflow.api_fastapi.core_api.services.public.providers import _provider_mapper

    assert info["description"] == DESCRIPTION
    assert not set("`_<>") & set(DESCRIPTION), DESCRIPTION
    assert "Eleven Music" in DESCRIPTION
    assert "elevenmusic" not in DESCRIPTION.lower()
    from airflow.providers_manager import ProvidersManager

    shown = _provider_mapper(ProvidersManager().providers["airflow-provider-music"]).description
    assert shown == DESCRIPTION.rstrip("."), shown


def test_providers_list_shows_the_description_whole() -> None:
    """The command a user types, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    listed = json.loads(out.stdout[out.stdout.index("[") :])
    (ours,) = [p for p in listed if p["package_name"] == "airflow-provider-music"]
    assert ours["description"] == DESCRIPTION.rstrip(".")


# -------------------------------------------------------------- the typed timeout field (conn-fields)


def test_conn_fields_declare_the_timeout_the_hook_reads(connection_type: dict[str, Any]) -> None:
    fields = connection_type["conn-fields"]
    assert set(fields) == {CONNECTION_EXTRA_TIMEOUT} == {"timeout"}
    field = fields["timeout"]
    assert field["label"].strip()
    assert field["description"].strip()
    assert field["schema"]["type"] == ["number", "null"]  # empty in the form: the hook's default
    assert field["schema"]["minimum"] > 0


def test_conn_fields_valid_against_airflows_provider_yaml_schema(connection_type: dict[str, Any]) -> None:
    """Airflow >= 3.2 documents ``conn-fields`` in provider.yaml's schema; Airflow 3.1 has no such entry."""
    schema_file = Path(str(importlib.import_module("airflow").__file__)).parent / "provider.yaml.schema.json"
    if not schema_file.is_file():
        pytest.skip("this Airflow ships no provider.yaml schema")
    schema = json.loads(schema_file.read_text())
    entry = schema["properties"]["connection-types"]["items"]["properties"].get("conn-fields")
    if entry is None:
        assert not AIRFLOW_V_3_2_PLUS, "Airflow >= 3.2 should know conn-fields"
        pytest.skip("this Airflow (< 3.2) has no conn-fields; the Extra box is used instead")
    jsonschema.validate(connection_type["conn-fields"], entry)


@pytest.mark.parametrize(("stored", "expected"), [(45, 45.0), (7.5, 7.5), (None, None)])
def test_the_value_a_conn_field_stores_is_the_hooks_timeout(
    connection_type: dict[str, Any], monkeypatch: pytest.MonkeyPatch, stored: Any, expected: Any
) -> None:
    """The form stores each conn-field as ``extra[<field name>]`` (``null`` when left empty)."""
    (name,) = connection_type["conn-fields"]
    conn = {"conn_type": CONN_TYPE, "password": "k", "host": "http://127.0.0.1:9", "extra": {name: stored}}
    monkeypatch.setenv("AIRFLOW_CONN_FROM_FORM", json.dumps(conn))
    assert MusicGenerationHook("from_form").settings.timeout == expected


def test_connection_form_gets_the_typed_field_on_airflow_3_2_and_later(
    connection_type: dict[str, Any],
) -> None:
    """What the api-server sends the connection form (the browser test drives the form itself)."""
    if not AIRFLOW_V_3_2_PLUS:
        pytest.skip("Airflow 3.1 reads no conn-fields: the timeout goes into the Extra box")
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == CONN_TYPE]
    extra_fields = meta.extra_fields or {}
    assert set(extra_fields) == {"timeout"}, extra_fields
    field = extra_fields["timeout"]
    field = field if isinstance(field, dict) else dict(field)
    assert field["value"] is None
    assert field["schema"]["type"] == ["number", "null"]
    assert field["schema"]["title"] == connection_type["conn-fields"]["timeout"]["label"]
    assert field["description"] == connection_type["conn-fields"]["timeout"]["description"]
