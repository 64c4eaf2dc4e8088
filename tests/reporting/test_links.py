"""Report links are signed by our own HMAC code for speed; itsdangerous, which verifies them
at the download page, must agree with every one of them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lifeline.api.reporting.links import DownloadLinks, Grant, _Minter, _signer, verified_lsid

SECRETS = st.text(min_size=1, max_size=200)


@given(secret=SECRETS, value=st.text(max_size=100), grant=st.sampled_from(list(Grant)))
def test_a_minted_token_is_what_itsdangerous_signs(secret: str, value: str, grant: Grant) -> None:
    assert _Minter(secret, grant).sign(value) == _signer(secret, grant).sign(value).decode("utf-8")


@given(secret=SECRETS, lsid=st.text("0123456789abcdef", min_size=32, max_size=32))
def test_links_open_for_their_grant_only(secret: str, lsid: str) -> None:
    links = DownloadLinks(secret, "https://support.example.com")
    view, download = links.chat_pair(lsid)
    token = download.split("lsid=", 1)[1].split("&", 1)[0]
    assert view == download + "&view=1"
    assert verified_lsid(secret, token, Grant.CHAT) == lsid
    assert verified_lsid(secret, token, Grant.RECORDING) is None
    assert verified_lsid(secret + "x", token, Grant.CHAT) is None
    recording = links.recording(lsid, "recording", view=False).split("lsid=", 1)[1].split("&", 1)[0]
    assert verified_lsid(secret, recording, Grant.RECORDING) == lsid
