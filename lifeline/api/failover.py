"""The pair's own channel (/failover/...): what the backup pulls from the primary and what
the peers ask each other. Every request is signed with the pair's key; anything else is
refused before it reads a byte of data."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from lifeline.failover import files, snapshot
from lifeline.failover.pairing import SIGNATURE_HEADER, verify
from lifeline.failover.service import FailoverError
from lifeline.runtime import Runtime

# The backup's hashes: 32 bytes per 4 KiB of database; this allows a 64 GiB database.
MAX_HASHES = 512 * 1024 * 1024

Handler = Callable[[Request, bytes], Awaitable[Response]]


def _signed(runtime: Runtime, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if request.url.scheme != "https":
            return PlainTextResponse("The failover channel is HTTPS only\n", status_code=403)
        pairing = runtime.failover.pairing()
        if pairing is None:
            return PlainTextResponse("Failover is not set up on this appliance\n", status_code=404)
        length = request.headers.get("content-length") or "0"
        if not length.isdigit() or int(length) > MAX_HASHES:
            return PlainTextResponse("Too large\n", status_code=413)
        body = await request.body()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not verify(pairing.signing_key, request.headers.get(SIGNATURE_HEADER), request.method, target, body):
            return PlainTextResponse("The request is not signed with this pair's key\n", status_code=403)
        try:
            return await handler(request, body)
        except (FailoverError, files.FileSyncError) as error:
            return PlainTextResponse(f"{error}\n", status_code=409)

    return endpoint


def _snapshot_stream(snapshot_file: Path, hashes: bytes) -> Iterator[bytes]:
    try:
        yield from snapshot.differing_chunks(snapshot_file, hashes)
    finally:
        snapshot_file.unlink(missing_ok=True)


def failover_routes(runtime: Runtime) -> list[BaseRoute]:
    config = runtime.config

    async def status(request: Request, body: bytes) -> Response:
        return JSONResponse(runtime.failover.status())

    async def peer(request: Request, body: bytes) -> Response:
        try:
            asked = json.loads(body)
        except ValueError:
            return PlainTextResponse("Not a failover request\n", status_code=400)
        if not isinstance(asked, dict):
            return PlainTextResponse("Not a failover request\n", status_code=400)
        return JSONResponse(await runtime.failover.from_peer(asked))

    async def database(request: Request, body: bytes) -> Response:
        if not config.is_sqlite:
            raise FailoverError("The database is PostgreSQL: it is shared or replicated as deployed, not synced")
        config.scratch_dir.mkdir(parents=True, exist_ok=True)
        snapshot_file = config.scratch_dir / f"failover-snapshot-{secrets.token_hex(8)}.db"
        await asyncio.to_thread(snapshot.take_snapshot, config.sqlite_file, snapshot_file)
        return StreamingResponse(_snapshot_stream(snapshot_file, body), media_type="application/octet-stream")

    async def listing(request: Request, body: bytes) -> Response:
        return JSONResponse(await asyncio.to_thread(files.listing, config))

    async def one_file(request: Request, body: bytes) -> Response:
        name = request.query_params.get("name", "")
        offset_text = request.query_params.get("offset", "0")
        if not offset_text.isdigit():
            raise files.FileSyncError("offset must be a number of bytes")
        path = files.resolve(config, name)
        if not path.is_file():
            raise files.FileSyncError(f"no such file: {name}")
        return StreamingResponse(files.read_from(path, int(offset_text)), media_type="application/octet-stream")

    return [
        Route("/failover/status", _signed(runtime, status), methods=["GET"]),
        Route("/failover/peer", _signed(runtime, peer), methods=["POST"]),
        Route("/failover/sync/database", _signed(runtime, database), methods=["POST"]),
        Route("/failover/sync/files", _signed(runtime, listing), methods=["GET"]),
        Route("/failover/sync/file", _signed(runtime, one_file), methods=["GET"]),
    ]
