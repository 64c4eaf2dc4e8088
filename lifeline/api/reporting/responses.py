"""The ASGI answers of reports: a streamed XML document, and a recording file."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from pathlib import Path

from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

from lifeline.api.endpoint import INTERNAL, send_bytes
from lifeline.api.xml import XML_CONTENT_TYPE
from lifeline.db.engine import Database
from lifeline.db.stream import STALL_SECONDS, Producer, ReaderStalled, stream_read

log = logging.getLogger("lifeline.api")


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class StreamedXml:
    """Sends a report as it is produced (chunked). A failure before the first chunk is
    still answered with an error document; one after it ends the connection, so the
    client sees a broken download rather than a report that looks complete. A client that
    takes nothing for `stall_seconds` has its read ended (`stream_read`), and its connection
    closed by the listener (`lifeline.listeners`)."""

    def __init__(
        self,
        db: Database,
        produce: Producer,
        error_document: Callable[[str], bytes],
        what: str,
        *,
        caller: str,
        stall_seconds: float = STALL_SECONDS,
    ) -> None:
        self.db = db
        self.produce = produce
        self.error_document = error_document
        self.what = what
        self.caller = caller
        self.stall_seconds = stall_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: AsyncGenerator[bytes] = stream_read(
            self.db, self.produce, caller=self.caller, stall_seconds=self.stall_seconds
        )
        try:
            try:
                first = await anext(chunks, b"")
            except Exception:
                log.exception("report %s failed", self.what)
                await send_bytes(send, self.error_document(INTERNAL))
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", XML_CONTENT_TYPE.encode()), (b"cache-control", b"no-store")],
                }
            )
            gone = asyncio.ensure_future(_disconnected(receive))
            try:
                await send({"type": "http.response.body", "body": first, "more_body": True})
                async for chunk in chunks:
                    if gone.done():
                        return  # the client went away: stop reading the database
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except ReaderStalled:
                log.warning("report %s: the client read nothing for %s s; cut off", self.what, self.stall_seconds)
            except Exception:
                log.exception("report %s failed while streaming", self.what)
                raise
            finally:
                gone.cancel()
        finally:
            await chunks.aclose()


def recording_file(path: Path, content_type: str, download_name: str) -> FileResponse:
    """The recording itself, as a download (range requests work, for players that seek)."""
    return FileResponse(
        path,
        media_type=content_type,
        headers={"content-disposition": f"attachment; filename={download_name}", "cache-control": "no-store"},
    )
