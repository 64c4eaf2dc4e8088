"""What a page, a form or a socket gets while the database is not answering: a short page
(503, try again) or a socket closed with "try again later", never a 500 and its trace.
The XML APIs and socket messages answer it themselves (lifeline.api.endpoint,
lifeline.realtime.socket)."""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import exc
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket

from lifeline.db.outage import UNAVAILABLE, database_unavailable
from lifeline.http.pages import render

log = logging.getLogger("lifeline.http")

RETRY_AFTER_SECONDS = 5
TRY_AGAIN_LATER = 1013  # the WebSocket close code for "Try Again Later"


async def _page(request: Request, error: Exception) -> Response:
    if not database_unavailable(error):
        raise error  # Starlette's own 500 handling, as before
    log.warning("%s %s: %s (%s)", request.method, request.url.path, UNAVAILABLE, type(error).__name__)
    headers = {"retry-after": str(RETRY_AFTER_SECONDS)}
    accept = request.headers.get("accept", "")
    if "text/html" in accept:
        response = render(
            request,
            "message.html",
            {"heading": "Please try again", "message": UNAVAILABLE, "company": ""},
            status=503,
        )
        response.headers.update(headers)
        return response
    if "json" in accept:
        return JSONResponse({"error": UNAVAILABLE}, status_code=503, headers=headers)
    return PlainTextResponse(UNAVAILABLE + "\n", status_code=503, headers=headers)


async def _socket(websocket: WebSocket, error: Exception) -> None:
    if not database_unavailable(error):
        raise error
    log.warning("socket %s: %s (%s)", websocket.url.path, UNAVAILABLE, type(error).__name__)
    with contextlib.suppress(Exception):  # the client may have gone meanwhile
        await websocket.close(TRY_AGAIN_LATER, UNAVAILABLE[:120])


async def answer_outage(connection: HTTPConnection, error: Exception) -> Response | None:
    if isinstance(connection, WebSocket):
        await _socket(connection, error)
        return None
    assert isinstance(connection, Request)
    return await _page(connection, error)


# For Starlette's `exception_handlers`: the driver's errors and the pool's timeout.
OUTAGE_HANDLERS = {exc.DBAPIError: answer_outage, exc.TimeoutError: answer_outage}
