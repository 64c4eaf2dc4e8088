"""Resume tokens: what a client shows to come back to its connection (and gsnumber) after a
reconnect. The appliance keeps only their SHA-256, the way it keeps sign-in nonces and API
tokens, so a copy of the database does not let anyone take over a connection."""

from __future__ import annotations

from lifeline.directory.passwords import new_token, sha256_hex

# 32 random bytes: always 43 characters of URL-safe base64.
TOKEN_BYTES = 32


def new_resume_token() -> str:
    return new_token(TOKEN_BYTES)


def resume_token_sha256(token: str) -> str:
    """The form a resume token is stored and looked up in; the one place it is computed."""
    return sha256_hex(token)
