"""The attendee page: a presentation's key (typed on the public site, or its link) opens it;
the attendee gives a name and joins over /ws/attendee."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from lifeline.http.pages import render
from lifeline.web.context import Web

MAX_KEY = 64


def attendee_page(web: Web) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        key = request.path_params["key"]
        common = await web.common()
        if not key.isalnum() or len(key) > MAX_KEY:
            return render(
                request,
                "message.html",
                {**common, "heading": "No such presentation", "message": "Check the key or the link.", "back_url": "/"},
                status=404,
            )
        # Whether the key joins anything is told by the socket: the page has nothing to reveal.
        return render(request, "attendee.html", {**common, "key": key})

    return page
