"""The public surface: every name in ``airflow_provider_music.__all__`` resolves, lazily."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import airflow_provider_music
from airflow_provider_music.hooks import music as hooks_music


@pytest.mark.parametrize("name", sorted(set(airflow_provider_music.__all__) - {"__version__"}))
def test_every_public_name_resolves_to_a_class_or_function(name: str) -> None:
    value = getattr(airflow_provider_music, name)
    assert isinstance(value, type) or callable(value)
    assert value.__name__ == name
    assert name in dir(airflow_provider_music)


def test_the_types_the_hook_returns_are_public_there() -> None:
    for name in (
        "ApiSettings",
        "AudioFormat",
        "Generation",
        "GenerationStatus",
        "RetryPolicy",
        "StoredAudio",
        "Submission",
    ):
        assert name in hooks_music.__all__
        assert getattr(airflow_provider_music, name) is getattr(hooks_music, name)


def test_all_lists_exactly_what_the_package_resolves() -> None:
    assert len(airflow_provider_music.__all__) == len(set(airflow_provider_music.__all__))
    for name in airflow_provider_music.__all__:
        assert getattr(airflow_provider_music, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'MusicGenerationOperatr'"):
        _ = airflow_provider_music.MusicGenerationOperatr  # type: ignore[attr-defined]


def test_importing_the_package_loads_nothing_of_its_layers() -> None:
    code = textwrap.dedent(
        """
        import sys
        import airflow_provider_music
        print(sorted(m for m in sys.modules if m.startswith("airflow_provider_music.")))
        print("airflow" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, airflow_loaded = out.splitlines()
    assert loaded == "['airflow_provider_music._lazy']"  # the PEP 562 helper, standard library only
    assert airflow_loaded == "False"
