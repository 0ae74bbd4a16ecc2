"""Downloads of published files: weights kept once in the torch hub cache, and resumable, verified downloads
of large files (the dataset archives of :mod:`gan_style.data.download`).

:func:`download_file` streams to ``<dest>.part``, continues a partial file with an HTTP ``Range`` request,
checks size and sha256 (hashing by :func:`pooch.file_hash`) and renames the file to ``dest`` only when it
matches. Pooch's own download (:func:`pooch.retrieve`) deletes its temporary file on any failure, so it
cannot resume; the HTTP part here is therefore urllib.
"""

from __future__ import annotations

import http.client
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import torch
from tqdm import tqdm

from gan_style.errors import ChecksumError, DownloadError, DownloadSettingError, OfflineError, WeightsUnavailableError

__all__ = [
    "check_sha256",
    "download_file",
    "download_to_hub_cache",
    "file_sha256",
    "hub_cache_path",
    "offline_message",
]

_CHUNK = 1 << 20  # bytes read from the network at a time
_USER_AGENT = "gan-style (dataset download; Python urllib)"


# ------------------------------------------------------------------------------------ torch hub cache


def hub_cache_path(url: str) -> Path:
    """Where the file at ``url`` is kept in the torch hub cache.

    Args:
        url: the published file; only its last path component is used.

    Returns:
        ``$TORCH_HOME/hub/checkpoints/<file name>`` (the folder torchvision and torchmetrics use, so a file
        they downloaded is found here too). The file may not exist.
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def download_to_hub_cache(url: str, what: str, otherwise: str) -> Path:
    """The hub-cache copy of ``url`` (:func:`hub_cache_path`), downloaded with a progress bar when missing.

    The download goes to a temporary file beside the target, renamed when complete (``torch.hub``), so an
    interrupted download leaves no partial file.

    Args:
        url: the published file.
        what: how the error names the file, e.g. ``"the ImageNet VGG-19 weights (vgg19-dcbb9e9d.pth, 548 MB)"``.
        otherwise: the other way to supply the file, appended to the error (a setting naming a local copy).

    Returns:
        The path of the cached file, which exists.

    Raises:
        WeightsUnavailableError: the file is not cached and could not be downloaded (offline, HTTP error, a
            full disk); the message names the URL, the cache path and ``otherwise``.
    """
    path = hub_cache_path(url)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(path), progress=True)
        except Exception as exc:  # URLError, timeouts, HTTP errors, a full disk
            raise WeightsUnavailableError(
                f"{what} are not in the torch hub cache and could not be downloaded from {url} "
                f"({type(exc).__name__}: {exc}). Download that file on a machine with internet access and copy "
                f"it to {path} (the cache folder follows $TORCH_HOME), or {otherwise}"
            ) from None
    return path


# ------------------------------------------------------------------------------------ verified files


def check_sha256(value: str | None) -> str | None:
    """Normalise an expected sha256 given by the user.

    Args:
        value: 64 hexadecimal characters, any case, surrounding spaces allowed; or None.

    Returns:
        ``value`` stripped and in lower case, or None when ``value`` is None.

    Raises:
        DownloadSettingError (a ValueError): ``value`` is not 64 hexadecimal characters.
    """
    if value is None:
        return None
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise DownloadSettingError(f"sha256 must be 64 hexadecimal characters, got {value!r}")
    return value


def file_sha256(path: str | os.PathLike, progress: bool = False) -> str:
    """The sha256 (hex) of a file, computed by :func:`pooch.file_hash`.

    Args:
        path: the file.
        progress: show a ``verifying <name>`` bar on stderr, filled when the hash is done (False).

    Returns:
        64 lower-case hexadecimal characters.

    Raises:
        OSError: the file cannot be read.
    """
    from pooch import file_hash  # imported here: pooch takes ~0.1 s to import and few commands need it

    path = Path(path)
    size = path.stat().st_size
    with tqdm(
        total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=f"verifying {path.name}", disable=not progress
    ) as bar:
        digest = file_hash(str(path), alg="sha256")
        bar.update(size)
    return digest


def _mismatch(path: Path, actual_sha: str, sha256: str | None, expected_size: int | None) -> str | None:
    """A description of how ``path`` differs from the expected size and sha256, or None when it matches."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"its size is {size} bytes, expected {expected_size} bytes (sha256 {actual_sha})"
    if sha256 is not None and actual_sha != sha256:
        return f"its sha256 is {actual_sha}, expected {sha256}"
    return None


def offline_message(
    url: str, dest: str | os.PathLike, reason: str, sha256: str | None = None, then: str = "uses it"
) -> str:
    """The message of an :class:`~gan_style.errors.OfflineError`: what failed and how to continue offline.

    Args:
        url: the address that could not be reached.
        dest: where a copy downloaded elsewhere must be put.
        reason: why the server could not be reached (e.g. ``"timed out"``).
        sha256: the sha256 the copy will be checked against (None: not mentioned).
        then: what the next run does with the file, completing "it checks the file and ..." ("uses it").

    Returns:
        The message; it mentions a non-empty ``<dest>.part`` that the next run resumes.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    kept = ""
    if part.is_file() and part.stat().st_size:
        kept = f" The partial download {part} ({part.stat().st_size} bytes) is kept and resumed next time."
    check = f" against sha256 {sha256}" if sha256 else ""
    return (
        f"could not reach {url} ({reason}); this machine looks offline (or the server is down). To continue "
        f"without network here: download {url} on a machine with internet access, put the file at {dest}, "
        f"and run the same command again: it checks the file{check} and {then} without downloading.{kept}"
    )


# ------------------------------------------------------------------------------------ resumable HTTP


class _Interrupted(Exception):
    """The response stream stopped early (the .part file keeps what arrived)."""

    def __init__(self, reason: str, received: int, total: int | None) -> None:
        super().__init__(reason)
        self.reason, self.received, self.total = reason, received, total


class _Unreachable(Exception):
    """No response at all (DNS, refused, timeout, reset before the headers)."""


def _unreachable_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(reason).__name__}: {reason}"


def _parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); ``bytes */1000`` -> (None, 1000)."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not match:
        return None, None
    start = int(match.group(1)) if match.group(1) is not None else None
    total = int(match.group(2)) if match.group(2) != "*" else None
    return start, total


def _fetch(url: str, dest: Path, part: Path, expected_size: int | None, progress: bool, timeout: float) -> None:
    """One HTTP request that continues ``part`` (Range) or restarts it, until ``part`` holds the whole file.

    Raises _Unreachable (no response), _Interrupted (the stream stopped early) or DownloadError (an HTTP
    error); errors writing the file (a full disk) propagate unchanged.
    """
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # Nothing left after `offset`: complete when the server's size says so, else start over.
            _, total = _parse_content_range(exc.headers.get("Content-Range"))
            exc.close()
            if total == offset or (total is None and expected_size == offset):
                return
            part.unlink()
            return _fetch(url, dest, part, expected_size, progress, timeout)
        exc.close()
        raise DownloadError(
            f"{url} answered HTTP {exc.code} {exc.reason}; the file may have moved. Check the address, or "
            f"download it by other means and put it at {dest}"
        ) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Unreachable(_unreachable_reason(exc)) from None
    with response:
        dest.parent.mkdir(parents=True, exist_ok=True)  # only once the server answered
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if offset and response.status == 206:
            start, total = _parse_content_range(response.headers.get("Content-Range"))
            if start != offset:  # a range we did not ask for: start over
                response.close()
                part.unlink()
                return _fetch(url, dest, part, expected_size, progress, timeout)
            if total is None and length is not None:
                total = offset + length
            mode = "ab"
        elif response.status == 200:
            offset, total, mode = 0, length, "wb"  # no Range support (or a fresh start): from zero
        else:
            raise DownloadError(f"{url} answered HTTP {response.status} {response.reason}, expected 200 or 206")
        announced = total is not None
        if total is None:
            total = expected_size  # the completeness check when the server does not say
        received = offset
        with (
            open(part, mode) as f,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not progress,
            ) as bar,
        ):
            try:
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except (OSError, http.client.HTTPException) as exc:  # reset, timeout, IncompleteRead
                        raise _Interrupted(_unreachable_reason(exc), received, total) from None
                    if not chunk:
                        break
                    f.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            finally:
                f.flush()
                os.fsync(f.fileno())
        if total is not None and received < total:
            raise _Interrupted("the server closed the connection", received, total)
        if announced and received > total:
            raise DownloadError(f"{url} sent {received} bytes but announced {total}; run again to restart")


def download_file(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
) -> str:
    """Download ``url`` to ``dest`` with resume and verification; return the file's sha256.

    Bytes go to ``<dest>.part``; a ``.part`` left by an earlier run is continued with an HTTP
    ``Range: bytes=N-`` request (a 206 answer appends, a 200 answer restarts from zero, a 416 answer
    means the part is already complete when its size equals the server's). The complete file's sha256 is
    computed by :func:`file_sha256`. Only a complete file whose size and sha256 match is renamed to
    ``dest`` (``os.replace``), so ``dest`` is never partial. When ``dest`` already exists it is verified
    and no network is used.

    Args:
        url: http(s) address.
        dest: the final file path; its folder is created once the server answers.
        sha256: expected sha256 (64 hex characters), None: not checked.
        expected_size: expected size in bytes, None: not checked; also the completeness check when the
            server sends no Content-Length.
        progress: show tqdm progress bars on stderr, for the download and the verification (True).
        timeout: seconds to wait for the connection and for each read (60).
        retries: how many times a broken connection is resumed automatically (3), with 0..5 s pauses.

    Returns:
        The sha256 (hex) of ``dest``.

    Raises:
        OfflineError: the server cannot be reached; the message says where to put a copy downloaded
            elsewhere. A partial ``.part`` is kept for the next run.
        DownloadError: an HTTP error (404, ...) or a connection that kept breaking; the ``.part`` file is
            kept and the next call resumes it.
        ChecksumError: size or sha256 differ. A fresh download is moved to ``<dest>.sha256-mismatch``
            (nothing is lost: rename it to ``dest`` and pass its sha256 to accept it; the next call
            downloads afresh); an existing ``dest`` is left untouched.
        DownloadSettingError (a ValueError): ``sha256`` is not 64 hexadecimal characters.
        OSError: writing the file failed (a full disk, no permission).
    """
    sha256 = check_sha256(sha256)
    dest = Path(dest)
    if dest.is_file():
        actual = file_sha256(dest, progress)
        problem = _mismatch(dest, actual, sha256, expected_size)
        if problem:
            raise ChecksumError(
                f"'{dest}' does not match: {problem}. The file was left as it is. If it is damaged or "
                f"incomplete, delete it and run again to download {url}; if you trust it (e.g. the dataset "
                f"was re-published), run again with --sha256 {actual}"
            )
        return actual
    part = dest.with_name(dest.name + ".part")
    attempt = 0
    while True:
        try:
            _fetch(url, dest, part, expected_size, progress, timeout)
            break
        except _Interrupted as exc:
            if attempt >= retries:
                of = f" of {exc.total}" if exc.total is not None else ""
                raise DownloadError(
                    f"the download of {url} broke off after {exc.received}{of} bytes ({exc.reason}); the "
                    f"partial file {part} is kept: run the same command again to resume it"
                ) from None
            time.sleep(min(attempt, 5))
            attempt += 1
        except _Unreachable as exc:
            reason = str(exc)
            raise OfflineError(offline_message(url, dest, reason, sha256), url, reason) from None
    actual = file_sha256(part, progress)
    problem = _mismatch(part, actual, sha256, expected_size)
    if problem:
        bad = dest.with_name(dest.name + ".sha256-mismatch")
        os.replace(part, bad)
        raise ChecksumError(
            f"downloaded {url} but {problem}: the file is damaged or the server's copy changed. It was "
            f"not used; it is kept as {bad}. Run again to download it afresh, or, if you trust this copy "
            f"(e.g. the dataset was re-published), rename it to {dest} and run again with --sha256 {actual}"
        )
    os.replace(part, dest)
    return actual
