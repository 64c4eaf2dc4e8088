"""What every door reads from a request beyond its parameters: the public site it came to,
the address it came from, and what every page shows of the appliance."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from lifeline.directory.queries import SiteRecord
from lifeline.runtime import Runtime


async def site_for(runtime: Runtime, connection: HTTPConnection) -> SiteRecord:
    """The public site of the request's host name, or the default site."""
    directory = await runtime.directory()
    host = connection.url.hostname or ""
    return directory.site_for_hostname(host) or directory.default_site


async def common(runtime: Runtime) -> dict[str, Any]:
    """What every page's template reads."""
    settings = await runtime.settings()
    return {"company": settings["company_name"]}


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else ""
