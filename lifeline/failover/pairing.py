"""What pairs two appliances: the shared pairing key (kept only as a key derived from it),
the peer's pinned certificate, the sync interval and the takeover delay.

Kept in `DATA_DIR/failover-pairing.json` (mode 0600), beside `failover.json` and like it
outside the database the backup copies. The pairing key itself is never stored: both sides
keep `HMAC(key, PURPOSE)` and sign each request to the peer with it, so the key's text
cannot be read back from either appliance.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path

FILE_NAME = "failover-pairing.json"
PEER_CERTIFICATE = "failover-peer.crt"
PURPOSE = b"lifeline failover request signing v1"
SIGNATURE_HEADER = "x-lifeline-failover"
# A signed request older or newer than this is refused (a replayed capture goes stale).
SIGNATURE_WINDOW_SECONDS = 300
DEFAULT_SYNC_SECONDS = 60.0


class PairingError(ValueError):
    """The pair is not set up, or a setup value is unusable."""


@dataclass(frozen=True)
class Pairing:
    """`appliance_id`: this appliance's own id in the pair (its database, and so the id in
    its settings, is the primary's copy). `takeover_after`: seconds without an answer from
    the primary before the backup takes over; 0 turns automatic takeover off."""

    signing_key: str  # hex of HMAC(pairing key, PURPOSE)
    appliance_id: str
    sync_interval: float = DEFAULT_SYNC_SECONDS
    takeover_after: float = 0.0
    peer_appliance_id: str | None = None
    # When this appliance last became the primary (UNIX seconds): of two primaries, the
    # later one keeps the role (see service.Failover.tick).
    primary_since: float = 0.0


def new_pairing_key() -> str:
    """A key to type or paste once: 32 random bytes as 64 hex digits, in groups of 8."""
    raw = secrets.token_hex(32)
    return "-".join(raw[i : i + 8] for i in range(0, len(raw), 8))


def signing_key_of(pairing_key: str) -> str:
    cleaned = pairing_key.strip().replace("-", "").lower()
    if len(cleaned) != 64 or any(c not in "0123456789abcdef" for c in cleaned):
        raise PairingError("the pairing key is 64 hexadecimal digits (as the primary's setup printed it)")
    return hmac.new(bytes.fromhex(cleaned), PURPOSE, hashlib.sha256).hexdigest()


def read_pairing(data_dir: Path) -> Pairing | None:
    try:
        raw = json.loads((data_dir / FILE_NAME).read_text())
    except FileNotFoundError:
        return None
    return Pairing(
        signing_key=str(raw["signing_key"]),
        appliance_id=str(raw["appliance_id"]),
        sync_interval=float(raw.get("sync_interval", DEFAULT_SYNC_SECONDS)),
        takeover_after=float(raw.get("takeover_after", 0.0)),
        peer_appliance_id=raw.get("peer_appliance_id"),
        primary_since=float(raw.get("primary_since", 0.0)),
    )


def write_pairing(data_dir: Path, pairing: Pairing) -> None:
    path = data_dir / FILE_NAME
    scratch = path.with_suffix(".tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(pairing), out, indent=2)
    os.replace(scratch, path)


def update_pairing(data_dir: Path, **changes: object) -> Pairing:
    pairing = read_pairing(data_dir)
    if pairing is None:
        raise PairingError("failover is not set up on this appliance (lifeline failover setup)")
    pairing = replace(pairing, **changes)  # type: ignore[arg-type]
    write_pairing(data_dir, pairing)
    return pairing


def new_appliance_id() -> str:
    return uuid.uuid4().hex


def peer_certificate_path(data_dir: Path) -> Path:
    return data_dir / PEER_CERTIFICATE


# --- signed requests -----------------------------------------------------------------------


def _mac(signing_key: str, stamp: str, method: str, target: str, body: bytes) -> str:
    message = b"\n".join(
        [stamp.encode(), method.upper().encode(), target.encode(), hashlib.sha256(body).hexdigest().encode()]
    )
    return hmac.new(bytes.fromhex(signing_key), message, hashlib.sha256).hexdigest()


def sign(signing_key: str, method: str, target: str, body: bytes, now: float | None = None) -> str:
    """The header value for a request to `target` (path and query): `time:mac`."""
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}:{_mac(signing_key, stamp, method, target, body)}"


def verify(signing_key: str, header: str | None, method: str, target: str, body: bytes) -> bool:
    if not header or ":" not in header:
        return False
    stamp, mac = header.split(":", 1)
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(mac, _mac(signing_key, stamp, method, target, body))
