"""What plain HTTP may still reach, and the headers every answer carries for the browser.

The rule (docs/install.md, "Plain HTTP"): over plain HTTP the appliance answers only what
must work there: the XML APIs, which answer it themselves when the administrator allowed
it (`xml_api_allow_http`, as the API guide describes) and refuse it otherwise, and
`/check_health` for load balancers. Everything else is sent to HTTPS: GET and HEAD with a
permanent redirect, any other request refused unread (a form posted over HTTP has already
shown its fields to the network; answering with a redirect would have the browser send
them again and hide the mistake). WebSockets are refused over ws://.
"""

from __future__ import annotations

from starlette.datastructures import URL
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lifeline.appliance.urls import public_base_url
from lifeline.runtime import Runtime

ANSWERED_OVER_HTTP = frozenset(
    {
        "/api/command",
        "/api/command.ns",
        "/api/reporting",
        "/api/reporting.ns",
        "/api/backup",
        "/api/backup.ns",
        "/api/client_script",
        "/api/client_script.ns",
        "/api/command.xsd",
        "/api/reporting.xsd",
        "/oauth2/token",
        "/session_download",
        "/check_health",
    }
)
HSTS_SECONDS = 365 * 24 * 3600

# Every answer, unless it says otherwise: no content sniffing, never inside a frame (no
# page of the appliance is meant to be framed; click-to-chat opens a window of its own).
_EVERY_ANSWER = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)
_HSTS = (b"strict-transport-security", f"max-age={HSTS_SECONDS}".encode())


class TransportSecurity:
    """ASGI middleware in front of the whole application."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") in ("https", "wss")
        if not secure and scope["path"] not in ANSWERED_OVER_HTTP and self.runtime.ports.https:
            await self._refuse_plain(scope, receive, send)
            return
        await self.app(scope, receive, _with_headers(send, secure))

    async def _refuse_plain(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "Use wss://"})
            return
        target = await self._https_url(scope)
        response: Response
        if scope["method"] in ("GET", "HEAD"):
            response = RedirectResponse(target, status_code=301)
        else:
            response = PlainTextResponse(f"Use HTTPS: {target}\n", status_code=403)
        await response(scope, receive, _with_headers(send, secure=False))

    async def _https_url(self, scope: Scope) -> str:
        """The same path and query on the HTTPS port of the site asked for (or the default
        site, when the Host header names none of the appliance's sites)."""
        directory = await self.runtime.directory()
        hostname = URL(scope=scope).hostname or ""
        if directory.site_for_hostname(hostname) is None:
            hostname = directory.default_site.primary_hostname
        port = self.runtime.https_port_for_urls(await self.runtime.settings())
        path: str = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")  # as sent: still quoted
        query = scope.get("query_string", b"").decode("latin-1")
        return public_base_url(hostname.lower(), port) + path + (f"?{query}" if query else "")


def _with_headers(send: Send, secure: bool) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            present = {name.lower() for name, _ in headers}
            added = [header for header in _EVERY_ANSWER if header[0] not in present]
            if secure:
                added.append(_HSTS)
            if added:
                message = {**message, "headers": [*headers, *added]}
        await send(message)

    return sending
