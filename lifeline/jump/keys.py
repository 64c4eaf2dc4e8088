"""Ed25519 keys of Jump Clients: each installation made its own pair when it was installed;
the appliance keeps the public half (base64url of the raw 32 bytes, no padding) and checks
signatures (base64url, no padding) with it."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


def _unpadded(text: str) -> bytes | None:
    """base64url without padding, or None when it is not that."""
    if not text or "=" in text:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def valid_public_key(public_key: str) -> bool:
    raw = _unpadded(public_key)
    return raw is not None and len(raw) == PUBLIC_KEY_BYTES


def verify(public_key: str, signature: str, text: bytes) -> bool:
    """True when `signature` is the key's signature of `text`; False for anything else,
    a malformed key or signature included."""
    raw_key, raw_signature = _unpadded(public_key), _unpadded(signature)
    if raw_key is None or len(raw_key) != PUBLIC_KEY_BYTES:
        return False
    if raw_signature is None or len(raw_signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(raw_signature, text)
    except (InvalidSignature, ValueError):
        return False
    return True
