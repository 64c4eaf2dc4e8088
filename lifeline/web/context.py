"""What the page handlers share: the runtime, the hub, sign-in, the file store, limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from lifeline.directory.queries import SiteRecord
from lifeline.realtime.hub import Hub
from lifeline.recordings.filestore import FileStore
from lifeline.runtime import Runtime
from lifeline.web.auth import WebAuth
from lifeline.web.limits import FailureLimit


@dataclass
class Web:
    runtime: Runtime
    hub: Hub
    auth: WebAuth
    files: FileStore
    # Session keys are seven digits: a client gets 20 wrong guesses per 10 minutes.
    key_guesses: FailureLimit = field(default_factory=lambda: FailureLimit(20, 600))

    async def site_for(self, connection: HTTPConnection) -> SiteRecord:
        """The public site of the request's host name, or the default site."""
        directory = await self.runtime.directory()
        host = connection.url.hostname or ""
        return directory.site_for_hostname(host) or directory.default_site

    async def common(self) -> dict[str, Any]:
        settings = await self.runtime.settings()
        return {"company": settings["company_name"]}


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else ""
