"""Backup encryption with a password: scrypt derives a key, AES-256-GCM encrypts the archive in
chunks, so a backup of any size is encrypted and decrypted as a stream.

Format (all integers big-endian):

    LIFELINE-NSB-ENCRYPTED\\n
    {"version":1,"kdf":"scrypt","n":32768,"r":8,"p":1,"salt":"<b64, 16 bytes>","nonce":"<b64, 7 bytes>","chunk":65536}\\n
    then chunks: 4-byte length, then AES-256-GCM ciphertext and tag of up to `chunk` bytes

Chunk i is encrypted with the nonce `nonce || i (4 bytes) || last (1 byte: 1 for the final
chunk, else 0)` and the header line as associated data, so chunks cannot be reordered,
dropped, truncated or moved to another backup without decryption failing.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Callable
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from lifeline.text import parse_json

MAGIC = b"LIFELINE-NSB-ENCRYPTED\n"
CHUNK = 64 * 1024
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
MAX_HEADER = 1024


class DecryptionError(ValueError):
    """The password is wrong, or the encrypted backup is damaged."""


def _key(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode("utf-8"))


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class EncryptingWriter:
    """A write-only binary file that writes an encrypted backup to `sink`."""

    def __init__(self, sink: BinaryIO, password: str) -> None:
        salt, prefix = os.urandom(16), os.urandom(7)
        header = {
            "version": 1,
            "kdf": "scrypt",
            **SCRYPT,
            "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(prefix).decode(),
            "chunk": CHUNK,
        }
        self._header = json.dumps(header, separators=(",", ":")).encode() + b"\n"
        self._aead = AESGCM(_key(password, salt, SCRYPT["n"], SCRYPT["r"], SCRYPT["p"]))
        self._prefix = prefix
        self._sink = sink
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        sink.write(MAGIC + self._header)

    def _encrypt_chunk(self, plain: bytes, *, last: bool) -> None:
        encrypted = self._aead.encrypt(_nonce(self._prefix, self._index, last), plain, self._header)
        self._sink.write(struct.pack(">I", len(encrypted)) + encrypted)
        self._index += 1

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte back for the final chunk
            self._encrypt_chunk(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self._closed:
            self._encrypt_chunk(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


def decrypt(source: BinaryIO, password: str, write: Callable[[bytes], object]) -> None:
    """Decrypt an encrypted backup read from `source` (positioned at its start) into `write`."""
    if source.read(len(MAGIC)) != MAGIC:
        raise DecryptionError("This is not an encrypted Lifeline backup.")
    header = source.readline(MAX_HEADER)
    try:
        params = parse_json(header)
        salt, prefix = base64.b64decode(params["salt"]), base64.b64decode(params["nonce"])
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        # Bounded, so a crafted header cannot make us spend gigabytes deriving a key.
        if params.get("version") != 1 or params.get("kdf") != "scrypt" or len(prefix) != 7:
            raise ValueError
        if not (n <= 2**20 and r <= 16 and p <= 4):
            raise ValueError
        key = _key(password, salt, n, r, p)
    except (ValueError, KeyError, TypeError):
        raise DecryptionError("The backup's encryption header is damaged or of a newer kind.") from None
    aead = AESGCM(key)
    index = 0
    while True:
        length = source.read(4)
        if len(length) != 4:
            raise DecryptionError("The encrypted backup is truncated.")
        encrypted = source.read(struct.unpack(">I", length)[0])
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, index, last), encrypted, header)
            except InvalidTag:
                continue
            break
        else:
            if index == 0:
                raise DecryptionError("The backup password is wrong, or the backup is damaged.")
            raise DecryptionError("The encrypted backup is damaged.")
        write(plain)
        index += 1
        if last:
            if source.read(1):
                raise DecryptionError("The encrypted backup has data after its end.")
            return
