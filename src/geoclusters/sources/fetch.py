"""HTTP downloads into a per-user cache, with checksums.

Two ways down, one behaviour: a timeout, a bounded number of retries with
exponential backoff on server errors (5xx), dropped connections, timeouts and
truncated bodies, and a :class:`~geoclusters.errors.DownloadError` that names
the URL, the last failure and the local-file override to use offline.

- :func:`download` fetches a file into the cache with :mod:`pooch` (what
  scipy's and geodatasets' data use): pooch streams the body into a temporary
  file beside the target, checks a pinned SHA-256 and renames the file into
  place only when it is complete and right, so a download killed halfway
  leaves nothing that looks complete. A sidecar JSON file records the URL,
  SHA-256, size and download time; a cached file whose checksum no longer
  matches its sidecar is downloaded again.
- :func:`fetch` performs the small paged API requests (NOMIS pages, ArcGIS
  query pages), whose bodies are checked and then written with :func:`store`
  (temporary file, then rename, then sidecar).

The cache lives in ``$GEOCLUSTERS_CACHE`` if set, else
``$XDG_CACHE_HOME/geoclusters``, else ``~/.cache/geoclusters``.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pooch
import requests

from ..errors import DownloadError

USER_AGENT = "geoclusters (+https://pypi.org/project/geoclusters/)"
_CHUNK = 1 << 16
# Query parameters that carry credentials; they never reach a cache file
# name, a sidecar or an error message.
_SECRET_PARAMS = frozenset({"uid", "token", "key", "apikey", "api_key"})

HINT = (
    "check your connection and try again, or download the file by hand and pass it as "
    "source= (or put it under the GEOCLUSTERS_DATA directory)"
)


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the download cache directory, creating it if needed.

    Parameters
    ----------
    path : path, optional
        An explicit directory; wins over the environment.

    Returns
    -------
    pathlib.Path
        ``path``, else ``$GEOCLUSTERS_CACHE``, else
        ``$XDG_CACHE_HOME/geoclusters``, else ``~/.cache/geoclusters``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     cache_dir(tmp).is_dir()
    True
    """
    if path is None:
        configured = os.environ.get("GEOCLUSTERS_CACHE")
        if configured:
            path = configured
        else:
            xdg = os.environ.get("XDG_CACHE_HOME")
            base = Path(xdg) if xdg else Path.home() / ".cache"
            path = base / "geoclusters"
    directory = Path(path).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def redact(url: str) -> str:
    """Return ``url`` with credential parameters (``uid`` and the like) masked.

    Examples
    --------
    >>> redact("https://example.org/data.csv?date=latest&uid=0x1234")
    'https://example.org/data.csv?date=latest&uid=***'
    """
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, "***" if k.lower() in _SECRET_PARAMS else v)
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="*")))


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp, "x.txt")
    ...     _ = p.write_bytes(b"abc")
    ...     sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(
    url: str,
    out: BinaryIO | None = None,
    *,
    timeout: float = 60,
    retries: int = 3,
    backoff: float = 0.5,
    headers: dict[str, str] | None = None,
) -> bytes | int:
    """GET a URL, retrying transient failures, and check the body is complete.

    Parameters
    ----------
    url : str
        The address (``http``, ``https`` or ``file``).
    out : binary file, optional
        Stream the body into this file instead of returning it. It is
        truncated before every attempt, so a failed attempt leaves nothing
        behind in it.
    timeout : float, default 60
        Seconds to wait for the connection and for each read.
    retries : int, default 3
        Further attempts after a 5xx answer, a refused or dropped connection,
        a timeout or a truncated body. 4xx answers are not retried.
    backoff : float, default 0.5
        Seconds before the first retry; doubled for each further one.
    headers : dict, optional
        Extra request headers.

    Returns
    -------
    bytes or int
        The body, or the number of bytes written to ``out``.

    Raises
    ------
    DownloadError
        When every attempt failed; the message names the URL (credentials
        masked), the last failure and what to do.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp, "hello.txt")
    ...     _ = p.write_text("hello")
    ...     fetch(p.as_uri())
    b'hello'
    """
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    sink = out if out is not None else io.BytesIO()
    problem = "no attempt was made"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        sink.seek(0)
        sink.truncate()
        try:
            written = _read_into(request, sink, timeout)
        except urllib.error.HTTPError as error:
            problem = f"the server answered HTTP {error.code} {error.reason}"
            error.close()
            if error.code < 500:
                break
        except _Truncated as error:
            problem = str(error)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError | socket.timeout):
                problem = f"no answer within {timeout:g} s (timed out)"
            else:
                problem = f"the connection failed ({reason})"
            # Only a dropped or refused connection or an unknown host may
            # come right on a later attempt; a missing file or a bad
            # certificate will not.
            transient = (ConnectionError, TimeoutError, socket.gaierror, http.client.HTTPException)
            if not isinstance(reason, transient):
                break
        else:
            if out is None:
                return sink.getvalue()
            return written
    sink.seek(0)
    sink.truncate()
    attempts = f"after {attempt + 1} attempt{'s' if attempt else ''}"
    raise DownloadError(f"download of {redact(url)} failed {attempts}: {problem}; {HINT}")


class _Truncated(Exception):
    """The body ended before the length the server announced."""


def _read_into(request: urllib.request.Request, sink: BinaryIO, timeout: float) -> int:
    with urllib.request.urlopen(request, timeout=timeout) as response:
        announced = response.headers.get("Content-Length")
        written = 0
        try:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                sink.write(chunk)
                written += len(chunk)
        except http.client.IncompleteRead as error:
            written += len(error.partial)
            raise _Truncated(
                f"the body was cut off after {written} bytes"
                + (f" of {announced}" if announced else "")
            ) from error
    # urllib already raises IncompleteRead for a short body on most paths;
    # the explicit check also covers readers that stop quietly at EOF.
    if announced is not None and announced.isdigit() and int(announced) != written:
        raise _Truncated(f"the body was cut off after {written} bytes of {announced}")
    return written


def cache_path(
    url: str,
    subdir: str = "",
    name: str | None = None,
    cache: str | os.PathLike | None = None,
) -> Path:
    """Where :func:`download` keeps ``url``: a readable stem plus a hash of the URL.

    Credentials are left out of the hash, so changing the NOMIS key does not
    empty the cache.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     cache_path("https://example.org/a/b.csv?x=1", "demo", cache=tmp).name
    'b-0ddce93b3bbc.csv'
    """
    clean = redact(url)
    if name is None:
        last = urllib.parse.urlsplit(clean).path.rstrip("/").rsplit("/", 1)[-1] or "download"
        stem, dot, ext = last.partition(".")
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem)[:60] or "download"
        ext = re.sub(r"[^A-Za-z0-9.]+", "", ext)
        name = f"{stem}-{hashlib.sha256(clean.encode()).hexdigest()[:12]}" + (
            f".{ext}" if dot and ext else ""
        )
    directory = cache_dir(cache) / subdir if subdir else cache_dir(cache)
    return directory / name


def sidecar_path(path: str | os.PathLike) -> Path:
    """The JSON file that records where a cached file came from."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def cached(path: str | os.PathLike, sha256: str | None = None) -> bool:
    """Whether ``path`` is a complete, uncorrupted cached download.

    True when the file and its sidecar exist, the file's SHA-256 and size
    match the sidecar and, if given, the expected ``sha256``.
    """
    path = Path(path)
    side = sidecar_path(path)
    if not (path.is_file() and side.is_file()):
        return False
    try:
        record = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    actual = sha256_file(path)
    ok = actual == record.get("sha256") and path.stat().st_size == record.get("size")
    if ok and sha256 is not None:
        ok = actual == sha256.lower()
    if not ok:
        warnings.warn(
            f"cached file {path} does not match its recorded checksum; downloading it again",
            stacklevel=3,
        )
    return ok


def download(
    url: str,
    *,
    subdir: str = "",
    name: str | None = None,
    cache: str | os.PathLike | None = None,
    sha256: str | None = None,
    refresh: bool = False,
    timeout: float = 60,
    retries: int = 3,
    backoff: float = 0.5,
) -> Path:
    """Download ``url`` into the cache once, and reuse it while its checksum holds.

    Parameters
    ----------
    url : str
        The address.
    subdir : str, optional
        Subdirectory of the cache (``"ons"``, ``"nomis"``).
    name : str, optional
        File name in the cache; by default derived from the URL.
    cache : path, optional
        Cache directory (see :func:`cache_dir`).
    sha256 : str, optional
        Expected SHA-256 of a pinned file; a download that does not match is
        deleted and an error raised.
    refresh : bool, default False
        Download again even if a good copy is cached.
    timeout, retries, backoff
        As for :func:`fetch`.

    Returns
    -------
    pathlib.Path
        The cached file.

    Raises
    ------
    DownloadError
        If the download fails or does not match ``sha256``; no partial file
        is left in the cache.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     src = pathlib.Path(tmp, "src.txt")
    ...     _ = src.write_text("counts")
    ...     path = download(src.as_uri(), cache=pathlib.Path(tmp, "cache"))
    ...     path.read_text(), sidecar_path(path).exists()
    ('counts', True)
    """
    path = cache_path(url, subdir, name, cache)
    if not refresh and cached(path, sha256):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # pooch trusts a file that is already there when no hash is pinned; the
    # sidecar said it is stale, so it goes first.
    path.unlink(missing_ok=True)
    sidecar_path(path).unlink(missing_ok=True)
    if urllib.parse.urlsplit(url).scheme in ("http", "https"):
        _retrieve(url, path, sha256, timeout=timeout, retries=retries, backoff=backoff)
        digest, size = sha256_file(path), path.stat().st_size
    else:
        digest, size = _download_other(url, path, sha256, timeout, retries, backoff)
    write_sidecar(path, url, digest, size)
    return path


def _retrieve(url: str, path: Path, sha256, *, timeout, retries, backoff) -> None:
    """Download ``url`` to ``path`` with pooch, retrying what may come right."""
    downloader = pooch.HTTPDownloader(
        progressbar=False, timeout=timeout, headers={"User-Agent": USER_AGENT}
    )
    known = f"sha256:{sha256.lower()}" if sha256 else None
    problem = "no attempt was made"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            pooch.retrieve(
                url, known_hash=known, fname=path.name, path=path.parent, downloader=downloader
            )
            return
        except requests.HTTPError as error:
            response = error.response
            code = response.status_code if response is not None else 0
            problem = f"the server answered HTTP {code} {getattr(response, 'reason', '')}".strip()
            if code < 500:
                break
        except requests.exceptions.ChunkedEncodingError as error:
            problem = _cut_off(error)
        except requests.Timeout:
            problem = f"no answer within {timeout:g} s (timed out)"
        except requests.ConnectionError as error:
            text = str(error)
            problem = (
                f"no answer within {timeout:g} s (timed out)"
                if "timed out" in text.lower()
                else f"the connection failed ({_first_line(text)})"
            )
        except ValueError as error:  # pooch: the pinned hash does not match
            found = re.search(r"\(([0-9a-f]{64})\)", str(error))
            raise DownloadError(
                f"download of {redact(url)} has SHA-256 {found.group(1) if found else '(other)'}, "
                f"expected {sha256}; the publisher may have replaced the file: check it and "
                "update the pinned checksum"
            ) from error
    attempts = f"after {attempt + 1} attempt{'s' if attempt else ''}"
    raise DownloadError(f"download of {redact(url)} failed {attempts}: {problem}; {HINT}")


def _cut_off(error: Exception) -> str:
    found = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)", str(error))
    if found:
        got, more = int(found.group(1)), int(found.group(2))
        return f"the body was cut off after {got} bytes of {got + more}"
    return f"the body was cut off ({_first_line(str(error))})"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "no detail"


def _download_other(url, path: Path, sha256, timeout, retries, backoff) -> tuple[str, int]:
    """``file:`` and other schemes pooch does not fetch: stream, check, rename."""
    handle = tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
    )
    try:
        with handle:
            size = fetch(url, handle, timeout=timeout, retries=retries, backoff=backoff)
        digest = sha256_file(handle.name)
        if sha256 is not None and digest != sha256.lower():
            raise DownloadError(
                f"download of {redact(url)} has SHA-256 {digest}, expected {sha256}; the "
                "publisher may have replaced the file: check it and update the pinned checksum"
            )
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return digest, size


def write_sidecar(path: str | os.PathLike, url: str, sha256: str, size: int) -> Path:
    """Record where a cached file came from, atomically, next to it."""
    record = {
        "url": redact(url),
        "sha256": sha256,
        "size": size,
        "downloaded": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    side = sidecar_path(path)
    part = side.with_name(f".{side.name}.part")
    part.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(part, side)
    return side


def store(path: str | os.PathLike, data: bytes, url: str) -> Path:
    """Write ``data`` into the cache at ``path`` atomically, with its sidecar."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.write_bytes(data)
    os.replace(part, path)
    write_sidecar(path, url, hashlib.sha256(data).hexdigest(), len(data))
    return path
