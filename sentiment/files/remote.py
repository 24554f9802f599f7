"""Files on cloud storage (``s3://``, ``az://``, ...) through fsspec.

Inputs are opened as binary streams, read block by block, never downloaded
whole. Outputs are written to a local temporary file first and uploaded whole
with one ``put`` only when complete: an object store shows an object only
once its upload (single or multipart) completes, so a failed run leaves the
object that was there, never half of a new one. Credentials are the SDKs'
own (``AWS_*`` variables, ``~/.aws``, ``AZURE_STORAGE_CONNECTION_STRING``,
``FSSPEC_S3_ENDPOINT_URL``...): this module reads no setting itself.

The SDKs are the optional extra ``cloud`` (requirements-cloud.txt).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

from sentiment.files.formats import _SNIFF_BYTES as SNIFF_BYTES
from sentiment.files.formats import DataError, TableFormat, detect_format

# A scheme and "://"; "file://" is a local path and goes the local way.
_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

INSTALL_HINT = "pip install -r requirements-cloud.txt"

# Bytes fetched per ranged GET when reading an input: what one open input holds
# in memory (s3fs's default, 50 MiB, is more than scoring needs).
READ_BLOCK_BYTES = 8 * 2**20


class RemoteError(DataError):
    """A URL cannot be used: no SDK for its scheme, or a malformed URL."""


def is_url(path: object) -> bool:
    """True for ``s3://bucket/key``-style strings (not for local paths or file://)."""
    text = str(path) if isinstance(path, (str, Path)) else ""
    return bool(_URL_RE.match(text)) and not text.lower().startswith("file://")


def path_or_url(text: str) -> Path | str:
    """An argparse type: a URL stays a string (Path would fold its "//")."""
    return text if is_url(text) else Path(text)


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` and the path inside it.

    Raises RemoteError naming the extra to install when the SDK is missing.
    """
    try:
        import fsspec.core

        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as error:
        raise RemoteError(
            f"{url}: reading and writing cloud storage needs the cloud extra "
            f"({error}). Install it with `{INSTALL_HINT}`."
        ) from error
    except ValueError as error:  # an unknown scheme
        raise RemoteError(f"{url}: {error}") from error
    if not path.strip("/"):
        raise RemoteError(f"{url} names no object: give bucket/container and key.")
    return fs, path


def open_input(url: str) -> BinaryIO:
    """``url`` opened for reading as a binary stream (read on demand, in blocks).

    Raises FileNotFoundError (an OSError) when there is no such object.
    """
    fs, path = filesystem(url)
    if not _is_file(fs, path, url):
        raise FileNotFoundError(f"{url} does not exist or is not a file.")
    return fs.open(path, "rb", block_size=READ_BLOCK_BYTES)


def _is_file(fs: Any, path: str, url: str) -> bool:
    """Whether the object exists; an SDK error (access denied) names the URL."""
    try:
        return bool(fs.isfile(path))
    except OSError as error:
        raise OSError(f"Cannot read {url}: {error}") from error


def is_object(url: str) -> bool:
    """Whether an object exists at ``url`` (an SDK error names the URL)."""
    fs, path = filesystem(url)
    return _is_file(fs, path, url)


def size(url: str) -> int:
    """The size of the object at ``url`` in bytes."""
    fs, path = filesystem(url)
    return int(fs.size(path))


def read_head(url: str, limit: int) -> bytes:
    """The first ``limit`` bytes of ``url`` (the whole object if shorter)."""
    with open_input(url) as handle:
        return handle.read(limit)


def deliver(url: str, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a local temporary file, then upload it whole to ``url``.

    Nothing is uploaded when ``write`` raises, so an existing object at
    ``url`` stays as it was; the temporary file is always removed.
    """
    fs, path = filesystem(url)
    with tempfile.TemporaryDirectory(prefix="sentiment-upload-") as folder:
        tmp = Path(folder) / Path(path).name
        tmp.touch()
        write(tmp)
        _put(fs, tmp, path, url)


def upload_files(files: Iterable[Path], url_folder: str) -> list[str]:
    """Upload each local file to ``url_folder``/its name, in the order given;
    return the URLs written."""
    written = []
    for file in files:
        url = f"{url_folder.rstrip('/')}/{file.name}"
        fs, path = filesystem(url)
        _put(fs, file, path, url)
        written.append(url)
    return written


def _put(fs: Any, local: Path, path: str, url: str) -> None:
    """Upload ``local`` whole; an SDK error names the URL it was for."""
    try:
        fs.put_file(str(local), path)
    except OSError as error:  # no such bucket, access denied...
        raise OSError(f"Cannot upload to {url}: {error}") from error


def download(urls: Iterable[str], folder: Path, optional: bool = False) -> list[Path]:
    """Copy each object into ``folder`` (under its own name); return the paths.

    A missing object raises FileNotFoundError, or is skipped when ``optional``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fetched = []
    for url in urls:
        fs, path = filesystem(url)
        if not _is_file(fs, path, url):
            if optional:
                continue
            raise FileNotFoundError(f"{url} does not exist or is not a file.")
        local = folder / Path(path).name
        fs.get_file(path, str(local))
        fetched.append(local)
    return fetched


def read_object(url: str) -> bytes:
    """The whole object at ``url``, fetched now (never from a listing cache).

    For small objects (a pointer); raises FileNotFoundError when it is absent.
    """
    fs, path = filesystem(url)
    try:
        return bytes(fs.cat_file(path))
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{url} does not exist.") from error
    except OSError as error:
        raise OSError(f"Cannot read {url}: {error}") from error


def write_object(url: str, data: bytes) -> None:
    """Write ``data`` to ``url`` with one PUT: readers see the old object or
    the new one, never a mix (S3 and Azure Blob replace an object atomically)."""
    fs, path = filesystem(url)
    try:
        fs.pipe_file(path, data)
    except OSError as error:
        raise OSError(f"Cannot upload to {url}: {error}") from error


def list_objects(url_prefix: str) -> list[str]:
    """The URLs of every object under ``url_prefix``, listed now, sorted."""
    fs, path = filesystem(url_prefix)
    fs.invalidate_cache()  # s3fs keeps listings: another process may have written
    scheme = url_prefix.split("://", 1)[0]
    try:
        return sorted(f"{scheme}://{key}" for key in fs.find(path))
    except FileNotFoundError:  # adlfs: no such container
        return []


def glob_urls(pattern: str) -> list[str]:
    """The URLs of the objects matching a glob URL (``s3://b/in/*.csv``), sorted."""
    fs, path = filesystem(pattern)
    fs.invalidate_cache()
    scheme = pattern.split("://", 1)[0]
    return sorted(f"{scheme}://{key}" for key in fs.glob(path) if fs.isfile(key))


# Inputs and outputs may be URLs or local paths: a URL is kept as a str, a
# local path is a Path, and these open either.
def local_or_url(path: str | Path) -> str | Path:
    """``path`` as a URL string when it is one, else as a Path."""
    return str(path) if is_url(path) else Path(path)


def detect_source_format(
    source: str | Path, delimiter: str | None = None
) -> TableFormat:
    """The input's format; for a URL, from its first block only (not downloaded)."""
    if isinstance(source, str):
        head = read_head(source, SNIFF_BYTES)
        return detect_format(head, name=source, delimiter=delimiter)
    return detect_format(source, delimiter=delimiter)


def open_source(source: str | Path) -> BinaryIO:
    """The input as a binary stream: a local file, or an object read in blocks."""
    return open_input(source) if isinstance(source, str) else open(source, "rb")


def parent_url(url: str) -> str:
    """``s3://bucket/a/b.pkl`` -> ``s3://bucket/a``."""
    return url.rstrip("/").rsplit("/", 1)[0]


def url_name(url: str) -> str:
    """The last part of ``url``: ``s3://bucket/a/b.pkl`` -> ``b.pkl``."""
    return url.rstrip("/").rsplit("/", 1)[-1]
