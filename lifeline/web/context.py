"""What the page handlers share: the runtime, sign-in and the file store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from lifeline.directory.queries import SiteRecord
from lifeline.http import site
from lifeline.http.auth import WebAuth
from lifeline.recordings.filestore import FileStore
from lifeline.runtime import Runtime


@dataclass
class Web:
    runtime: Runtime
    auth: WebAuth
    files: FileStore

    async def site_for(self, connection: HTTPConnection) -> SiteRecord:
        """The public site of the request's host name, or the default site."""
        return await site.site_for(self.runtime, connection)

    async def common(self) -> dict[str, Any]:
        return await site.common(self.runtime)
