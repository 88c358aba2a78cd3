"""
What the two submitting operators share: the request (checked at DAG-parse time and once rendered),
the paid POST, reattaching on a retry instead of paying twice, and polling from the worker.

Imported at DAG-parse time by the operator module: the hook is imported only when a task runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow_provider_music.exceptions import MusicQualityError, MusicTimeoutError
from airflow_provider_music.integration._delivering import UsesMusicHook
from airflow_provider_music.integration._request import (
    REQUEST_KEY,
    check_literals,
    recorded_request,
    request_body,
    typed_fields,
)
from airflow_provider_music.wire import client_request_id, coerce_music_length

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_music.hooks.music import MusicGenerationHook
    from airflow_provider_music.integration._record import RecordedGeneration
    from airflow_provider_music.wire import Generation


class SubmitsGenerations(UsesMusicHook):
    """Creating a generation, reattaching on retries instead of paying twice."""

    prompt: str
    music_length_ms: int | str | None
    model: str
    extra_body: Mapping[str, Any] | None
    lyrics: str | None
    negative_prompt: str | None
    seed: int | str | None

    def _set_request(
        self,
        prompt: str,
        music_length_ms: int | str | None,
        model: str,
        extra_body: Mapping[str, Any] | None,
        fields: Mapping[str, Any],
    ) -> None:
        """Refuse at DAG-parse time what is wrong whatever the templates render to, then keep it all."""
        warning = check_literals(prompt, music_length_ms, model, extra_body, typed_fields(**fields))
        if warning:
            self.log.warning("%s", warning)
        self.prompt = prompt
        self.music_length_ms = music_length_ms
        self.model = model
        self.extra_body = dict(extra_body) if extra_body else None
        self.lyrics = fields["lyrics"]
        self.negative_prompt = fields["negative_prompt"]
        self.seed = fields["seed"]

    def _fields(self) -> dict[str, Any]:
        """The typed model fields given, as rendered (None: not sent)."""
        return typed_fields(self.lyrics, self.negative_prompt, self.seed)

    def _request_body(self) -> dict[str, Any]:
        """Validate what the templates rendered to with the model's rules: the body the POST carries."""
        return request_body(self.prompt, self.music_length_ms, self.model, self.extra_body, self._fields())

    def _request_info(self, recorded: RecordedGeneration | None = None) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": self.prompt,
            "music_length_ms": coerce_music_length(self.music_length_ms),
            # the model's fields as sent (lyrics as given); the API key is never part of a body
            REQUEST_KEY: recorded_request(self._request_body()),
            "usage": dict(recorded.usage) if recorded is not None and recorded.usage is not None else None,
            "client_request_id": recorded.client_request_id if recorded is not None else None,
            # Generations of this task instance the quality gate rejected before this one (each paid).
            **({"attempts": [dict(a) for a in recorded.attempts]} if recorded and recorded.attempts else {}),
        }

    @staticmethod
    def _client_request_id(context: Context) -> str:
        """The ``X-Client-Request-Id`` of this task instance: dag, run, task, map index (never the try)."""
        ti = context["ti"]
        return client_request_id(
            str(ti.dag_id),
            str(getattr(ti, "run_id", None) or context.get("run_id")),
            str(ti.task_id),
            getattr(ti, "map_index", -1),
        )

    def _submit_or_reattach(self, context: Context) -> tuple[RecordedGeneration, Generation | None]:
        """
        The generation this task instance owns: the recorded one if it is pending or done, else a new one.

        Returns its record (id, usage, client request id) and, when it was reattached, the status just
        read (so a completed one is delivered without waiting).
        """
        from airflow_provider_music.integration._record import GenerationRecord

        self._request_body()  # refuses a bad rendered value before anything is read or sent
        record = GenerationRecord(context)
        previous = record.get()
        if previous:
            generation = self.hook.get_generation(previous.generation_id)
            if generation.status.is_pending() or (generation.status.is_success() and generation.audio_url):
                self.log.info(
                    "Reattaching to generation %s (%s) created by an earlier try; not submitting again",
                    previous.generation_id, generation.raw_status,
                )  # fmt: skip
                return previous, generation
            self.log.warning(
                "The generation %s recorded by an earlier try ended as %r; submitting a new one",
                previous.generation_id, generation.raw_status,
            )  # fmt: skip
        created = self._submit(context)
        return created, None

    def _submit(self, context: Context) -> RecordedGeneration:
        """
        One paid POST, recorded before anything else happens (so a retry reattaches to it). After the
        gate rejected earlier generations of this task instance, the record keeps them (the budget)
        and the ``X-Client-Request-Id`` ends in ``:regen-<n>``, so each POST stays traceable.
        """
        from airflow_provider_music.integration._record import GenerationRecord, RecordedGeneration

        previous = GenerationRecord(context).get()
        attempts = previous.attempts if previous is not None else ()
        request_id = self._client_request_id(context)
        if attempts:
            request_id = f"{request_id}:regen-{len(attempts)}"
        fields = self._fields()
        submission = self.hook.create_generation(
            self.prompt,
            coerce_music_length(self.music_length_ms),  # type: ignore[arg-type]  # validated above
            self.model,
            self.extra_body,
            client_request_id=request_id,
            lyrics=fields.get("lyrics"),
            negative_prompt=fields.get("negative_prompt"),
            seed=fields.get("seed"),
        )
        created = RecordedGeneration(submission.id, submission.usage, submission.client_request_id, attempts)
        GenerationRecord(context).set(
            created
        )  # the hook has logged the id, the client request id and the usage
        return created

    def _regenerate(
        self, context: Context, recorded: RecordedGeneration, rejected: MusicQualityError, budget: int
    ) -> RecordedGeneration:
        """
        After the gate rejected ``recorded``'s track: a new paid POST while ``budget`` (extra
        generations) lasts, else `MusicQualityError` naming the best of the rejected tracks.
        """
        attempts = (*recorded.attempts, attempt_summary(recorded, rejected.manifest))
        if len(recorded.attempts) >= budget:
            # Failing for good: clearing this task instance later is a request for new music, not
            # for judging the same track again.
            self._forget(context)
            raise budget_spent(attempts, budget)
        from airflow_provider_music.integration._record import GenerationRecord

        # Durable before the POST: a retry after a crash counts this attempt and never exceeds the budget.
        GenerationRecord(context).set(replace(recorded, attempts=attempts))
        self.log.warning(
            "Generation %s failed the quality gate; regenerating: extra generation %d of %d "
            "(a paid POST; the rejected track is kept at %s)",
            recorded.generation_id, len(attempts), budget, rejected.manifest.get("uri"),
        )  # fmt: skip
        return self._submit(context)

    def _forget(self, context: Context) -> None:
        from airflow_provider_music.integration._record import GenerationRecord

        GenerationRecord(context).clear()


def attempt_summary(recorded: RecordedGeneration, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What a manifest records of a rejected generation: its id, cost, where it is kept, why it failed."""
    quality = manifest.get("quality") or {}
    failures = [f.get("message") for f in quality.get("failures", []) if isinstance(f, Mapping)]
    return {
        "generation_id": recorded.generation_id,
        "usage": dict(recorded.usage) if recorded.usage is not None else None,
        "client_request_id": recorded.client_request_id,
        "uri": manifest.get("uri"),
        "sha256": manifest.get("sha256"),
        "failures": failures,
        "rank": list(quality.get("rank") or [len(failures), 0.0]),
    }


def budget_spent(attempts: tuple[Mapping[str, Any], ...], budget: int) -> MusicQualityError:
    """The error once every allowed generation failed: it names the best track and why it failed."""
    best = min(attempts, key=lambda a: tuple(a.get("rank") or (len(a.get("failures") or ()), 0.0)))
    reasons = "\n".join(f"- {text}" for text in best.get("failures") or ())
    kept = ", ".join(str(a.get("uri")) for a in attempts)
    return MusicQualityError(
        f"None of the {len(attempts)} generation(s) passed the quality gate (max_regenerations={budget} "
        f"spent). The best is generation {best['generation_id']}, kept at {best['uri']}:\n{reasons}\n"
        f"Every rejected track is kept with its manifest: {kept}",
        manifest={**best, "attempts": [dict(a) for a in attempts]},
    )


def wait_here(
    hook: MusicGenerationHook, generation_id: str, poll_interval: float, timeout: float, log: Any
) -> Generation:
    """Poll from the worker (``deferrable=False``) until the generation is terminal or the deadline."""
    from airflow_provider_music.integration._progress import PollProgress

    progress = PollProgress(generation_id, log)
    started = time.monotonic()
    while True:
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            raise MusicTimeoutError(
                f"Generation {generation_id} was still pending after waiting {timeout:.0f}s "
                f"({progress.polls} polls)"
            )
        time.sleep(min(poll_interval, remaining))
        generation = hook.get_generation(generation_id)
        progress.observe(generation.raw_status)
        if generation.status.is_terminal():
            return generation
