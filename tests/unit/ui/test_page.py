"""The listening page's HTML: readable manifest fields, players by id, everything escaped."""

from __future__ import annotations

from airflow_provider_music.ui._page import TaskInstanceView, manifest_rows, render_page

STORED = {
    "uri": "s3://bucket/music/track.mp3",
    "generation_id": "gen-1",
    "prompt": "Piano <script>alert(1)</script> & rain",
    "model": "elevenlabs/eleven_music",
    "music_length_ms": 30_000,
    "duration_seconds": 29.5,
    "usage": {"credits_used": 1200, "usd_spent": 0.6},
    "size_bytes": 100,
    "format": "mp3",
    "content_type": "audio/mpeg",
    "analysis": {
        "duration_seconds": 29.48,
        "requested_seconds": 30.0,
        "length_ratio": 0.983,
        "integrated_loudness_lufs": -13.94,
        "true_peak_dbtp": -0.98,
    },
    "quality": {"passed": True, "failures": []},
    "waveform": {"png_uri": "s3://bucket/music/track.png"},
}


def _page(views: list[TaskInstanceView], **kw: object) -> str:
    return render_page(dag_id="d", run_id="r", task_id="t<x>", objects_base="./t", views=views, **kw)  # type: ignore[arg-type]


def test_rows_are_readable() -> None:
    rows = dict(manifest_rows(STORED))
    assert rows["Requested length"] == "30.00 s"
    assert rows["Actual length"] == "29.48 s"
    assert rows["Integrated loudness"] == "-13.9 LUFS"
    assert rows["True peak"] == "-0.98 dBTP"
    assert rows["Cost"] == "USD 0.6, 1200 credits"
    assert rows["Generation id"] == "gen-1"
    assert rows["Stored at"] == "s3://bucket/music/track.mp3"
    assert "passed" in rows["Quality gate"]
    assert "&lt;script&gt;" in rows["Prompt"]


def test_older_manifests_without_analysis() -> None:
    rows = dict(
        manifest_rows(
            {
                "uri": "file:///a.wav",
                "duration_seconds": 10.0,
                "usage": None,
                "request": {"music_length_ms": 10_000, "prompt": "p"},
            }
        )
    )
    assert rows["Actual length"] == "10.00 s"
    assert rows["Requested length"] == "10.00 s"
    assert rows["Cost"] == "not reported by the service"
    assert rows["Prompt"] == "p"
    assert "Integrated loudness" not in rows


def test_page_escapes_and_addresses_objects_by_id() -> None:
    html = _page([TaskInstanceView(-1, 2, "success", {"return_value": STORED})])
    assert "<script>alert" not in html
    assert "t&lt;x&gt;" in html
    assert 'src="./t/-1/return_value/track"' in html
    assert 'src="./t/-1/return_value/waveform"' in html
    assert "Map index" not in html
    assert "try 2, success" in html


def test_rejected_mastered_and_attempts() -> None:
    rejected = {
        **STORED,
        "rejected": True,
        "intended_uri": "s3://bucket/final.mp3",
        "quality": {
            "passed": False,
            "failures": [{"rule": "max_true_peak_dbtp", "measured": 0.2, "limit": -1}],
        },
    }
    mastered = {
        "uri": "s3://bucket/mastered.wav",
        "source": {"uri": "s3://bucket/raw.wav", "sha256": "x"},
        "mastering": {"target_lufs": -14},
        "attempts": [
            {"generation_id": "g0", "uri": "s3://bucket/g0.mp3", "failures": [{"message": "too short"}]}
        ],
    }
    html = _page([TaskInstanceView(-1, 1, "failed", {"return_value": mastered, "rejected": rejected})])
    assert "Mastered track" in html
    assert 'src="./t/-1/return_value/source"' in html
    assert 'src="./t/-1/return_value/attempt-0"' in html
    assert "too short" in html
    assert "Rejected track" in html
    assert 'src="./t/-1/rejected/track"' in html
    assert "max_true_peak_dbtp: measured 0.2, limit -1" in html
    assert "s3://bucket/final.mp3" in html


def test_each_map_index_and_an_empty_try() -> None:
    html = _page(
        [
            TaskInstanceView(0, 1, "success", {"return_value": STORED}),
            TaskInstanceView(1, 3, "failed", {}),
        ],
        link_try=2,
    )
    assert "Map index 0" in html
    assert "Map index 1" in html
    assert "This try recorded no track." in html
    assert "the link was made by try 2" in html
