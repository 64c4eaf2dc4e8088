"""`GET|HEAD /download/client/<name>`: the Lifeline client files the launchers fetch.

Public (the client is no secret; what it may do is the customer's to allow), and only the
names the build's manifest lists: a name is looked up, never joined to a path, so nothing
else of the appliance's folders is reachable. A file's name carries the client's version
and its ETag the file's SHA-256, so caches keep it for a day and then ask again cheaply.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from lifeline.appliance.client_downloads import ClientDownloads

CACHE_SECONDS = 24 * 3600


def not_found(request: Request) -> Response:
    body = b"No such client download.\n"
    return Response(
        b"" if request.method == "HEAD" else body,
        status_code=404,
        headers={"content-type": "text/plain; charset=utf-8", "content-length": str(len(body))},
    )


def client_download_endpoint(downloads: ClientDownloads) -> Callable[[Request], Awaitable[Response]]:
    async def client_download(request: Request) -> Response:
        artifact = downloads.artifact(request.path_params["name"])
        if artifact is None:
            return not_found(request)
        try:
            stat_result = os.stat(artifact.path)
        except OSError:  # a rebuild took it away since the manifest was read
            return not_found(request)
        etag = f'"{artifact.sha256}"'
        headers = {
            "cache-control": f"public, max-age={CACHE_SECONDS}",
            "etag": etag,
            "x-content-type-options": "nosniff",
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return FileResponse(
            artifact.path,
            stat_result=stat_result,
            media_type=artifact.content_type,
            filename=artifact.name,
            headers=headers,
        )

    return client_download


def client_manifest_endpoint(downloads: ClientDownloads) -> Callable[[Request], Awaitable[Response]]:
    """`GET /download/client/manifest.json`: the zipapps of the build, per platform, and the
    appliance's certificate, for a Jumpoint that pushes the client to a host (the launchers
    carry the same in their text). 404 when no client was built."""

    async def client_manifest(request: Request) -> Response:
        build = downloads.build()
        if build is None:
            return not_found(request)
        body = {
            "version": build.version,
            "zipapps": {
                platform: {"name": a.name, "sha256": a.sha256, "size": a.size, "pythons": list(a.pythons)}
                for platform, a in build.zipapps.items()
            },
            "pin": {"pem": build.pin.pem, "tag": build.pin.tag},
        }
        return JSONResponse(body, headers={"cache-control": "no-cache", "x-content-type-options": "nosniff"})

    return client_manifest
