"""Files sent in sessions: uploads into the file store (authorized first, bounded, streamed
straight into the store's temporary file) and downloads for the people of the session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import parse_options_header
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from lifeline.db.engine import Database
from lifeline.recordings.filestore import FileStore, FileTooLarge
from lifeline.sessions import actions as engine
from lifeline.sessions.activity import FileSent, check_file_sender, record_file, stage_file
from lifeline.sessions.events import Actor
from lifeline.sessions.models import SessionFile, SupportSession
from lifeline.web.uploads import FormParts, UploadRefused

FORM_OVERHEAD = 64 * 1024
MAX_FIELDS = 10
MAX_FIELD_BYTES = 4096
NO_FILE = "send the file in a multipart field named file"


@dataclass
class SessionFileForm(FormParts):
    """A session file's multipart form as it streams in: the bytes of its `file` part are
    handed on as they arrive (into the file store's temporary file, never spooled anywhere
    else), its few small text fields kept."""

    name: str = "file"
    content_type: str = "application/octet-stream"
    fields: dict[str, str] = field(default_factory=dict)
    pending: list[bytes] = field(default_factory=list)
    has_file: bool = False
    in_file: bool = False

    def _part_starts(self, filename: str | None) -> None:
        if filename is None:
            if len(self.fields) >= MAX_FIELDS:
                raise UploadRefused("the form has too many fields")
            return
        if self._name != "file" or self.has_file:
            raise UploadRefused("send one file, in a multipart field named file")
        self.has_file = self.in_file = True
        self.name = filename or "file"
        self.content_type = self._headers.get("content-type", "") or "application/octet-stream"

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.pending.append(bytes(data[start:end]))
            return
        self._value.extend(data[start:end])
        if len(self._value) > MAX_FIELD_BYTES:
            raise UploadRefused(f"form fields are limited to {MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if self.in_file:
            self.in_file = False
        else:
            self.fields.setdefault(self._name, self._value.decode("utf-8", "replace"))


async def file_chunks(request: Request, form: SessionFileForm, max_size: int) -> AsyncIterator[bytes]:
    """The bytes of the form's file as the body streams in; UploadRefused for a body that is
    too large or not a form with one file."""
    limit = max_size + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise UploadRefused(f"files are limited to {max_size} bytes", 413)
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadRefused(NO_FILE)
    parser = form.parser(boundary)
    seen = 0
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise UploadRefused(f"files are limited to {max_size} bytes", 413)
            if chunk:
                await asyncio.to_thread(parser.write, chunk)
            if form.pending:
                yield b"".join(form.pending)
                form.pending.clear()
        parser.finalize()
    except (UploadRefused, FileTooLarge):
        raise
    except Exception:  # python-multipart's errors, a client gone mid-body
        raise UploadRefused("the upload could not be read") from None
    if not form.has_file or form.in_file:
        raise UploadRefused(NO_FILE)


async def store_and_record(
    request: Request,
    store: FileStore,
    db: Database,
    who: Callable[[Session, SupportSession], Actor],
    find_session: Callable[[Session], SupportSession | None],
    *,
    staging: bool = False,
) -> Response:
    """The shared upload flow: authorize before reading a byte of the body, receive the file
    under a temporary name, then log the transfer and place the file in one transaction
    (the temporary file is removed on every failure); JSON answer. With `staging`, a form
    whose field `for` is `computer` puts the file in the store unlogged, for `file_put`."""

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
    form = SessionFileForm()
    try:
        async with store.receive(file_chunks(request, form, store.max_size)) as incoming:
            ref = form.fields.get("ref") or None
            if ref is not None and len(ref) > 64:
                return JSONResponse({"ok": False, "error": "ref is at most 64 characters"}, status_code=400)
            file = FileSent(form.name[:255], incoming.size, incoming.sha256, form.content_type)

            def record(session: Session) -> dict[str, Any] | str:
                found = sender(session)
                if isinstance(found, str):
                    return found
                try:
                    if staging and form.fields.get("for") == "computer":
                        row = stage_file(session, found[0], found[1], file)
                    else:
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
