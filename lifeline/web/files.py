"""Files sent in sessions: uploads into the file store (bounded, streamed to disk) and
downloads for the people of the session."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.types import Message, Receive

from lifeline.db.engine import Database
from lifeline.recordings.filestore import FileStore, FileTooLarge
from lifeline.sessions import actions as engine
from lifeline.sessions.activity import FileSent, check_file_sender, record_file
from lifeline.sessions.events import Actor
from lifeline.sessions.models import SessionFile, SupportSession

FORM_OVERHEAD = 64 * 1024


class UploadRefused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    fields: dict[str, str]
    upload: UploadFile


def _bounded(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def bounded_receive() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise UploadRefused(f"files are limited to {limit - FORM_OVERHEAD} bytes", 413)
        return message

    return bounded_receive


@contextlib.asynccontextmanager
async def read_upload(request: Request, store: FileStore) -> AsyncIterator[Upload]:
    """The one file of a multipart upload, plus its small text fields."""
    limit = store.max_size + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise UploadRefused(f"files are limited to {store.max_size} bytes", 413)
    bounded = Request(request.scope, _bounded(request.receive, limit))
    try:
        async with bounded.form(max_files=1, max_fields=10, max_part_size=4096) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise UploadRefused("send the file in a multipart field named file")
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            yield Upload(upload.filename or "file", upload.content_type or "application/octet-stream", fields, upload)
    except (UploadRefused, FileTooLarge):
        raise
    except Exception:
        raise UploadRefused("the upload could not be read") from None


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(64 * 1024):
        yield chunk


async def store_and_record(
    request: Request,
    store: FileStore,
    db: Database,
    who: Callable[[Session, SupportSession], Actor],
    find_session: Callable[[Session], SupportSession | None],
) -> Response:
    """The shared upload flow: authorize before reading a byte of the body, receive the file
    under a temporary name, then log the transfer and place the file in one transaction
    (the temporary file is removed on every failure); JSON answer."""

    def sender(session: Session) -> tuple[SupportSession, Actor] | str:
        support_session = find_session(session)
        if support_session is None:
            return "no such session"
        try:
            actor = who(session, support_session)
            check_file_sender(session, support_session, actor)
        except engine.SessionError as error:
            return str(error)
        return support_session, actor

    refusal = await db.read(sender)
    if isinstance(refusal, str):
        return JSONResponse({"ok": False, "error": refusal}, status_code=409)
    try:
        async with read_upload(request, store) as upload, store.receive(_chunks(upload.upload)) as incoming:
            ref = upload.fields.get("ref") or None
            if ref is not None and len(ref) > 64:
                return JSONResponse({"ok": False, "error": "ref is at most 64 characters"}, status_code=400)
            file = FileSent(upload.name[:255], incoming.size, incoming.sha256, upload.content_type)

            def record(session: Session) -> dict[str, Any] | str:
                found = sender(session)
                if isinstance(found, str):
                    return found
                try:
                    row = record_file(session, found[0], found[1], file, client_ref=ref)
                except engine.SessionError as error:
                    return str(error)
                incoming.place()  # before the commit; a failed commit leaves an orphan the sweep removes
                return {"ok": True, "file_id": row.id, "event_id": row.event_id, "size": row.size, "name": row.name}

            outcome = await db.write(record)
    except UploadRefused as refused:
        return JSONResponse({"ok": False, "error": str(refused)}, status_code=refused.status)
    except FileTooLarge as error:
        return JSONResponse({"ok": False, "error": str(error)}, status_code=413)
    if isinstance(outcome, str):
        return JSONResponse({"ok": False, "error": outcome}, status_code=409)
    return JSONResponse(outcome)


def download(store: FileStore, row: SessionFile) -> Response:
    if not store.exists(row.sha256):
        return Response("This file is no longer in the file store.", status_code=404, media_type="text/plain")
    return FileResponse(
        store.path_for(row.sha256),
        filename=row.name,
        media_type="application/octet-stream",
        content_disposition_type="attachment",
        headers={"x-content-type-options": "nosniff", "cache-control": "no-store"},
    )
