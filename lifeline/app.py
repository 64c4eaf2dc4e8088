"""Builds the appliance's ASGI application from each package's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from lifeline.api.reporting.session_xml import frozen_parts
from lifeline.api.routes import api_routes, xml_api_endpoints
from lifeline.api.start.context import Starts
from lifeline.api.start.start_session import start_from, start_routes
from lifeline.appliance import stamps
from lifeline.http.auth import WebAuth
from lifeline.http.outage import OUTAGE_HANDLERS
from lifeline.http.transport import TransportSecurity
from lifeline.realtime.hub import Hub
from lifeline.realtime.routes import realtime_routes
from lifeline.recordings.filestore import FileStore
from lifeline.reports.freezing import Freezer
from lifeline.runtime import Runtime
from lifeline.web.context import Web
from lifeline.web.routes import web_routes


class Appliance:
    """The ASGI entry point. The XML API paths that integrations poll hardest are
    answered straight away; everything else goes through Starlette's router."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.fast_paths = xml_api_endpoints(runtime)
        freezer = Freezer(runtime.db, frozen_parts, lambda: runtime.generations[stamps.RESTORED])
        hub = Hub(runtime)
        auth = WebAuth(runtime)
        web = Web(runtime, auth, FileStore(runtime.config.file_store_dir))
        starts = Starts(runtime, hub.expect)

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            # The background jobs (`lifeline.jobs`): the runtime's, the freezer, the hub's.
            await runtime.start()
            runtime.jobs.start(freezer.job())
            await hub.start()
            try:
                yield
            finally:
                await hub.stop()
                await runtime.stop()  # every job still running stops here

        # Each adapter gives its routes; only here do they meet. The static mount stays last.
        routes = [
            *api_routes(runtime),
            *start_routes(starts),
            *realtime_routes(runtime, hub, auth),
            *web_routes(web, partial(start_from, starts)),
        ]
        self.router = Starlette(routes=routes, lifespan=lifespan, exception_handlers=OUTAGE_HANDLERS)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.fast_paths.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.router(scope, receive, send)


def build_app(runtime: Runtime) -> ASGIApp:
    return TransportSecurity(Appliance(runtime), runtime)
