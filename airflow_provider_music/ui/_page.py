"""
The listening page as HTML: per map index, each manifest (stored, mastered, rejected) with a
player, its waveform and its fields in readable form, then the whole manifest as JSON.

Pure: it turns already-read manifests into text; every value is HTML-escaped, and object addresses
are built from ids only (``objects_base`` + map index + XCom key + object id).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote

from airflow_provider_music.ui._objects import object_entries

TITLE = "Listen"
_CSS = """
:root { color-scheme: light dark; font-family: system-ui, sans-serif; font-size: 14px; }
body { margin: 12px; }
h1 { font-size: 1.2rem; margin: 0 0 4px; } h2 { font-size: 1.05rem; margin: 18px 0 6px; }
h3 { font-size: 1rem; margin: 0 0 8px; }
.muted { opacity: .7; } .card { border: 1px solid #8884; border-radius: 8px; padding: 12px;
  margin: 10px 0; } .rejected { border-color: #d32f2f88; } .mastered { border-color: #2e7d3288; }
audio { width: 100%; margin: 6px 0; } img.waveform { width: 100%; max-height: 160px;
  object-fit: fill; background: #8881; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; } th { text-align: left; width: 14em;
  font-weight: 600; vertical-align: top; } td, th { padding: 3px 6px; border-bottom: 1px solid #8882; }
td { word-break: break-word; } pre { white-space: pre-wrap; word-break: break-word; font-size: 12px; }
.fail { color: #d32f2f; } .pass { color: #2e7d32; }
"""


@dataclass
class TaskInstanceView:
    """What the page shows of one task instance (one map index)."""

    map_index: int
    try_number: int | None
    state: str | None
    manifests: dict[str, Any] = field(default_factory=dict)  # XCom key -> value


def _fmt_number(value: Any, unit: str = "", digits: int = 2) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return f"{value:.{digits}f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _seconds(value: Any) -> str | None:
    return _fmt_number(value, " s", 2)


def _requested_seconds(manifest: Mapping[str, Any], analysis: Mapping[str, Any]) -> str | None:
    requested = analysis.get("requested_seconds")
    if requested is None and isinstance(manifest.get("music_length_ms"), (int, float)):
        requested = manifest["music_length_ms"] / 1000
    if requested is None:
        request = manifest.get("request")
        if isinstance(request, Mapping) and isinstance(request.get("music_length_ms"), (int, float)):
            requested = request["music_length_ms"] / 1000
    return _seconds(requested)


def _cost(usage: Any) -> str:
    if not isinstance(usage, Mapping) or not usage:
        return "not reported by the service"
    parts = []
    if usage.get("usd_spent") is not None:
        parts.append(f"USD {usage['usd_spent']}")
    if usage.get("credits_used") is not None:
        parts.append(f"{usage['credits_used']} credits")
    return ", ".join(parts) or "not reported by the service"


def _quality(quality: Any) -> str | None:
    """HTML (escaped) of the quality gate's verdict and its failures."""
    if not isinstance(quality, Mapping):
        return None
    passed = quality.get("passed")
    verdict = (
        '<span class="pass">passed</span>'
        if passed is True
        else '<span class="fail">failed</span>'
        if passed is False
        else "not checked"
    )
    failures = quality.get("failures")
    items = []
    if isinstance(failures, list):
        for failure in failures:
            if isinstance(failure, Mapping):
                text = failure.get("message") or (
                    f"{failure.get('rule')}: measured {failure.get('measured')}, limit {failure.get('limit')}"
                )
                items.append(f"<li>{escape(str(text))}</li>")
    return verdict + (f"<ul>{''.join(items)}</ul>" if items else "")


def manifest_rows(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The readable fields of a manifest as (label, escaped HTML) rows; absent fields are left out."""
    analysis = manifest.get("analysis") if isinstance(manifest.get("analysis"), Mapping) else {}
    assert isinstance(analysis, Mapping)
    request = manifest.get("request") if isinstance(manifest.get("request"), Mapping) else {}
    assert isinstance(request, Mapping)
    actual = analysis.get("duration_seconds", manifest.get("duration_seconds"))
    plain: list[tuple[str, Any]] = [
        ("Prompt", manifest.get("prompt") or request.get("prompt")),
        ("Model", manifest.get("model") or request.get("model")),
        ("Requested length", _requested_seconds(manifest, analysis)),
        ("Actual length", _seconds(actual)),
        ("Length ratio", _fmt_number(analysis.get("length_ratio"), "", 3)),
        ("Integrated loudness", _fmt_number(analysis.get("integrated_loudness_lufs"), " LUFS", 1)),
        ("Loudness range", _fmt_number(analysis.get("loudness_range_lu"), " LU", 1)),
        ("True peak", _fmt_number(analysis.get("true_peak_dbtp"), " dBTP", 2)),
        ("Sample peak", _fmt_number(analysis.get("sample_peak_dbfs"), " dBFS", 2)),
        ("Leading silence", _seconds(analysis.get("leading_silence_seconds"))),
        ("Trailing silence", _seconds(analysis.get("trailing_silence_seconds"))),
        ("Clipped samples", _fmt_number(analysis.get("clipped_samples"))),
        ("Cost", _cost(manifest.get("usage")) if "usage" in manifest else None),
        ("Generation id", manifest.get("generation_id")),
        ("Client request id", manifest.get("client_request_id")),
        ("Stored at", manifest.get("uri")),
        ("Intended for", manifest.get("intended_uri")),
        ("Format", " ".join(str(v) for v in (manifest.get("format"), manifest.get("content_type")) if v)),
        ("Size", _fmt_number(manifest.get("size_bytes"), " bytes")),
        ("SHA-256", manifest.get("sha256")),
        ("Created at", manifest.get("created_at")),
        ("Sidecar", manifest.get("sidecar_uri")),
    ]
    rows = [(label, escape(str(value))) for label, value in plain if value not in (None, "")]
    quality = _quality(manifest.get("quality"))
    if quality is not None:
        rows.insert(min(len(rows), 12), ("Quality gate", quality))
    source = manifest.get("source")
    if isinstance(source, Mapping) and source.get("uri"):
        rows.append(("Mastered from", escape(str(source.get("uri")))))
    mastering = manifest.get("mastering")
    if isinstance(mastering, Mapping) and mastering:
        text = ", ".join(f"{k}: {v}" for k, v in mastering.items())
        rows.append(("Mastering", escape(text)))
    return rows


def _kind(key: str, manifest: Mapping[str, Any]) -> tuple[str, str]:
    """Heading and CSS class of a manifest."""
    if key == "rejected" or manifest.get("rejected"):
        return "Rejected track", "rejected"
    if isinstance(manifest.get("mastering"), Mapping) or isinstance(manifest.get("source"), Mapping):
        return "Mastered track", "mastered"
    if manifest.get("skipped"):
        return "Kept track (already stored, nothing generated)", "stored"
    return "Stored track", "stored"


def _player(src: str, object_id: str, label: str) -> str:
    return (
        f'<audio controls preload="metadata" data-object="{escape(object_id)}" '
        f'aria-label="{escape(label)}" src="{escape(src)}"></audio>'
    )


def _manifest_card(base: str, map_index: int, key: str, manifest: Mapping[str, Any]) -> str:
    heading, css = _kind(key, manifest)
    objects = object_entries(manifest)
    prefix = f"{base}/{map_index}/{quote(key, safe='')}"
    parts = [f'<section class="card {css}" data-key="{escape(key)}"><h3>{escape(heading)}</h3>']
    if "track" in objects:
        parts.append(_player(f"{prefix}/track", "track", heading))
    if "waveform" in objects:
        parts.append(
            f'<img class="waveform" alt="Waveform of the {escape(heading.lower())}" '
            f'src="{escape(prefix)}/waveform">'
        )
    rows = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in manifest_rows(manifest))
    parts.append(f'<table class="manifest">{rows}</table>')
    if "source" in objects:
        parts.append(f"<h3>Before mastering</h3>{_player(f'{prefix}/source', 'source', 'Before mastering')}")
    attempts = manifest.get("attempts")
    if isinstance(attempts, list) and attempts:
        parts.append(f"<h3>Rejected earlier generations ({len(attempts)})</h3>")
        for number, attempt in enumerate(attempts):
            attempt = attempt if isinstance(attempt, Mapping) else {}
            object_id = f"attempt-{number}"
            label = f"Attempt {number + 1}: generation {attempt.get('generation_id') or 'unknown'}"
            parts.append(f"<p>{escape(label)}</p>")
            if object_id in objects:
                parts.append(_player(f"{prefix}/{object_id}", object_id, label))
            failures = attempt.get("failures")
            if failures:
                parts.append(_quality({"passed": False, "failures": failures}) or "")
    dumped = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    parts.append(f"<details><summary>Manifest</summary><pre>{escape(dumped)}</pre></details></section>")
    return "".join(parts)


def render_page(
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    objects_base: str,
    views: Sequence[TaskInstanceView],
    link_try: int | None = None,
) -> str:
    """The whole page. ``objects_base`` is the escaped-safe path the object ids are appended to."""
    body = [
        f"<h1>{escape(task_id)}</h1>",
        f'<p class="muted">{escape(dag_id)} · {escape(run_id)}</p>',
    ]
    if not views:
        body.append("<p>No task instance here.</p>")
    for view in views:
        if len(views) > 1 or view.map_index >= 0:
            body.append(f'<h2 id="map-index-{view.map_index}">Map index {view.map_index}</h2>')
        note = f"try {view.try_number}" if view.try_number is not None else ""
        if view.state:
            note = f"{note}, {view.state}" if note else view.state
        if link_try is not None and view.try_number is not None and link_try != view.try_number:
            note += f" (the link was made by try {link_try}; this is what the latest try recorded)"
        if note:
            body.append(f'<p class="muted">{escape(note)}</p>')
        shown = False
        for key in ("return_value", "rejected"):
            value = view.manifests.get(key)
            if isinstance(value, Mapping) and (value.get("uri") or value.get("rejected")):
                body.append(_manifest_card(objects_base, view.map_index, key, value))
                shown = True
        if not shown:
            body.append('<p class="empty">This try recorded no track.</p>')
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(TITLE)}: {escape(task_id)}</title>"
        '<meta name="referrer" content="no-referrer">'
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>"
    )
