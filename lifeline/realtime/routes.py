"""The WebSocket endpoints of consoles and customer clients, wired by app.py beside the pages."""

from __future__ import annotations

from starlette.routing import BaseRoute, WebSocketRoute

from lifeline.http.auth import WebAuth
from lifeline.realtime.console import ConsoleSocket
from lifeline.realtime.customer import CustomerSocket
from lifeline.realtime.hub import Hub
from lifeline.runtime import Runtime


def realtime_routes(runtime: Runtime, hub: Hub, auth: WebAuth) -> list[BaseRoute]:
    return [
        WebSocketRoute("/ws/console", ConsoleSocket(runtime, hub, auth).serve),
        WebSocketRoute("/ws/customer", CustomerSocket(runtime, hub).serve),
    ]
