"""Encrypted settings: secrets the appliance must use in clear later (the scheduled
backup's password), kept in the settings table encrypted (AES-256-GCM) under a key
derived from the appliance secret, so that a listing of the settings, a page or a look at
the table never shows them. Whoever holds the whole database holds the appliance secret
too: encryption keeps a secret out of sight, it does not protect it from someone with a
copy of the database."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Stored values begin with this, and the key is derived with this label. Both say
# "sealed", the name this had before reports' frozen parts needed a word of their own; they
# stay as they are so that what is stored already still opens.
PREFIX = "sealed:1:"
_KEY_LABEL = b"lifeline sealed settings"


class UnreadableSecret(ValueError):
    """An encrypted setting that cannot be opened (the appliance secret changed, or it is damaged)."""


def _key(appliance_secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_LABEL).derive(
        appliance_secret.encode("utf-8")
    )


def encrypt(value: str, appliance_secret: str, name: str) -> str:
    """`value` encrypted; `name` (the setting's key) is bound to it, so it cannot be moved to another key."""
    nonce = os.urandom(12)
    encrypted = AESGCM(_key(appliance_secret)).encrypt(nonce, value.encode("utf-8"), name.encode())
    return PREFIX + base64.b64encode(nonce + encrypted).decode()


def decrypt(stored: str, appliance_secret: str, name: str) -> str:
    if not stored.startswith(PREFIX):
        raise UnreadableSecret(f"{name} is not encrypted")
    try:
        raw = base64.b64decode(stored[len(PREFIX) :], validate=True)
        plain = AESGCM(_key(appliance_secret)).decrypt(raw[:12], raw[12:], name.encode())
    except (binascii.Error, InvalidTag, ValueError):
        raise UnreadableSecret(
            f"{name} cannot be read any more (the appliance secret changed?); set it again"
        ) from None
    return plain.decode("utf-8")
