"""A session's recordings on its report page: the list, the files (screen and presentation
WebM play in the page's <video>, with range requests for seeking), and a command shell's
screens for the page's player. Every request checks, as the Reporting API does, that the
user may view recordings (perm_view_sd_recordings) and may see the session."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import FileResponse, Response, StreamingResponse

from lifeline.recordings.actions import RecordingKind, download_name
from lifeline.recordings.store import RecordingStore
from lifeline.recordings.terminal import End, Frame, Line, Piece, Size, replay_file
from lifeline.reports import browse
from lifeline.reports.browse import RecordingRow
from lifeline.reports.criteria import Viewer
from lifeline.web.admin.base import Access, AdminPage, Page, report_viewer

FLUSH_BYTES = 16 * 1024  # the shell player starts on the first screens while the rest are made
FILE_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}
NOT_ALLOWED = "Viewing session recordings needs the permission “May view session recordings”."


class State(enum.Enum):
    READY = "ready"
    RECORDING = "still being recorded"
    EXPIRED = "expired (its file is no longer kept)"


@dataclass(frozen=True)
class Shown:
    """A recording as the session page lists it."""

    row: RecordingRow
    state: State

    @property
    def label(self) -> str:
        if self.row.kind == RecordingKind.COMMAND_SHELL.value:
            return f"Command shell {self.row.instance}"
        return "Presentation" if self.row.kind == RecordingKind.PRESENTATION.value else "Screen"

    @property
    def ready(self) -> bool:
        return self.state is State.READY

    @property
    def video(self) -> bool:
        return self.row.kind != RecordingKind.COMMAND_SHELL.value

    @property
    def url(self) -> str:
        return f"/login/reports/recordings/{self.row.id}"


def store_of(page: Page) -> RecordingStore:
    return RecordingStore(page.web.runtime.config.recordings_dir)


def state_of(store: RecordingStore, row: RecordingRow) -> State:
    if row.ended_at is None:
        return State.RECORDING
    return State.READY if store.exists(row.storage_name) else State.EXPIRED


def listed(page: Page, rows: tuple[RecordingRow, ...], viewer: Viewer) -> list[Shown]:
    """What the page lists; the files are looked at only for someone who may play them."""
    store = store_of(page)
    return [Shown(row, state_of(store, row) if viewer.recordings else State.READY) for row in rows]


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


async def playable(page: Page) -> tuple[RecordingRow, Path] | Response:
    """The recording of the request and its file, or the page that says why not."""
    viewer = report_viewer(page.me)
    if not viewer.recordings:
        return await page.render("admin/message.html", "Not allowed", status=403, message=NOT_ALLOWED)
    row = await page.read(browse.visible_recording, page.path_id("recording_id"), viewer)
    if row is None:
        return await page.not_found("recording among the reports you may view")
    store = store_of(page)
    state = state_of(store, row)
    if state is not State.READY:
        return await page.render(
            "admin/message.html", "Not available", status=404, message=f"This recording is {state.value}."
        )
    return row, store.path_for(row.storage_name)


async def recording_file(page: Page) -> Response:
    """The file: inline for the page's <video> (which asks for ranges as it seeks), or with
    ?download=1 as an attachment."""
    found = await playable(page)
    if isinstance(found, Response):
        return found
    row, path = found
    download = page.request.query_params.get("download") == "1"
    return FileResponse(
        path,
        media_type=row.content_type,
        filename=download_name(row.lsid, RecordingKind(row.kind), row.instance),
        content_disposition_type="attachment" if download else "inline",
        headers=FILE_HEADERS,
    )


async def shell_screens(page: Page) -> Response:
    """A command shell recording replayed as screens, as JSON lines:
    {"size": [w, h]}, {"line": n, "runs": [[text, fg, bg, flags], ...]},
    {"at": seconds, "rows": [n, ...], "cursor": [x, y] | null}, and last {"end": seconds, "truncated": bool}."""
    found = await playable(page)
    if isinstance(found, Response):
        return found
    row, path = found
    if row.kind != RecordingKind.COMMAND_SHELL.value:
        return await page.not_found("command shell recording")
    return StreamingResponse(screens(path), media_type="application/x-ndjson", headers=FILE_HEADERS)


def piece_json(piece: Piece) -> dict[str, object]:
    if isinstance(piece, Line):
        return {"line": piece.number, "runs": piece.runs}
    if isinstance(piece, Frame):
        return {"at": piece.at, "rows": piece.rows, "cursor": piece.cursor}
    if isinstance(piece, Size):
        return {"size": [piece.width, piece.height]}
    assert isinstance(piece, End)
    return {"end": piece.at, "truncated": piece.truncated}


def screens(path: Path) -> Iterator[bytes]:
    """Read and replayed in a worker thread as the answer is sent (StreamingResponse runs a
    plain iterator in the thread pool), a line of the file at a time."""
    with path.open("rb") as handle:
        buffer: list[bytes] = []
        size = 0
        for piece in replay_file(handle):
            encoded = json.dumps(piece_json(piece), separators=(",", ":")).encode() + b"\n"
            buffer.append(encoded)
            size += len(encoded)
            if size >= FLUSH_BYTES:
                yield b"".join(buffer)
                buffer, size = [], 0
        yield b"".join(buffer)


PAGES = [
    AdminPage("/login/reports/recordings/{recording_id:id}", recording_file, access=Access.REPORTS),
    AdminPage("/login/reports/recordings/{recording_id:id}/screens", shell_screens, access=Access.REPORTS),
]
