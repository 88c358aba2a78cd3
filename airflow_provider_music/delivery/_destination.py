"""
Where a track goes: the destination resolved to a folder plus what is known of the object's name,
checked before anything is paid for, and the object already there (for ``if_exists``).

Airflow's ``ObjectStoragePath`` and ``BaseHook`` are imported where they are used: they pull in
fsspec and universal_pathlib, which DAG parsing (this package is imported by the operators) must not pay.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_music.audio import AUDIO_EXTENSIONS, has_audio_extension
from airflow_provider_music.delivery._options import DeliveryOptions, validate_options
from airflow_provider_music.exceptions import MusicDeliveryError, MusicInputError
from airflow_provider_music.storage import LOCAL_PROTOCOLS as LOCAL_SCHEMES
from airflow_provider_music.storage import find_by_stem, is_local, object_uri, probe_folder
from airflow_provider_music.version_compat import AirflowNotFoundException, storage_path_conn_id

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


@dataclass(frozen=True)
class Destination:
    """
    Where a track goes, resolved from the options: the folder and as much of the name as is known.

    ``name``: the object's full name (the destination ended in an audio extension). ``stem``: the
    name without extension (``object_name``, or a destination whose last segment has no audio
    extension); the extension then follows the audio's format. Neither: a folder, the name is
    derived from the generation id.
    """

    folder: ObjectStoragePath
    name: str | None = None
    stem: str | None = None
    conn_id: str | None = None

    def target(self) -> ObjectStoragePath | None:
        """The object, when its full name is known now."""
        return self.folder / self.name if self.name is not None else None

    def shown(self) -> str:
        """The destination as a URI for messages: no connection id, no credentials."""
        uri = object_uri(self.folder).rstrip("/")
        if self.name is not None:
            return f"{uri}/{self.name}"
        return f"{uri}/{self.stem}.<ext>" if self.stem is not None else f"{uri}/"


#: How Airflow, universal_pathlib and fsspec say that no filesystem serves a scheme.
_NO_FILESYSTEM_MESSAGES = ("No filesystem registered", "Unsupported filesystem", "Protocol not known")
#: Schemes whose filesystem comes with a package: the line that installs it.
_SCHEME_PACKAGES: dict[str, str] = {
    **dict.fromkeys(("s3", "s3a", "s3n"), 'pip install "airflow-provider-music[amazon]"'),
    **dict.fromkeys(("gs", "gcs"), 'pip install "apache-airflow-providers-google" gcsfs'),
    **dict.fromkeys(
        ("abfs", "abfss", "adl", "az"), 'pip install "apache-airflow-providers-microsoft-azure" adlfs'
    ),
}
#: Schemes whose first path segment is a bucket (or container): a bucket without a key is a folder.
_BUCKET_SCHEMES = frozenset({"s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "adl", "az"})


def _split_text_destination(text: str) -> tuple[str, str | None]:
    """The scheme of a string destination and the connection id written into it (``s3://conn@bucket``)."""
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise MusicInputError(f"destination {text!r} is not a valid URI or path: {exc}") from None
    scheme = parts.scheme.lower()
    userinfo, has_userinfo, _ = parts.netloc.rpartition("@")
    if scheme in LOCAL_SCHEMES:
        if scheme and parts.netloc:  # fsspec would read file://host/x as the relative path host/x
            raise MusicInputError(
                f"destination {text!r} names a host ({parts.netloc!r}) in a file URI; for an absolute "
                f"path write three slashes: file:///{parts.netloc}{parts.path}"
            )
        if not parts.path.startswith("/"):
            hint = " ('~' is not expanded)" if parts.path.startswith("~") else ""
            raise MusicInputError(
                f"destination {text!r} is a relative path{hint}: it would resolve against each worker's "
                "working directory, which differs between workers and tries. Give an absolute path, "
                "e.g. '/data/music/' or 'file:///data/music/'"
            )
    return scheme, (userinfo or None) if has_userinfo else None


def resolve_destination(
    destination: Any, storage_conn_id: str | None, object_name: str | None = None
) -> Destination:
    """
    The destination as a folder plus what is known of the object's name (see ``Destination``).

    A string ending in ``/``, a destination with ``object_name``, an ``ObjectStoragePath`` that is an
    existing folder, or a bucket without a key is a folder. A relative local path is refused: it
    would be written under whatever the worker's working directory is while the manifest claimed
    otherwise.
    """
    from airflow.sdk import ObjectStoragePath  # heavy (fsspec, upath): see the module docstring

    url_conn: str | None = None
    if isinstance(destination, ObjectStoragePath):
        path = destination
        url_conn = storage_path_conn_id(path)
        if (path.protocol or "") in LOCAL_SCHEMES and not str(path.path).startswith("/"):
            _split_text_destination(str(path.path))  # raises: a relative local path
        if storage_conn_id and not url_conn:
            path = ObjectStoragePath(str(path), conn_id=storage_conn_id)
        is_folder = object_name is not None or path.is_dir()
    else:
        text = str(destination).strip()
        _, url_conn = _split_text_destination(text)
        path = ObjectStoragePath(text, conn_id=storage_conn_id)
        is_folder = text.endswith("/") or object_name is not None
    conn_id = url_conn or storage_conn_id
    if path.protocol in _BUCKET_SCHEMES and "/" not in str(path.path).strip("/"):
        is_folder = True  # a bucket (or container) without a key
    if is_folder:
        return Destination(path, stem=object_name, conn_id=conn_id)
    name = path.name
    if has_audio_extension(name):
        return Destination(path.parent, name=name, conn_id=conn_id)
    return Destination(path.parent, stem=name, conn_id=conn_id)


def check_destination(
    options: DeliveryOptions, log: logging.Logger | Any = None, *, checked_before: str = ""
) -> Destination:
    """
    Everything about the destination that can be known without the audio, checked before anything is
    paid for (or waited for): the options, an absolute local path, the storage connection exists, the
    storage filesystem can be built (a missing extra names the ``pip install`` line), and one cheap
    call reaches the folder or bucket with the given credentials (see ``storage.probe_folder``).
    Raises ``MusicInputError`` for what only a change of the DAG or the deployment can fix,
    ``MusicDeliveryError`` for a storage that could not be reached (a retry may succeed); their
    message ends with ``checked_before`` (what the failure spared: "this try created no generation").
    """
    try:
        return _check_destination(options, log)
    except (MusicInputError, MusicDeliveryError) as exc:
        if not checked_before:
            raise
        text = str(exc)
        raise type(exc)(text + ("" if text.endswith("\n") else " ") + checked_before) from None


def _check_destination(options: DeliveryOptions, log: logging.Logger | Any) -> Destination:
    validate_options(options)
    dest = options.destination
    if isinstance(dest, str):
        scheme, url_conn = _split_text_destination(dest.strip())
        if scheme not in LOCAL_SCHEMES:
            # Before any ObjectStoragePath exists: building one with a missing connection already logs
            # "switching to empty" and falls back to whatever credentials the worker happens to have.
            for conn_id in dict.fromkeys(c for c in (url_conn, options.storage_conn_id) if c):
                _require_connection(conn_id, scheme)
    resolved, fs = _resolve_with_filesystem(options)
    if not isinstance(dest, str) and not is_local(resolved.folder) and resolved.conn_id:
        _require_connection(resolved.conn_id, resolved.folder.protocol)
    probe_folder(resolved.folder, fs, conn_id=resolved.conn_id)
    if is_local(resolved.folder):
        _refuse_existing_folder(resolved)
    if log is not None:
        log.info("Destination %s checked: it can take the audio", resolved.shown())
    return resolved


def _resolve_with_filesystem(options: DeliveryOptions) -> tuple[Destination, Any]:
    """The destination and its filesystem; a missing filesystem package names its ``pip install`` line."""
    dest = options.destination
    try:
        resolved = resolve_destination(dest, options.storage_conn_id, options.object_name)
        return resolved, resolved.folder.fs
    except MusicInputError:
        raise
    except (ImportError, ValueError) as exc:
        scheme = _scheme_of(dest)
        if isinstance(exc, ImportError) or any(m in str(exc) for m in _NO_FILESYSTEM_MESSAGES):
            raise _missing_filesystem(scheme, exc) from None
        raise MusicInputError(f"The destination cannot be used: {exc}") from None


def _refuse_existing_folder(resolved: Destination) -> None:
    """A local object name that is an existing folder: the write would fail only after the download."""
    for name in (resolved.name, resolved.stem):
        if name is not None and os.path.isdir(os.path.join(str(resolved.folder.path), name)):
            raise MusicInputError(
                f"destination {object_uri(resolved.folder / name)} is an existing folder: end the "
                "destination with '/' to store into it"
            )


def _scheme_of(destination: Any) -> str:
    if isinstance(destination, str):
        return urlsplit(destination.strip()).scheme.lower() if "://" in destination else ""
    return str(getattr(destination, "protocol", "") or "")


def _missing_filesystem(scheme: str, exc: BaseException) -> MusicInputError:
    line = _SCHEME_PACKAGES.get(scheme)
    if line is not None:
        return MusicInputError(
            f"Storing to {scheme}:// needs a package this environment lacks ({exc}). Install it with:\n"
            f"{line}\n"
        )
    return MusicInputError(
        f"No storage filesystem is available for {scheme or 'this'}:// destinations ({exc}); install the "
        "Airflow provider (and fsspec package) that registers it."
    )


def _require_connection(conn_id: str, scheme: str) -> None:
    """A named storage connection must exist: a typo must not fall back to some other credentials."""
    from airflow.sdk import BaseHook  # Airflow's hook machinery: see the module docstring

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise MusicInputError(
            f"The storage connection {conn_id!r} (for the {scheme}:// destination) does not exist; "
            "create it or fix storage_conn_id."
        ) from None


def existing_object(resolved: Destination, options: DeliveryOptions) -> ObjectStoragePath | None:
    """
    With ``if_exists`` ``"skip"`` or ``"fail"``: the object already at the destination, when its name
    is known before the audio is (a full name, or a stem: ``<stem>.<any audio extension>``).
    """
    if options.if_exists == "overwrite":
        return None
    if resolved.name is not None:
        target = resolved.folder / resolved.name
        return target if target.exists() else None
    if resolved.stem is not None:
        return find_by_stem(resolved.folder, resolved.stem, AUDIO_EXTENSIONS)
    return None
