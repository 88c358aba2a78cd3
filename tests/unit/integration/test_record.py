"""``integration.GenerationRecord``: the durable record that makes a retry reattach, not pay again."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk import Variable
from helpers import FakeTaskStateStore, FakeTI, make_context

from airflow_provider_music.integration import STATE_KEY_GENERATION_ID, GenerationRecord, RecordedGeneration


def test_recorded_generation_reads_both_record_formats() -> None:
    old = RecordedGeneration.parse("abc:elevenlabs/eleven_music")
    assert old == RecordedGeneration("abc:elevenlabs/eleven_music", None, None)
    new = RecordedGeneration("abc:m", {"credits_used": 1, "usd_spent": "0.5"}, "d:r:t")
    assert RecordedGeneration.parse(new.to_json()) == new
    assert RecordedGeneration.parse(None) is None
    assert RecordedGeneration.parse("") is None
    assert RecordedGeneration.parse("{not json") == RecordedGeneration("{not json")


def test_a_record_is_one_json_object_with_sorted_keys() -> None:
    record = RecordedGeneration("abc:m", {"credits_used": 1}, "d:r:t")
    assert (
        record.to_json()
        == '{"client_request_id": "d:r:t", "generation_id": "abc:m", "usage": {"credits_used": 1}}'
    )
    assert RecordedGeneration("abc:m").to_json() == (
        '{"client_request_id": null, "generation_id": "abc:m", "usage": null}'
    )


def test_a_json_object_without_an_id_is_read_as_a_bare_id() -> None:
    assert RecordedGeneration.parse('{"usage": null}') == RecordedGeneration('{"usage": null}')
    odd = RecordedGeneration.parse('{"generation_id": "g", "usage": [1], "client_request_id": 5}')
    assert odd == RecordedGeneration("g", None, None)  # fields of the wrong type are unknown


def test_the_task_state_store_keeps_the_record_across_tries() -> None:
    store = FakeTaskStateStore()
    record = GenerationRecord(make_context(store))
    assert record.get() is None
    created = RecordedGeneration("g:m", {"credits_used": 3}, "d:r:t")
    record.set(created)
    assert store.data[STATE_KEY_GENERATION_ID] == created.to_json()
    assert GenerationRecord(make_context(store)).get() == created  # the next try reads it
    record.clear()
    assert STATE_KEY_GENERATION_ID not in store.data
    record.clear()  # clearing twice is fine


class FakeVariables:
    """Airflow's Variable store, in memory (Airflow's part, not ours)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.descriptions: dict[str, str | None] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any, description: str | None = None) -> None:
        self.data[key] = value
        self.descriptions[key] = description

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


@pytest.fixture
def fake_variables(monkeypatch: pytest.MonkeyPatch) -> FakeVariables:
    fake = FakeVariables()
    for name in ("get", "set", "delete"):
        monkeypatch.setattr(Variable, name, getattr(fake, name))
    return fake


def _context_without_store(**ti_kw: Any) -> dict[str, Any]:
    ti = FakeTI(**ti_kw)
    return {"ti": ti, "run_id": ti.run_id}


def test_without_a_task_state_store_a_variable_per_task_instance_keeps_it(
    fake_variables: FakeVariables,
) -> None:
    context = _context_without_store(dag_id="daily", task_id="gen", run_id="manual__1", map_index=3)
    record = GenerationRecord(context)
    assert record.variable_key == "aimlapi_generation__daily__gen__manual__1__3"  # never the try number
    record.set(RecordedGeneration("g:m"))
    assert fake_variables.data == {record.variable_key: RecordedGeneration("g:m").to_json()}
    assert "airflow-provider-music" in str(fake_variables.descriptions[record.variable_key])
    assert GenerationRecord(context).get() == RecordedGeneration("g:m")
    record.clear()
    assert fake_variables.data == {}


def test_an_unreachable_variable_store_does_not_stop_a_try(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("api server down")

    for name in ("get", "delete"):
        monkeypatch.setattr(Variable, name, unreachable)
    record = GenerationRecord(_context_without_store())
    assert record.get() is None  # a first try goes on
    record.clear()  # a stale record only costs one status GET later
    assert "Could not read the generation record" in caplog.text
    assert "Could not clear the generation record" in caplog.text
