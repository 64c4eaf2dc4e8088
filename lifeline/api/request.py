"""Reading an API request: parameters from the query string and the body, GET and POST alike.

Bodies may be form-encoded or multipart (some integrations post PHP arrays through
curl, which sends multipart). Everything is bounded: body size, field count, lengths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

from lifeline.api.errors import ApiError
from lifeline.api.query import parse_query

MAX_BODY_BYTES = 1024 * 1024
MAX_FIELDS = 200


@dataclass
class ApiRequest:
    method: str
    scheme: str
    host: str  # the Host header as sent (may carry a port)
    client_ip: str
    params: dict[str, str]
    authorization: str = ""
    content_type: str = ""
    json_body: bytes | None = field(default=None, repr=False)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)


def _parse_urlencoded(raw: bytes, params: dict[str, str]) -> None:
    try:
        pairs = parse_query(raw, max_fields=MAX_FIELDS)
    except ValueError:
        raise ApiError(f"The request has more than {MAX_FIELDS} parameters.") from None
    for name, value in pairs:
        params.setdefault(name, value)  # the first occurrence of a name wins


async def read_api_request(scope: Scope, receive: Receive) -> ApiRequest:
    method = scope["method"]
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    params: dict[str, str] = {}
    query = scope.get("query_string", b"")
    if query:
        _parse_urlencoded(query, params)
    content_type = headers.get("content-type", "")
    json_body: bytes | None = None
    if method == "POST":
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            raise ApiError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind == "multipart/form-data":
            await _read_multipart(scope, receive, params)
        else:
            body = await _read_body(receive)
            if kind == "application/json":
                json_body = body
            elif body:
                _parse_urlencoded(body, params)
    elif method not in ("GET", "HEAD"):
        raise ApiError("Use GET or POST.")
    client = scope.get("client")
    return ApiRequest(
        method=method,
        scheme=scope.get("scheme", "http"),
        host=headers.get("host", ""),
        client_ip=client[0] if client else "",
        params=params,
        authorization=headers.get("authorization", ""),
        content_type=content_type,
        json_body=json_body,
    )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError("The client went away.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _bounded(receive: Receive) -> Receive:
    size = 0

    async def bounded_receive() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > MAX_BODY_BYTES:
            raise ApiError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        return message

    return bounded_receive


async def _read_multipart(scope: Scope, receive: Receive, params: dict[str, str]) -> None:
    request = Request(scope, _bounded(receive))
    try:
        async with request.form(max_files=1, max_fields=MAX_FIELDS, max_part_size=MAX_BODY_BYTES) as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    raise ApiError("File uploads are not accepted here.")
                params.setdefault(name, value)
    except ApiError:
        raise
    except Exception:  # python-multipart raises several types for malformed bodies
        raise ApiError("The multipart request body could not be read.") from None
