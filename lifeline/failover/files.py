"""The file store and recordings, copied to the backup by name and size.

Both only grow: a stored file never changes once placed (its name is its SHA-256) and a
recording is only appended to. So the backup asks for what it lacks of each file, the
bytes past the size it holds, and never sends what it has.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lifeline.config import Config

# The folders under DATA_DIR that are copied, by the name the sync uses for each.
AREAS = ("files", "recordings")
BLOCK = 256 * 1024


class FileSyncError(Exception):
    pass


def area_roots(config: Config) -> dict[str, Path]:
    return {"files": config.file_store_dir, "recordings": config.recordings_dir}


def listing(config: Config) -> dict[str, int]:
    """Every finished file as `area/relative path` and its size. Names starting with a dot
    are uploads in progress (the file store's incoming files), not yet anybody's."""
    found: dict[str, int] = {}
    for area, root in area_roots(config).items():
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            found[f"{area}/{relative.as_posix()}"] = path.stat().st_size
    return found


def resolve(config: Config, name: str) -> Path:
    """The file a sync name stands for; never anything outside the two folders."""
    area, _, rest = name.partition("/")
    roots = area_roots(config)
    parts = rest.split("/")
    if area not in roots or not rest or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise FileSyncError(f"not a file of the sync: {name!r}")
    return roots[area].joinpath(*parts)


def read_from(path: Path, offset: int) -> Iterator[bytes]:
    with path.open("rb") as source:
        source.seek(offset)
        while block := source.read(BLOCK):
            yield block


@dataclass
class FilesCopied:
    files: int = 0
    bytes: int = 0


def wanted(config: Config, theirs: dict[str, int]) -> dict[str, int]:
    """What to fetch from each of the primary's files: name -> the offset to start at
    (what we hold already); a file we hold more of than the primary is fetched anew."""
    out: dict[str, int] = {}
    for name, size in theirs.items():
        path = resolve(config, name)
        held = path.stat().st_size if path.exists() else 0
        if held > size:
            held = 0
        if held < size:
            out[name] = held
    return out


def append(config: Config, name: str, offset: int, answer: IO[bytes]) -> int:
    """Write the primary's bytes of `name` from `offset` on; returns how many arrived."""
    path = resolve(config, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("r+b" if path.exists() else "wb") as out:
        out.truncate(offset)
        out.seek(offset)
        while block := answer.read(BLOCK):
            out.write(block)
            written += len(block)
    return written
