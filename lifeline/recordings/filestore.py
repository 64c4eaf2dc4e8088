"""The file store: files sent in sessions, kept by their SHA-256 under the data directory.

A file is written to a temporary name, flushed to disk and renamed into place, so a crash
never leaves half a file under a real name; the same content is stored once. A file is
placed just before the row that references it commits; what no row references (a crash
or a failed commit in between) is swept once it is older than any write in flight.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK = 64 * 1024
INCOMING = ".incoming-"

# Placing a file and sweeping it never interleave in one process: a sweep that decided a
# file is unreferenced sees it replaced by a new upload of the same content and keeps it.
_placing = threading.Lock()


class FileTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int


@dataclass
class Incoming:
    """A file received under a temporary name: `place` puts it under its SHA-256 (call it in
    the transaction that records it, before the commit); if never placed it is removed."""

    store: FileStore
    temp: str
    sha256: str
    size: int
    placed: bool = field(default=False)

    def place(self) -> StoredFile:
        """Idempotent: a batched write that is run again alone places once."""
        if not self.placed:
            final = self.store.path_for(self.sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            with _placing:
                os.replace(self.temp, final)
            self.placed = True
        return StoredFile(self.sha256, self.size)


class FileStore:
    def __init__(self, root: Path, *, max_size: int = 100 * 1024 * 1024) -> None:
        self.root = root
        self.max_size = max_size

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _start(self) -> tuple[BinaryIO, str]:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=INCOMING)
        return os.fdopen(fd, "wb"), temp

    def _finish(self, handle: BinaryIO, temp: str, digest: str) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        final = self.path_for(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        with _placing:
            os.replace(temp, final)

    def put_bytes(self, data: bytes) -> StoredFile:
        if len(data) > self.max_size:
            raise FileTooLarge(f"files are limited to {self.max_size} bytes")
        handle, temp = self._start()
        try:
            handle.write(data)
            digest = hashlib.sha256(data).hexdigest()
            self._finish(handle, temp, digest)
        except BaseException:
            _discard(handle, temp)
            raise
        return StoredFile(digest, len(data))

    @contextlib.asynccontextmanager
    async def receive(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[Incoming]:
        """The stream, written to a temporary file on disk and hashed; removed on leaving
        unless placed."""
        handle, temp = self._start()
        incoming: Incoming | None = None
        try:
            hasher = hashlib.sha256()
            size = 0
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_size:
                    raise FileTooLarge(f"files are limited to {self.max_size} bytes")
                hasher.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            incoming = Incoming(self, temp, hasher.hexdigest(), size)
            yield incoming
        finally:
            if incoming is None or not incoming.placed:
                _discard(handle, temp)

    async def put_stream(self, chunks: AsyncIterator[bytes]) -> StoredFile:
        async with self.receive(chunks) as incoming:
            return incoming.place()

    def open(self, sha256: str) -> Iterator[bytes]:
        with self.path_for(sha256).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def sweep(self, referenced: Callable[[list[str]], set[str]], *, older_than: float) -> int:
        """Remove files no row references (`referenced` answers which of a batch of digests
        are) and temporary files left by interrupted uploads, if older than `older_than`
        seconds: younger ones may belong to a write not committed yet. Returns how many."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        stale: dict[str, tuple[Path, os.stat_result]] = {}
        for path in self.root.rglob("*"):
            status = _old_file(path, cutoff)
            if status is None:
                continue
            if path.name.startswith(INCOMING):
                removed += _remove_unless_changed(path, status)
            elif len(path.name) == 64 and path.parent.parent.parent == self.root:
                stale[path.name] = (path, status)
                if len(stale) >= 500:
                    removed += self._remove_unreferenced(stale, referenced)
                    stale = {}
        return removed + self._remove_unreferenced(stale, referenced)

    def _remove_unreferenced(
        self, stale: dict[str, tuple[Path, os.stat_result]], referenced: Callable[[list[str]], set[str]]
    ) -> int:
        if not stale:
            return 0
        keep = referenced(list(stale))
        return sum(_remove_unless_changed(path, status) for name, (path, status) in stale.items() if name not in keep)


def _old_file(path: Path, cutoff: float) -> os.stat_result | None:
    try:
        status = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode) or status.st_mtime >= cutoff:
        return None
    return status


def _remove_unless_changed(path: Path, seen: os.stat_result) -> int:
    """Unlink `path` if it is still the file looked at; a new upload of the same content
    replaces it with a new one, which a commit in flight is about to reference."""
    with _placing:
        try:
            now = path.lstat()
        except OSError:
            return 0
        if (now.st_ino, now.st_mtime_ns) != (seen.st_ino, seen.st_mtime_ns):
            return 0
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            return 1
    return 0


def _discard(handle: BinaryIO, temp: str) -> None:
    # The file object, not its number: closing it again after _finish closed it does nothing,
    # where a second os.close would close whatever another thread had opened meanwhile.
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(OSError):
        os.unlink(temp)
