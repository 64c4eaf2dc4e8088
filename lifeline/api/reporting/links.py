"""Signed links to a session's chat transcript and recordings, as reports hand them out.

Report consumers store these URLs and open them later, often from a browser that has no
appliance login, so each link carries its own permission: the session ID signed with the
appliance's secret (itsdangerous, HMAC), separately for the transcript and for the
recordings. A recording link is only ever minted for someone allowed to see recordings.
Links do not expire; changing the appliance secret revokes them all. The shape follows
real appliances: `/session_download?lsid=TOKEN&dl_action=chat&view=1`.
"""

from __future__ import annotations

import base64
import enum
import hashlib

from itsdangerous import BadSignature, Signer

DOWNLOAD_PATH = "/session_download"


class Grant(enum.StrEnum):
    CHAT = "chat"
    RECORDING = "recording"


def _signer(secret: str, grant: Grant) -> Signer:
    if not secret:
        raise ValueError("the appliance has no secret to sign links with")
    return Signer(secret, salt=f"lifeline.session-download.{grant.value}", sep=".")


# HMAC-SHA1: itsdangerous's default, which every link handed out so far is signed with.
# (SHA-1's collision weakness does not carry over to HMAC.)
_SHA1 = hashlib.sha1


class _Minter:
    """Signs as `_signer(secret, grant).sign` does, byte for byte, several times faster: a
    large report signs a link per session. itsdangerous derives the key and starts HMAC-SHA1
    afresh for every value; here the key is derived once and HMAC's inner and outer hash
    states are kept primed with it (RFC 2104), so a signature is two copied hashes."""

    def __init__(self, secret: str, grant: Grant) -> None:
        key = _signer(secret, grant).derive_key()  # 20 bytes: shorter than a block, so used as it is
        key = key.ljust(_SHA1().block_size, b"\0")
        self._inner = _SHA1(bytes(b ^ 0x36 for b in key))
        self._outer = _SHA1(bytes(b ^ 0x5C for b in key))

    def sign(self, value: str) -> str:
        data = value.encode("utf-8")
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        signature = base64.urlsafe_b64encode(outer.digest()).rstrip(b"=").decode("ascii")
        return f"{value}.{signature}"


class DownloadLinks:
    def __init__(self, secret: str, base_url: str) -> None:
        self.base_url = base_url
        self._chat = _Minter(secret, Grant.CHAT)
        self._recording = _Minter(secret, Grant.RECORDING)

    def _url(self, token: str, action: str, *, view: bool, instance: int | None = None) -> str:
        # The token (hex, a dot, URL-safe base64) and the rest need no escaping.
        url = f"{self.base_url}{DOWNLOAD_PATH}?lsid={token}&dl_action={action}"
        if instance is not None:
            url += f"&instance={instance}"
        return url + "&view=1" if view else url

    def chat(self, lsid: str, *, view: bool) -> str:
        return self._url(self._chat.sign(lsid), "chat", view=view)

    def chat_pair(self, lsid: str) -> tuple[str, str]:
        """The transcript's view and download links, signed once."""
        download = self._url(self._chat.sign(lsid), "chat", view=False)
        return download + "&view=1", download

    def recording(self, lsid: str, action: str, *, view: bool, instance: int | None = None) -> str:
        return self._url(self._recording.sign(lsid), action, view=view, instance=instance)


def verified_lsid(secret: str, token: str, grant: Grant) -> str | None:
    """The session ID a link's token grants access to, or None if it is not genuine."""
    try:
        lsid = _signer(secret, grant).unsign(token).decode("ascii")
    except (BadSignature, ValueError, UnicodeError):
        return None
    return lsid if len(lsid) == 32 else None
