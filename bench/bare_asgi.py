"""The baseline: a bare ASGI app on the same server stack, answering fixed bytes.

python -m bench.bare_asgi PORT BODY_FILE
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import uvicorn

BODY = b""
HEADERS: list[tuple[bytes, bytes]] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    global BODY, HEADERS
    port, body_file = int(sys.argv[1]), Path(sys.argv[2])
    BODY = body_file.read_bytes()
    HEADERS = [
        (b"content-type", b"text/xml; charset=UTF-8"),
        (b"content-length", str(len(BODY)).encode()),
        (b"cache-control", b"no-store"),
    ]
    uvicorn.run(
        app, host="127.0.0.1", port=port, access_log=False, log_level="warning", loop="uvloop", http="httptools"
    )


if __name__ == "__main__":
    main()
