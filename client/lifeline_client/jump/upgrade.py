"""Upgrading from the appliance (the welcome's `upgrade`): the newer zipapp is fetched from
the same appliance with the same pinned certificate, its size and SHA-256 checked, written
next to the running one and renamed over it, and the program starts again in place. A
client running from a virtual environment (not a `.pyz`) says so and carries on."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import ssl
import sys
from pathlib import Path
from urllib.parse import urlsplit

from lifeline_protocol.jump import Upgrade

from lifeline_client import __version__
from lifeline_client.errors import ClientError
from lifeline_client.jump import http
from lifeline_client.start import Site

log = logging.getLogger(__name__)

MAX_SIZE = 512 * 1024 * 1024  # bytes: no client is larger


def running_zipapp() -> Path | None:
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if program is not None and program.suffix == ".pyz" and program.is_file():
        return program.resolve()
    return None


def same_site_path(site: Site, url: str) -> str:
    """The path to fetch: `url` must be on this very appliance (a path, or its origin)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if (parts.scheme or parts.netloc) and origin not in (site.origin, f"https://{site.host}:{site.port}"):
        raise ClientError(f"the upgrade is offered from another site ({parts.netloc[:100]}): refused")
    if not parts.path.startswith("/"):
        raise ClientError("the upgrade's address is not understood")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fetch(site: Site, context: ssl.SSLContext, offer: Upgrade) -> bytes:
    if not 0 < offer.size <= MAX_SIZE:
        raise ClientError(f"the upgrade's size ({offer.size}) is not believable")
    data = http.download(site, same_site_path(site, offer.url), context, offer.size)
    if len(data) != offer.size:
        raise ClientError(f"the upgrade has {len(data)} bytes, not the {offer.size} announced")
    if hashlib.sha256(data).hexdigest() != offer.sha256.lower():
        raise ClientError("the upgrade's SHA-256 does not match: not installed")
    return data


def _sha256(program: Path) -> str:
    digest = hashlib.sha256()
    with program.open("rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def replace(program: Path, data: bytes) -> None:
    """Written beside the running file and renamed over it: never half a program."""
    fresh = program.with_name(program.name + ".new")
    fresh.write_bytes(data)
    os.chmod(fresh, program.stat().st_mode & 0o777)
    os.replace(fresh, program)


async def maybe_upgrade(site: Site, context: ssl.SSLContext, offer: Upgrade) -> None:
    """Upgrade and restart when it can; log why not otherwise (the client carries on)."""
    if offer.version == __version__:
        return
    program = running_zipapp()
    if program is None:
        log.warning(
            "the appliance offers client %s (this is %s); this client runs from a Python environment, "
            "not a .pyz: upgrade it there (pip), carrying on",
            offer.version,
            __version__,
        )
        return
    if await asyncio.to_thread(_sha256, program) == offer.sha256.lower():
        log.info("the upgrade offered (%s) is the program running already", offer.version)
        return
    try:
        data = await asyncio.to_thread(fetch, site, context, offer)
        await asyncio.to_thread(replace, program, data)
    except (ClientError, OSError) as error:
        log.warning("upgrading to %s failed: %s; carrying on with %s", offer.version, error, __version__)
        return
    log.warning("upgraded %s from %s to %s: starting again", program, __version__, offer.version)
    restart(program)


def restart(program: Path) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, str(program), *sys.argv[1:]])  # noqa: S606 (this program again)
