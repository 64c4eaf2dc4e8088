"""The file store: files sent in sessions, kept by their SHA-256 under the data directory.

A file is written to a temporary name, flushed to disk and renamed into place, so a crash
never leaves half a file under a real name; the same content is stored once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 64 * 1024


class FileTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int


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
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        return os.fdopen(fd, "wb"), temp

    def _finish(self, handle: BinaryIO, temp: str, digest: str) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        final = self.path_for(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
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

    async def put_stream(self, chunks: AsyncIterator[bytes]) -> StoredFile:
        handle, temp = self._start()
        hasher = hashlib.sha256()
        size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_size:
                    raise FileTooLarge(f"files are limited to {self.max_size} bytes")
                hasher.update(chunk)
                handle.write(chunk)
            digest = hasher.hexdigest()
            self._finish(handle, temp, digest)
        except BaseException:
            _discard(handle, temp)
            raise
        return StoredFile(digest, size)

    def open(self, sha256: str) -> Iterator[bytes]:
        with self.path_for(sha256).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()


def _discard(handle: BinaryIO, temp: str) -> None:
    # The file object, not its number: closing it again after _finish closed it does nothing,
    # where a second os.close would close whatever another thread had opened meanwhile.
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(OSError):
        os.unlink(temp)
