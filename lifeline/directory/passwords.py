"""Password and secret hashing (argon2id), and the random tokens we hand out."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's minimum argon2id parameters: about 20 ms a hash here, cheap enough for
# login bursts, and API calls reuse a verified credential from the auth cache.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

# Compared against when the username does not exist, so the answer takes as long.
_DUMMY_HASH = _hasher.hash("lifeline-dummy-password")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str, username: str = "") -> str | None:
    """The reason a new password is refused, or None.

    Length is what matters most (NIST SP 800-63B); on top of it we refuse only what a
    guesser tries first: the username itself and one character repeated.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must be at most {MAX_PASSWORD_LENGTH} characters"
    if username and password.strip().lower() in (username.lower(), username.lower()[::-1]):
        return "the password must not be the username"
    if len(set(password)) == 1:
        return "the password must not be one character repeated"
    return None


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
