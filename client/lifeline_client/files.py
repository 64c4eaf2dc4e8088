"""The file system for the representative: folder listings, sending a file (or a folder,
zipped) to the appliance by HTTP PUT in chunks that resume from what the appliance has
(HEAD's X-Received), and fetching a file by GET with Range into `<name>.part`, renamed to
a name nothing has yet."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import ssl
import stat
import string
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import msgspec
from lifeline_protocol.computer import MAX_LISTING, MAX_PATH, MAX_TEXT, DirEntry, Listing

from lifeline_client.start import Site

CHUNK = 1024 * 1024  # bytes of one PUT (the contract's limit)
HTTP_TIMEOUT = 30.0
ATTEMPTS = 8  # tries of one transfer through dropped connections
MAX_ZIP = 2 * 1024**3  # a folder zipped for sending stops here (the appliance's own limit is lower)
READ = 256 * 1024


class FileError(Exception):
    """What the representative is told: the text of a `failed` answer."""


def home() -> str:
    return str(Path.home())


def normalise(path: str | None) -> str:
    """An absolute, normalised path; a relative one is taken from the home folder."""
    if path is None:
        return home()
    if "\0" in path or len(path) > MAX_PATH:
        raise FileError("Not a valid path")
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        path = os.path.join(home(), path)
    return os.path.normpath(path)


def roots() -> list[str]:
    if sys.platform == "win32":
        return [f"{letter}:\\" for letter in string.ascii_uppercase if os.path.exists(f"{letter}:\\")]
    return ["/", home()]


def _kind(entry: os.DirEntry[str]) -> str:
    try:
        if entry.is_symlink():
            return "link"
        if entry.is_dir():
            return "folder"
        if entry.is_file():
            return "file"
    except OSError:
        pass
    return "other"


def list_folder(path: str | None) -> Listing:
    folder = normalise(path)
    entries: list[DirEntry] = []
    truncated = False
    try:
        with os.scandir(folder) as found:
            for entry in found:
                if len(entries) >= MAX_LISTING:
                    truncated = True
                    break
                kind = _kind(entry)
                size, modified = 0, 0.0
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    size = info.st_size if stat.S_ISREG(info.st_mode) else 0
                    modified = info.st_mtime
                entries.append(DirEntry(name=entry.name[:MAX_TEXT], kind=kind, size=max(size, 0), modified=modified))  # type: ignore[arg-type]
    except FileNotFoundError:
        raise FileError(f"No such folder {folder}") from None
    except NotADirectoryError:
        raise FileError(f"No such folder {folder}") from None
    except PermissionError:
        raise FileError(f"Permission denied: {folder}") from None
    except OSError as error:
        raise FileError(f"{folder}: {error.strerror or error}") from None
    entries.sort(key=lambda e: (e.kind != "folder", e.name.lower()))
    parent = os.path.dirname(folder)
    return Listing(
        path=folder,
        parent=None if parent == folder else parent,
        entries=entries,
        truncated=truncated,
        roots=roots(),
    )


def fit(listing: Listing, limit: int) -> Listing:
    """At most `limit` bytes encoded (a message's limit): long names in a full folder are cut
    off at the end, and the listing says it is truncated."""
    encoder = msgspec.json.Encoder()
    while len(encoder.encode(listing)) > limit and listing.entries:
        listing = msgspec.structs.replace(listing, entries=listing.entries[: len(listing.entries) // 2], truncated=True)
    return listing


# --- HTTP ----------------------------------------------------------------------------------


class Transfers:
    """HTTP to /client/transfers/<id> with the customer's token (blocking: run in threads)."""

    def __init__(self, site: Site, context: ssl.SSLContext, token: str) -> None:
        self._site = site
        self._context = context
        self._token = token

    def _request(
        self, method: str, transfer: str, headers: dict[str, str], body: bytes | None = None
    ) -> http.client.HTTPResponse:
        connection = self._site.connection(self._context, HTTP_TIMEOUT)
        connection.request(
            method,
            f"/client/transfers/{transfer}",
            body=body,
            headers={"Authorization": f"Bearer {self._token}", "User-Agent": "lifeline-client", **headers},
        )
        response = connection.getresponse()
        response.connection = connection  # type: ignore[attr-defined]  # closed by the caller
        return response

    def received(self, transfer: str) -> int:
        response = self._request("HEAD", transfer, {})
        with contextlib.closing(response.connection):  # type: ignore[attr-defined]
            _check(response, response.read(4096))
            value = response.getheader("X-Received", "0")
        return int(value) if value.isdigit() else 0

    def put(self, transfer: str, start: int, chunk: bytes, total: int) -> int:
        """Send one chunk; the bytes the appliance has now. A chunk it already has (the answer
        to an earlier try was lost) is answered 416 with what it has: go on from there."""
        ranged = f"bytes {start}-{start + len(chunk) - 1}/{total}" if chunk else f"bytes */{total}"
        response = self._request(
            "PUT",
            transfer,
            {"Content-Range": ranged, "Content-Type": "application/octet-stream", "Content-Length": str(len(chunk))},
            chunk,
        )
        with contextlib.closing(response.connection):  # type: ignore[attr-defined]
            body = response.read(64 * 1024)
            received = response.getheader("X-Received", "")
            if response.status == 416 and received.isdigit():
                return int(received)
            _check(response, body)
        return int(received) if received.isdigit() else start + len(chunk)

    def get(self, transfer: str, start: int, into: Callable[[bytes], None]) -> None:
        headers = {"Range": f"bytes={start}-"} if start else {}
        response = self._request("GET", transfer, headers)
        with contextlib.closing(response.connection):  # type: ignore[attr-defined]
            if response.status >= 300:
                _check(response, response.read(4096))
            if start and response.status != 206:
                raise FileError("The appliance did not resume the transfer")
            while chunk := response.read(READ):
                into(chunk)


def _check(response: http.client.HTTPResponse, body: bytes) -> None:
    """A refusal in the appliance's words (its JSON `error`) where it gives them."""
    if response.status < 300:
        return
    try:
        said = json.loads(body).get("error", "") if body else ""
    except (ValueError, AttributeError):
        said = ""
    if said and isinstance(said, str):
        raise FileError(f"The appliance refused the transfer: {said[:300]}")
    if response.status == 413:
        raise FileError("The file is larger than the appliance accepts")
    if response.status in (401, 403, 404, 410):
        raise FileError("The appliance no longer expects this transfer")
    raise FileError(f"The appliance refused the transfer ({response.status})")


def send(transfers: Transfers, transfer: str, path: str, cancelled: Callable[[], bool]) -> dict[str, object]:
    """Upload the file (a folder zipped first) at `path` to the appliance."""
    source = normalise(path)
    if os.path.isdir(source):
        with tempfile.TemporaryDirectory(prefix="lifeline-") as scratch:
            zipped = os.path.join(scratch, (os.path.basename(source) or "folder") + ".zip")
            _zip(source, zipped, cancelled)
            return _send_file(transfers, transfer, zipped, cancelled)
    return _send_file(transfers, transfer, source, cancelled)


def _zip(folder: str, target: str, cancelled: Callable[[], bool]) -> None:
    try:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for here, folders, names in os.walk(folder):
                folders.sort()
                for name in sorted(names):
                    if cancelled():
                        raise FileError("The customer took back the file system")
                    full = os.path.join(here, name)
                    if os.path.islink(full) or not os.path.isfile(full):
                        continue
                    with contextlib.suppress(PermissionError):
                        archive.write(full, os.path.relpath(full, folder))
                    if os.path.getsize(target) > MAX_ZIP:
                        raise FileError("The folder is too large to send")
    except PermissionError:
        raise FileError(f"Permission denied: {folder}") from None


def _send_file(transfers: Transfers, transfer: str, path: str, cancelled: Callable[[], bool]) -> dict[str, object]:
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, used across retries)
    except FileNotFoundError:
        raise FileError(f"No such file {path}") from None
    except IsADirectoryError:
        raise FileError(f"No such file {path}") from None
    except PermissionError:
        raise FileError(f"Permission denied: {path}") from None
    with handle:
        total = os.fstat(handle.fileno()).st_size
        attempt = 0
        while True:
            try:
                position = transfers.received(transfer)
                if total == 0:
                    transfers.put(transfer, 0, b"", 0)
                while position < total:
                    if cancelled():
                        raise FileError("The customer took back the file system")
                    handle.seek(position)
                    chunk = handle.read(CHUNK)
                    if not chunk:
                        raise FileError(f"{path} changed while it was being sent")
                    position = transfers.put(transfer, position, chunk, total)
                return {"name": os.path.basename(path), "size": total}
            except (OSError, http.client.HTTPException) as error:
                attempt += 1
                if attempt >= ATTEMPTS:
                    raise FileError(f"The transfer failed: {error}") from None
                time.sleep(min(0.5 * 2**attempt, 10))


def free_name(folder: str, name: str) -> str:
    """`name`, or `name (1).ext`, `name (2).ext` ... the first that is not there."""
    stem, dot, ext = name.rpartition(".") if "." in name.strip(".") else (name, "", "")
    for number in range(10_000):
        candidate = name if number == 0 else f"{stem} ({number}){dot}{ext}"
        if not os.path.lexists(os.path.join(folder, candidate)):
            return candidate
    raise FileError("Too many files of that name")


def plain_name(name: str) -> str:
    if not name or name in (".", "..") or "\0" in name or "/" in name or "\\" in name or len(name) > 255:
        raise FileError("Not a valid file name")
    if sys.platform == "win32" and (":" in name or name.rstrip(". ") != name):
        raise FileError("Not a valid file name")
    return name


def make_folders(base: str, folders: str) -> str:
    """`base/<folders>` ("a/b"), making the folders that are missing. Every part is a plain
    name (no "..", nothing absolute, no NUL), and one that exists must be a real folder, not
    a link: nothing the rep sends lands outside `base`."""
    if not folders:
        return base
    try:
        parts = [plain_name(part) for part in folders.split("/")]
    except FileError:
        raise FileError(f"Not a valid folder name: {folders[:300]!r}") from None
    folder = base
    for part in parts:
        folder = os.path.join(folder, part)
        try:
            os.mkdir(folder)
        except FileExistsError:
            if os.path.islink(folder) or not os.path.isdir(folder):
                raise FileError(f"{folder} is not a folder") from None
        except PermissionError:
            raise FileError(f"Permission denied: {os.path.dirname(folder)}") from None
        except OSError as error:
            raise FileError(f"{folder}: {error.strerror or error}") from None
    return folder


def fetch(
    transfers: Transfers,
    transfer: str,
    path: str,
    name: str,
    size: int,
    cancelled: Callable[[], bool],
    folders: str = "",
) -> dict[str, object]:
    """Download into `<folder>/<name>.part`, then give it a name that does not exist yet;
    `folders` under the folder are made first."""
    folder = normalise(path)
    name = plain_name(name)
    if not os.path.isdir(folder):
        raise FileError(f"No such folder {folder}")
    folder = make_folders(folder, folders)
    if shutil.disk_usage(folder).free < size:
        raise FileError(f"Not enough space in {folder}")
    partial = os.path.join(folder, name + ".part")
    try:
        handle = open(partial, "wb")  # noqa: SIM115 (closed below, used across retries)
    except PermissionError:
        raise FileError(f"Permission denied: {folder}") from None
    try:
        with handle:
            attempt = 0
            while handle.tell() < size or (size == 0 and attempt == 0):

                def write(chunk: bytes) -> None:
                    if cancelled():
                        raise FileError("The customer took back the file system")
                    if handle.tell() + len(chunk) > size:
                        raise FileError("The appliance sent more than the file's size")
                    handle.write(chunk)

                try:
                    transfers.get(transfer, handle.tell(), write)
                    if size == 0:
                        break
                    if handle.tell() < size:
                        raise OSError("the download ended early")
                except (OSError, http.client.HTTPException) as error:
                    attempt += 1
                    if attempt >= ATTEMPTS:
                        raise FileError(f"The transfer failed: {error}") from None
                    time.sleep(min(0.5 * 2**attempt, 10))
        final = _place(partial, folder, name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return {"path": final}


def _place(partial: str, folder: str, name: str) -> str:
    """Rename without ever replacing a file: a hard link fails when the name is taken."""
    for _ in range(100):
        target = os.path.join(folder, free_name(folder, name))
        try:
            if sys.platform == "win32":
                os.rename(partial, target)  # refuses an existing target on Windows
            else:
                os.link(partial, target)
                os.unlink(partial)
            return target
        except FileExistsError:
            continue
    raise FileError("Too many files of that name")
