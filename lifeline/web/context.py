"""What the page handlers share: the runtime, the hub, sign-in, the file store, limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from lifeline.directory.queries import SiteRecord
from lifeline.limits import FailureLimit
from lifeline.realtime.hub import Hub
from lifeline.recordings.filestore import FileStore
from lifeline.runtime import Runtime
from lifeline.web.auth import WebAuth


@dataclass
class Web:
    runtime: Runtime
    hub: Hub
    auth: WebAuth
    files: FileStore
    # Session keys are seven digits: a client gets 20 wrong guesses per 10 minutes.
    key_guesses: FailureLimit = field(default_factory=lambda: FailureLimit(20, 600))
    # Sessions started per address in 10 minutes; how many is the session_starts_per_address setting.
    session_starts: FailureLimit = field(default_factory=lambda: FailureLimit(0, 600))

    async def site_for(self, connection: HTTPConnection) -> SiteRecord:
        """The public site of the request's host name, or the default site."""
        directory = await self.runtime.directory()
        host = connection.url.hostname or ""
        return directory.site_for_hostname(host) or directory.default_site

    async def starts_blocked(self, address: str) -> bool:
        """Whether this address started as many sessions as it may in 10 minutes (0: no limit)."""
        allowed = int((await self.runtime.settings())["session_starts_per_address"])
        self.session_starts.allowed = allowed
        return allowed > 0 and self.session_starts.blocked(address)

    async def common(self) -> dict[str, Any]:
        settings = await self.runtime.settings()
        return {"company": settings["company_name"]}


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else ""
