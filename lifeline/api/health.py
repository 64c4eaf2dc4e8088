"""Plain `GET /check_health` for load balancers: 200 when the appliance can serve, 500 when not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from lifeline.runtime import Runtime


def health_endpoint(runtime: Runtime) -> Callable[[Request], Awaitable[PlainTextResponse]]:
    async def check_health(request: Request) -> PlainTextResponse:
        try:
            await runtime.db.read(lambda db: db.execute(text("SELECT 1")).scalar_one())
        except Exception:
            return PlainTextResponse("FAIL: the database is not answering\n", status_code=500)
        return PlainTextResponse("OK\n")

    return check_health
