"""Signed links to a session's chat transcript and recordings, as reports hand them out.

Report consumers store these URLs and open them later, often from a browser that has no
appliance login, so each link carries its own permission: the session ID signed with the
appliance's secret (itsdangerous, HMAC), separately for the transcript and for the
recordings. A recording link is only ever minted for someone allowed to see recordings.
Links do not expire; changing the appliance secret revokes them all. The shape follows
real appliances: `/session_download?lsid=TOKEN&dl_action=chat&view=1`.
"""

from __future__ import annotations

import enum
import hmac

from itsdangerous import BadSignature, Signer
from itsdangerous.signer import HMACAlgorithm

DOWNLOAD_PATH = "/session_download"


class Grant(enum.StrEnum):
    CHAT = "chat"
    RECORDING = "recording"


class _Signer(Signer):
    """A Signer that derives its key once rather than for every link (a large report signs
    one per session)."""

    _key: bytes | None = None

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is not None:
            return super().derive_key(secret_key)
        if self._key is None:
            self._key = super().derive_key()
        return self._key


class _OneShotHmac(HMACAlgorithm):
    """itsdangerous's HMAC-SHA1 (the same signatures), computed in one call to C."""

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha1")


def _signer(secret: str, grant: Grant) -> Signer:
    if not secret:
        raise ValueError("the appliance has no secret to sign links with")
    return _Signer(secret, salt=f"lifeline.session-download.{grant.value}", sep=".", algorithm=_OneShotHmac())


class DownloadLinks:
    def __init__(self, secret: str, base_url: str) -> None:
        self.base_url = base_url
        self._chat = _signer(secret, Grant.CHAT)
        self._recording = _signer(secret, Grant.RECORDING)

    def _url(self, token: bytes, action: str, *, view: bool, instance: int | None = None) -> str:
        # The token (hex, a dot, URL-safe base64) and the rest need no escaping.
        url = f"{self.base_url}{DOWNLOAD_PATH}?lsid={token.decode('ascii')}&dl_action={action}"
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
