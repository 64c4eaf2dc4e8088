"""`POST /oauth2/token`: the client-credentials grant of later API versions.

Clients send their id and secret with HTTP Basic (most) or in the body; the body may be
form-encoded or JSON. The answer is compact JSON with `expires_in` as a number.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from lifeline.api.query import parse_query
from lifeline.api.request import MAX_FIELDS
from lifeline.directory import actions as directory
from lifeline.directory import queries
from lifeline.directory.models import ApiAccount
from lifeline.runtime import Runtime
from lifeline.text import parse_json

MAX_BODY = 16 * 1024


def _json(status: int, payload: dict[str, object]) -> Response:
    body = json.dumps(payload, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json", headers={"cache-control": "no-store"})


def _client_error(status: int, error: str, message: str) -> Response:
    return _json(status, {"error": error, "message": message})


async def _read_fields(request: Request) -> dict[str, str] | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    fields: dict[str, str] = {}
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
        try:
            parsed = parse_json(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(parsed, dict):
            return None
        return {str(k): str(v) for k, v in parsed.items() if isinstance(v, str | int)}
    try:
        for name, value in parse_query(body, max_fields=MAX_FIELDS):
            fields.setdefault(name, value)
    except ValueError:
        return None
    return fields


def _basic_credentials(header: str) -> tuple[str, str] | None:
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def token_endpoint(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def token(request: Request) -> Response:
        settings = await runtime.settings()
        if not settings["xml_api_enabled"]:
            return Response("Document Not Found", status_code=404, media_type="text/plain")
        if request.url.scheme != "https" and not settings["xml_api_allow_http"]:
            return _client_error(403, "invalid_request", "HTTPS is required.")
        fields = await _read_fields(request)
        if fields is None:
            return _client_error(400, "invalid_request", "The request body could not be read.")
        grant_type = fields.get("grant_type")
        if grant_type is None:  # RFC 6749 5.2: a required parameter is missing
            return _client_error(400, "invalid_request", "grant_type is required (client_credentials).")
        if grant_type != "client_credentials":
            return _client_error(400, "unsupported_grant_type", "Only client_credentials is supported.")
        credentials = _basic_credentials(request.headers.get("authorization", ""))
        if credentials is None and "client_id" in fields:
            credentials = (fields["client_id"], fields.get("client_secret", ""))
        if credentials is None or not all(0 < len(part) <= 256 for part in credentials):
            return _client_error(401, "invalid_client", "Client authentication failed.")
        address = request.client.host if request.client else ""
        if not runtime.sign_in_failures.attempt(address):  # refused before the secret's hash is checked
            return _client_error(401, "invalid_client", "Client authentication failed.")
        account = await runtime.db.read(queries.verify_api_client, *credentials)
        if account is None:
            return _client_error(401, "invalid_client", "Client authentication failed.")
        runtime.sign_in_failures.succeeded(address)
        lifetime = int(settings["api_token_lifetime"])
        access_token = await runtime.db.write(_issue, account.id, lifetime)
        return _json(200, {"access_token": access_token, "token_type": "Bearer", "expires_in": lifetime})

    return token


def _issue(session: Session, account_id: int, lifetime: int) -> str:
    account = session.get(ApiAccount, account_id)
    assert account is not None
    return directory.issue_api_token(session, account, lifetime)
