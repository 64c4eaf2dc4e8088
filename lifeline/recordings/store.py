"""Where recordings live: files under the data directory's `recordings/`, appended to while a
recording runs and flushed to disk as it goes, so a crash loses at most the last moments."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

CHUNK = 64 * 1024
_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}-[a-z_]+-\d+\.[a-z]+$")


class RecordingStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, storage_name: str) -> Path:
        if not _NAME.match(storage_name):
            raise ValueError(f"not a recording's storage name: {storage_name!r}")
        return self.root / storage_name

    def writer(self, storage_name: str) -> RecordingWriter:
        path = self.path_for(storage_name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return RecordingWriter(path)

    def exists(self, storage_name: str) -> bool:
        return self.path_for(storage_name).is_file()

    def size(self, storage_name: str) -> int:
        return self.path_for(storage_name).stat().st_size

    def read(self, storage_name: str) -> Iterator[bytes]:
        with self.path_for(storage_name).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk


class RecordingWriter:
    """Appends to one recording file; each write reaches the operating system at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("ab", buffering=0)
        self.size = self._file.tell()

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.size += len(data)

    def close(self) -> int:
        if not self._file.closed:
            os.fsync(self._file.fileno())
            self._file.close()
        return self.size

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
