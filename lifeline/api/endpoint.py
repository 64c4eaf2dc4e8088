"""What every XML API endpoint does before and after its own work: answer only when the
XML API is on, refuse plain HTTP unless allowed, read the request, authenticate, pick
the namespace, and turn every failure into an error document (never a 500)."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from lifeline.api.auth import Authenticator
from lifeline.api.errors import ApiError
from lifeline.api.request import ApiRequest, read_api_request
from lifeline.api.xml import XML_CONTENT_TYPE, Builder, document
from lifeline.appliance.urls import public_base_url
from lifeline.db.outage import UNAVAILABLE, database_unavailable
from lifeline.directory.queries import Principal
from lifeline.runtime import Runtime

log = logging.getLogger("lifeline.api")

HTTP_REFUSED = "The XML API is available over HTTPS only; an administrator can allow HTTP access."
INTERNAL = "An internal error occurred; it has been logged."


class Era(enum.StrEnum):
    """Which document an answer follows: the 1.7 guide (`.ns` URLs) or later versions."""

    V1_7 = "1.7"
    LATER = "later"


@dataclass
class ApiContext:
    runtime: Runtime
    request: ApiRequest
    principal: Principal
    namespace: str
    era: Era
    settings: dict[str, Any]

    @property
    def builder(self) -> Builder:
        return Builder(self.namespace)

    def base_url(self, hostname: str) -> str:
        return public_base_url(hostname, self.runtime.https_port_for_urls(self.settings))


Reply = bytes | ASGIApp
Dispatch = Callable[[ApiContext], Awaitable[Reply]]


async def send_bytes(send: Send, body: bytes, *, status: int = 200, content_type: str = XML_CONTENT_TYPE) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode("latin-1")),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class XmlApiEndpoint:
    """One URL of one XML API (for example /api/command.ns)."""

    def __init__(
        self,
        runtime: Runtime,
        authenticator: Authenticator,
        *,
        namespace_setting: str,
        era: Era,
        dispatch: Dispatch,
        error_wrapper: Callable[[dict[str, str], Era], str | None],
    ) -> None:
        self.runtime = runtime
        self.authenticator = authenticator
        self.namespace_setting = namespace_setting
        self.era = era
        self.dispatch = dispatch
        self.error_wrapper = error_wrapper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = await self.runtime.settings()
        if not settings["xml_api_enabled"]:
            await send_bytes(send, b"Document Not Found", status=404, content_type="text/plain; charset=UTF-8")
            return
        namespace = settings[self.namespace_setting]
        params: dict[str, str] = {}
        try:
            if scope.get("scheme") != "https" and not settings["xml_api_allow_http"]:
                raise ApiError(HTTP_REFUSED)
            request = await read_api_request(scope, receive)
            params = request.params
            principal = await self.authenticator.authenticate(request)
            context = ApiContext(self.runtime, request, principal, namespace, self.era, settings)
            reply = await self.dispatch(context)
        except ApiError as error:
            reply = self.error_document(namespace, error.message, params)
        except Exception as error:
            # Log what was asked, never the parameters themselves (they carry passwords).
            log.exception(
                "%s failed (action=%r)", scope.get("path"), params.get("action") or params.get("generate_report")
            )
            reply = self.error_document(namespace, UNAVAILABLE if database_unavailable(error) else INTERNAL, params)
        if isinstance(reply, bytes):
            await send_bytes(send, reply)
        else:
            await reply(scope, receive, send)

    def error_document(self, namespace: str, message: str, params: dict[str, str]) -> bytes:
        builder = Builder(namespace)
        wrapper = self.error_wrapper(params, self.era)
        if wrapper is None:
            root = builder.root("error")
            root.text = message
        else:
            # The 1.7 guide puts the error inside the answer's own root element.
            root = builder.root(wrapper)
            builder.child(root, "error", message)
        return document(root)
