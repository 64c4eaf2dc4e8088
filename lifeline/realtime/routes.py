"""The WebSocket endpoints of consoles, customer clients, presentation attendees and the Lifeline client, wired by
app.py beside the pages."""

from __future__ import annotations

from lifeline_protocol import CloseCode
from starlette.routing import BaseRoute, WebSocketRoute

from lifeline.http.auth import WebAuth
from lifeline.realtime.attendee import AttendeeSocket
from lifeline.realtime.client import ClientSocket
from lifeline.realtime.computers import Computers
from lifeline.realtime.console import ConsoleSocket
from lifeline.realtime.customer import CustomerSocket
from lifeline.realtime.demotion import Demotion
from lifeline.realtime.follow import primary_only
from lifeline.realtime.hub import Hub
from lifeline.realtime.jump import JumpSockets
from lifeline.realtime.presenter_screen import PresenterScreens
from lifeline.realtime.screens import Screens
from lifeline.runtime import Runtime


def realtime_routes(runtime: Runtime, hub: Hub, auth: WebAuth) -> list[BaseRoute]:
    computers = Computers(runtime, hub)
    screens = Screens(runtime, hub, computers)
    hub.on_stop.append(computers.stop)
    hub.on_stop.append(screens.stop)
    hub.on_replaced.append(lambda: computers.close_all(CloseCode.RESTART))
    presenter = PresenterScreens(runtime, hub, screens)
    jump = JumpSockets(runtime)
    hub.more_jobs.extend(jump.jobs())
    hub.on_stop.append(jump.stop)
    hub.on_replaced.append(lambda: jump.close_all(CloseCode.RESTART))
    hub.more_jobs.append(Demotion(runtime, hub, computers, jump).job())
    # A failover backup refuses them all (4421): its clients and consoles go to the primary.
    return [
        WebSocketRoute(path, primary_only(runtime, serve))
        for path, serve in (
            ("/ws/console", ConsoleSocket(runtime, hub, auth, computers, screens, presenter).serve),
            ("/ws/customer", CustomerSocket(runtime, hub, computers, screens).serve),
            ("/ws/client", ClientSocket(runtime, computers, screens).serve),
            ("/ws/attendee", AttendeeSocket(runtime, hub, screens).serve),
            ("/ws/jump", jump.serve),
        )
    ]
