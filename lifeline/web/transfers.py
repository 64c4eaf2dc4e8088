"""`/client/transfers/<id>`: files between the customer's computer and the file store, for
the Lifeline client. PUT sends a download's bytes in chunks (`Content-Range`, at most
1 MiB each), HEAD says how many arrived (`X-Received`, to resume after a drop), GET
fetches an upload (`Range: bytes=N-` resumes). The customer's token (Bearer) and the
transfer, the range and the file store's limit are checked before a byte of a body is read.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from lifeline.clients import actions as clients
from lifeline.clients.models import Direction, TransferStatus
from lifeline.clients.transfers import partial_path
from lifeline.presence.tokens import resume_token_sha256
from lifeline.recordings.filestore import Incoming
from lifeline.sessions.models import SessionError
from lifeline.web.context import Web

MAX_CHUNK = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
PROGRESS_EVERY = 0.25  # seconds between the consoles' progress pushes of one transfer, at least
_RANGE = re.compile(r"bytes (\d{1,15})-(\d{1,15})/(\d{1,15})")
EMPTY = "bytes */0"  # an empty file: no range to send (RFC 9110's form for a length alone)
_ID = re.compile(r"[0-9a-f]{1,64}")

Endpoint = Callable[[Request], Awaitable[Response]]


def _refused(status: int, error: str, **headers: str) -> Response:
    return JSONResponse({"error": error}, status_code=status, headers=headers)


class Transfers:
    def __init__(self, web: Web) -> None:
        self.web = web
        self.store = web.files
        self._locks: dict[str, asyncio.Lock] = {}
        self._told: dict[str, float] = {}

    async def _find(self, request: Request) -> clients.TransferFound | Response:
        """The transfer, if the request's token is its session's live customer's."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or len(token) > 128:
            return _refused(401, "send the session's token as Authorization: Bearer", **{"WWW-Authenticate": "Bearer"})
        transfer_id = request.path_params["transfer"]
        if not _ID.fullmatch(transfer_id):
            return _refused(404, "no such transfer")
        found = await self.web.runtime.db.read(
            clients.transfer_for_client, transfer_id, resume_token_sha256(token.strip())
        )
        if found is None:
            return _refused(404, "no such transfer")
        return found

    def _received(self, found: clients.TransferFound) -> int:
        if found.status == TransferStatus.DONE.value:
            return found.size
        try:
            return partial_path(self.store, found.id).stat().st_size
        except FileNotFoundError:
            return 0

    async def head(self, request: Request) -> Response:
        found = await self._find(request)
        if isinstance(found, Response):
            return found
        return Response(headers={"X-Received": str(self._received(found)), "Cache-Control": "no-store"})

    async def get(self, request: Request) -> Response:
        """An upload's file, for the client to write on the customer's computer."""
        found = await self._find(request)
        if isinstance(found, Response):
            return found
        if found.direction != Direction.UPLOAD.value or not found.sha256:
            return _refused(409, "this transfer goes the other way")
        if found.status != TransferStatus.MOVING.value:
            return _refused(409, f"this transfer is {found.status}")
        path = self.store.path_for(found.sha256)
        if not path.is_file():
            return _refused(404, "the file is no longer in the file store")
        await self.web.runtime.db.write(clients.transfer_progress, found.id, found.size, 0, tell=False)
        return FileResponse(path, media_type="application/octet-stream", filename=found.name)

    async def put(self, request: Request) -> Response:
        """A chunk of a download: appended when it starts where the last one ended."""
        found = await self._find(request)
        if isinstance(found, Response):
            return found
        if found.direction != Direction.DOWNLOAD.value:
            return _refused(409, "this transfer goes the other way")
        if found.status != TransferStatus.MOVING.value:
            return _refused(409, f"this transfer is {found.status}")
        content_range = request.headers.get("content-range", "")
        if content_range == EMPTY and not found.size:
            if request.headers.get("content-length", "0") != "0":
                return _refused(411, "Content-Length must be the chunk's length")
            async with self._locks.setdefault(found.id, asyncio.Lock()):
                return await self._append(request, found, 0, 0, 0)
        matched = _RANGE.fullmatch(content_range)
        if matched is None:
            return _refused(400, "send Content-Range: bytes START-END/TOTAL (bytes */0 for an empty file)")
        start, end, total = (int(n) for n in matched.groups())
        if total > self.store.max_size:
            return _refused(413, f"files are limited to {self.store.max_size} bytes")
        length = end - start + 1
        if start > end or end >= total or length > MAX_CHUNK:
            return _refused(
                400 if start > end or end >= total else 413, f"chunks are 1 to {MAX_CHUNK} bytes in the file"
            )
        if found.size and total != found.size:
            return _refused(409, f"the file is {found.size} bytes, not {total}")
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) != length:
            return _refused(411, "Content-Length must be the chunk's length")
        # One chunk of a transfer at a time (a client that retries while its first try still runs).
        lock = self._locks.setdefault(found.id, asyncio.Lock())
        try:
            async with lock:
                return await self._append(request, found, start, length, total)
        finally:
            if not lock.locked():
                self._locks.pop(found.id, None)

    async def _append(
        self, request: Request, found: clients.TransferFound, start: int, length: int, total: int
    ) -> Response:
        path = partial_path(self.store, found.id)
        self.store.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(path, "ab") as handle:
            have = handle.tell()
            if start != have:
                return _refused(416, f"the next chunk starts at byte {have}", **{"X-Received": str(have)})
            written = 0
            async for chunk in request.stream():
                written += len(chunk)
                if written > length:
                    handle.truncate(have)
                    return _refused(400, "the body is longer than its Content-Length")
                handle.write(chunk)
            if written != length:
                handle.truncate(have)  # a chunk arrives whole or not at all; the client sends it again
                return _refused(400, "the body ended early")
            received = have + written
        if received < total:
            now = time.monotonic()
            tell = now - self._told.get(found.id, 0.0) >= PROGRESS_EVERY
            if tell:
                self._told[found.id] = now
            await self.web.runtime.db.write(clients.transfer_progress, found.id, total, received, tell=tell)
            return JSONResponse({"received": received}, headers={"X-Received": str(received)})
        self._told.pop(found.id, None)
        file_id = await self._store(found, path, total)
        if isinstance(file_id, Response):
            return file_id
        return JSONResponse({"received": received, "file_id": file_id}, headers={"X-Received": str(received)})

    async def _store(self, found: clients.TransferFound, path: Path, size: int) -> int | Response:
        """Every byte is here: into the file store, in the transaction that logs File Download."""
        digest, zipped = await asyncio.to_thread(_sha256, path)
        incoming = Incoming(self.store, str(path), digest, size)

        def finish(session: Session) -> int:
            file_id = clients.finish_download(session, found.id, digest, size, zipped=zipped)
            incoming.place()
            return file_id

        try:
            return await self.web.runtime.db.write(finish)
        except SessionError as error:
            return _refused(409, str(error))


def _sha256(path: Path) -> tuple[str, bool]:
    """The file's SHA-256, and whether it is a ZIP archive (a folder the client zipped)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        zipped = handle.read(4) == ZIP_MAGIC
        handle.seek(0)
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    os.utime(path)  # still moving: not swept as stale before it is placed
    return digest.hexdigest(), zipped


def transfer_endpoint(web: Web) -> Endpoint:
    transfers = Transfers(web)

    async def endpoint(request: Request) -> Response:
        if request.method == "PUT":
            return await transfers.put(request)
        if request.method == "HEAD":
            return await transfers.head(request)
        return await transfers.get(request)

    return endpoint
