"""The Client Scripting API (/api/client_script and /api/client_script.ns).

Unauthenticated, as the guide says: it only writes a representative console script, which
does nothing until a logged-in representative runs it. The answer is that file, to
download; bad parameters get an `<error>` document in the Command API's namespace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from lifeline.api.endpoint import HTTP_REFUSED, INTERNAL
from lifeline.api.errors import ApiError
from lifeline.api.params import param, parse_params
from lifeline.api.request import read_api_request
from lifeline.api.xml import XML_CONTENT_TYPE, error_document
from lifeline.clientscript import (
    ACTIONS,
    ActionCommand,
    ScriptError,
    command_from_parameters,
    file_name,
    script_for,
)
from lifeline.directory.queries import DirectorySnapshot
from lifeline.runtime import Runtime

log = logging.getLogger("lifeline.api")

INVALID_ACTION = "Invalid action"
ONLY_EXTERNAL_KEY = (
    "The client scripting API passes on session.custom.external_key only; leave out other session.custom parameters."
)
# A download: browsers save it rather than show it, whatever it looks like.
SCRIPT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ClientScriptRequest:
    type: str = param(required=True, choices=("rep",))
    operation: str = param(required=True, choices=("generate",))
    action: str = param(required=True, max_length=64)


def command_for(params: Mapping[str, str]) -> ActionCommand:
    """The command an API request asks for, or the first problem as an ApiError."""
    request = parse_params(ClientScriptRequest, params)
    kind = ACTIONS.get(request.action)
    if kind is None:
        raise ApiError(INVALID_ACTION)
    if any(name.startswith("session.custom.") and name != "session.custom.external_key" for name in params):
        raise ApiError(ONLY_EXTERNAL_KEY)
    try:
        return command_from_parameters(kind, params)
    except ScriptError as error:
        raise ApiError(error.message) from None


def site_hostname(host_header: str, directory: DirectorySnapshot) -> str:
    """The public site the request was made to when its Host names one, else the default site
    (as session generation associates a session with the site whose hostname was asked for)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else ""
    else:
        name, colon, port = host.rpartition(":")
        if colon and port.isdigit():
            host = name
    host = host.rstrip(".")
    if host and directory.site_for_hostname(host) is not None:
        return host
    return directory.default_site.primary_hostname


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str
    file_name: str = ""


class ClientScriptEndpoint:
    """One URL of the Client Scripting API; GET, POST and HEAD."""

    def __init__(self, runtime: Runtime, *, namespace_setting: str) -> None:
        self.runtime = runtime
        self.namespace_setting = namespace_setting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = await self.runtime.settings()
        if not settings["xml_api_enabled"]:
            answer = Answer(b"Document Not Found", "text/plain; charset=UTF-8")
            await self.send(scope, send, answer, status=404)
            return
        namespace = settings[self.namespace_setting]
        try:
            answer = await self.answer(scope, receive, allow_http=settings["xml_api_allow_http"])
        except ApiError as error:
            answer = Answer(error_document(namespace, error.message), XML_CONTENT_TYPE)
        except Exception:
            log.exception("%s failed", scope.get("path"))
            answer = Answer(error_document(namespace, INTERNAL), XML_CONTENT_TYPE)
        await self.send(scope, send, answer)

    async def answer(self, scope: Scope, receive: Receive, *, allow_http: bool) -> Answer:
        if scope.get("scheme") != "https" and not allow_http:
            raise ApiError(HTTP_REFUSED)
        request = await read_api_request(scope, receive)
        command = command_for(request.params)
        hostname = site_hostname(request.host, await self.runtime.directory())
        script = script_for(hostname, command)
        return Answer(script.text().encode("ascii"), SCRIPT_CONTENT_TYPE, file_name(command, hostname))

    @staticmethod
    async def send(scope: Scope, send: Send, answer: Answer, *, status: int = 200) -> None:
        headers = [
            (b"content-type", answer.content_type.encode("latin-1")),
            (b"content-length", str(len(answer.body)).encode("latin-1")),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if answer.file_name:
            # Unquoted and last: integrations take everything after `filename=` (or the first `=`).
            headers.append((b"content-disposition", f"attachment; filename={answer.file_name}".encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else answer.body})
