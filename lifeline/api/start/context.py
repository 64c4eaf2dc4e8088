"""What /api/start_session keeps between requests: the runtime, a way to tell the hub that a
customer is about to connect, the per-address limits on guessing keys and starting sessions,
and the client build the launchers fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from lifeline.appliance.client_downloads import ClientDownloads
from lifeline.directory.queries import SiteRecord
from lifeline.http import site
from lifeline.limits import FailureLimit
from lifeline.runtime import Runtime


class ExpectArrival(Protocol):
    """The hub's `expect` (app.py hands it over): wait `grace` seconds for the started
    session's customer to connect before their connection counts as gone."""

    def __call__(self, gsnumber: int, *, grace: float = ...) -> None: ...


@dataclass
class Starts:
    runtime: Runtime
    expect: ExpectArrival
    # Session keys are seven digits: a client gets 20 wrong guesses per 10 minutes.
    key_guesses: FailureLimit = field(default_factory=lambda: FailureLimit(20, 600))
    # Sessions started per address in 10 minutes; how many is the session_starts_per_address setting.
    session_starts: FailureLimit = field(default_factory=lambda: FailureLimit(0, 600))
    # The client build the launchers fetch and the certificate they trust.
    client: ClientDownloads = field(init=False)

    def __post_init__(self) -> None:
        self.client = ClientDownloads(self.runtime.config.client_dir, self.runtime.config.tls_dir)

    async def site_for(self, connection: HTTPConnection) -> SiteRecord:
        """The public site of the request's host name, or the default site."""
        return await site.site_for(self.runtime, connection)

    async def starts_blocked(self, address: str) -> bool:
        """Whether this address started as many sessions as it may in 10 minutes (0: no limit)."""
        allowed = int((await self.runtime.settings())["session_starts_per_address"])
        self.session_starts.allowed = allowed
        return allowed > 0 and self.session_starts.blocked(address)

    async def common(self) -> dict[str, Any]:
        return await site.common(self.runtime)
