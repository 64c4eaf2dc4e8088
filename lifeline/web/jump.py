"""What `lifeline-client jump install` and `jump uninstall` call: `POST /jump/install` redeems an
installer key for a new installation, `POST /jump/uninstall` says one removed itself.
Anonymous (the installer key or the installation's signature is the proof), so failures
per address are limited like every other guess."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from lifeline_protocol.computer import Computer
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lifeline.http.site import client_address
from lifeline.jump import actions as jump
from lifeline.limits import FailureLimit
from lifeline.web.context import Web

MAX_BODY = 64 * 1024
FAILURES_PER_ADDRESS = 30  # wrong keys and signatures from one address in ...
FAILURE_WINDOW_SECONDS = 600
STATUS = {jump.Refusal.INVALID: 400, jump.Refusal.FORBIDDEN: 403, jump.Refusal.EXPIRED: 410}


class InstallBody(msgspec.Struct, kw_only=True):
    installer_key: str
    public_key: str
    signature: str
    computer: Computer
    name: Annotated[str, msgspec.Meta(max_length=255)] = ""  # `jump install --name`: listed under it


class UninstallBody(msgspec.Struct, kw_only=True):
    id: int
    at: int
    signature: str


def _refused(status: int, error: str) -> Response:
    return JSONResponse({"error": error}, status_code=status, headers={"Cache-Control": "no-store"})


def origin_of(request: Request) -> str:
    """The origin the client connected to (and signed): https:// and the Host it sent."""
    return "https://" + request.headers.get("host", "")


Handler = Callable[[Request, Any], Awaitable[Response]]


def jump_endpoints(web: Web) -> tuple[Callable[[Request], Awaitable[Response]], ...]:
    failures = FailureLimit(FAILURES_PER_ADDRESS, FAILURE_WINDOW_SECONDS)

    def endpoint(body_type: type[Any], handle: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            address = client_address(request)
            if failures.blocked(address):
                return _refused(429, "Too many failed attempts from this address; try again in a few minutes.")
            declared = request.headers.get("content-length", "")
            if not declared.isdigit():
                return _refused(411, "send the body with a Content-Length")
            if int(declared) > MAX_BODY:
                return _refused(413, f"the body is limited to {MAX_BODY} bytes")
            raw = await request.body()
            if len(raw) > MAX_BODY:
                return _refused(413, f"the body is limited to {MAX_BODY} bytes")
            try:
                body = msgspec.json.decode(raw, type=body_type)
            except (msgspec.ValidationError, msgspec.DecodeError) as error:
                failures.failed(address)
                return _refused(400, f"not a valid request: {error}")
            try:
                return await handle(request, body)
            except jump.JumpError as error:
                failures.failed(address)
                return _refused(STATUS[error.refusal], str(error))

        return serve

    async def install(request: Request, body: InstallBody) -> Response:
        client = await web.runtime.db.write(
            _install,
            installer_key=body.installer_key,
            public_key=body.public_key,
            signature=body.signature,
            computer=body.computer,
            name=body.name.strip(),
            origin=origin_of(request),
            public_ip=client_address(request),
        )
        return JSONResponse(client, headers={"Cache-Control": "no-store"})

    async def uninstall(request: Request, body: UninstallBody) -> Response:
        await web.runtime.db.write(
            jump.uninstall,
            jump_client_id=body.id,
            at=body.at,
            signature=body.signature,
            origin=origin_of(request),
            now=time.time(),
        )
        return JSONResponse({"id": body.id, "removed": True}, headers={"Cache-Control": "no-store"})

    return endpoint(InstallBody, install), endpoint(UninstallBody, uninstall)


def _install(session: Session, **details: Any) -> dict[str, Any]:
    client = jump.install(session, **details)
    return {"id": client.id, "name": client.name, "mode": client.mode}
