"""An installation's state in its folder: jump.json (where and who it is), key.pem (its own
Ed25519 key, 0600, never printed) and appliance.pem (the only certificate it trusts)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lifeline_client.errors import ClientError

STATE = "jump.json"
KEY = "key.pem"
CERT = "appliance.pem"
LOG = "jump.log"  # launchd's standard error, on macOS
MAX_STATE = 64 * 1024  # bytes of jump.json read; larger is not ours
MAX_APPLIANCES = 2  # a failover pair


@dataclass(frozen=True)
class Installation:
    origin: str  # https://host[:port], as installed
    id: int
    name: str
    mode: str  # "jump_client" or "jumpoint"
    version: str  # the client's version that installed (or last upgraded) it
    # The failover pair's origins as the last welcome named them, the primary first (empty
    # without failover): where `jump run` connects, and goes next when one stops answering.
    appliances: tuple[str, ...] = ()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_text(key: Ed25519PrivateKey) -> str:
    """The public half as sent to the appliance: base64url of its 32 raw bytes."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64url(raw)


def sign(key: Ed25519PrivateKey, text: bytes) -> str:
    return b64url(key.sign(text))


def installed(folder: Path) -> bool:
    return (folder / STATE).exists()


def write_private(path: Path, data: bytes) -> None:
    """Created 0600 from the start: the key is never readable by others, even briefly."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def save(folder: Path, installation: Installation, key: Ed25519PrivateKey | None = None) -> None:
    if key is not None:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(folder / KEY, pem)
    temporary = folder / (STATE + ".new")
    temporary.write_text(json.dumps(asdict(installation), indent=2) + "\n", "utf-8")
    temporary.replace(folder / STATE)


def load(folder: Path) -> tuple[Installation, Ed25519PrivateKey]:
    """The installation in `folder`, or a ClientError saying what is missing."""
    path = folder / STATE
    try:
        with path.open("rb") as file:
            raw = json.loads(file.read(MAX_STATE))
        installation = Installation(
            origin=str(raw["origin"]),
            id=int(raw["id"]),
            name=str(raw.get("name", "")),
            mode=str(raw.get("mode", "jump_client")),
            version=str(raw.get("version", "")),
            appliances=tuple(str(origin) for origin in raw.get("appliances", [])[:MAX_APPLIANCES]),
        )
    except FileNotFoundError:
        raise ClientError(
            f"no Jump Client is installed in {folder} (no {STATE}): run lifeline-client jump install"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ClientError(f"{path} is damaged or unreadable: {error}") from None
    if installation.mode not in ("jump_client", "jumpoint") or installation.id <= 0:
        raise ClientError(f"{path} is damaged: unknown mode or id")
    try:
        key = serialization.load_pem_private_key((folder / KEY).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise ClientError(
            f"{folder / KEY}: the installation's key is missing or unreadable ({type(error).__name__})"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ClientError(f"{folder / KEY} is not an Ed25519 key")
    if not (folder / CERT).exists():
        raise ClientError(f"{folder / CERT} is missing: the installation cannot check its appliance")
    return installation, key


def remove(folder: Path) -> list[str]:
    """Delete the installation's files (not the folder's other contents); what was removed."""
    gone = []
    for name in (STATE, KEY, CERT, STATE + ".new", LOG):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
            gone.append(name)
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty
    return gone
