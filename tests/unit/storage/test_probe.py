"""The check before paying, on local folders: the nearest existing ancestor must be a writable folder."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.storage import probe_folder

NOBODY = 65534  # the unprivileged user and group of Debian and most Linux systems


def _probe(path: Path) -> None:
    folder = ObjectStoragePath(f"file://{path}")
    probe_folder(folder, folder.fs, conn_id=None)


def test_an_existing_or_creatable_folder_passes(tmp_path: Path) -> None:
    _probe(tmp_path)
    _probe(tmp_path / "a" / "b")  # created when the audio is stored
    assert list(tmp_path.iterdir()) == []  # the check itself creates nothing


def test_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x")
    with pytest.raises(MusicInputError, match=r"cannot be created: .*/a is a file, not a folder"):
        _probe(tmp_path / "a" / "b")


def test_a_folder_this_worker_cannot_write_into_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(MusicInputError, match="This worker cannot write into"):
            _probe(locked / "out")
        return
    # Root writes anywhere, and os.access asks as the real user: probe in a child that is `nobody`, in a
    # folder root owns and nobody may write into (its parents open to all, so the walk up stops there).
    base = Path(tempfile.mkdtemp(prefix="music-probe-"))
    try:
        base.chmod(0o755)
        locked = base / "locked"
        locked.mkdir(mode=0o555)
        with warnings.catch_warnings():  # 3.12+ warns of fork in a threaded process: the child only probes
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            code = 3
            try:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                _probe(locked / "out")
                code = 1
            except MusicInputError as err:
                code = 0 if "This worker cannot write into" in str(err) else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0  # 1: not refused, 2: another refusal, 3: crashed
    finally:
        shutil.rmtree(base, ignore_errors=True)
