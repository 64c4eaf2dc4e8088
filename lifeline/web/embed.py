"""The scripts other sites embed: /api/clicktochat.js (1.7) and /api/start_session.js (later)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache

from starlette.requests import Request
from starlette.responses import Response

from lifeline.web.pages import HERE


@cache
def _script(name: str) -> bytes:
    return (HERE / "embed" / name).read_bytes()


def script_endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def script(request: Request) -> Response:
        return Response(
            _script(name),
            media_type="application/javascript; charset=utf-8",
            headers={
                "cache-control": "public, max-age=300",
                # Pages anywhere load it; it only opens our pages, it reads nothing.
                "access-control-allow-origin": "*",
                "x-content-type-options": "nosniff",
            },
        )

    return script
