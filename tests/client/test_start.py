"""Starting a session as the public site's forms and links do: the Session Generation API's
parameter sets, asked as a browser asks (Accept: text/html), the token from the redirect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from lifeline_client.errors import ClientError
from lifeline_client.start import parse_chat_url, parse_site

from tests.client.scripted import Certificate, ScriptedAppliance, launch, make_certificate, stop_client


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path)


@pytest.fixture
def appliance(certificate: Certificate) -> Iterator[ScriptedAppliance]:
    scripted = ScriptedAppliance(certificate)
    yield scripted
    scripted.close()


@pytest.mark.parametrize(
    ("args", "params"),
    [
        (("connect", "{site}", "765 4321"), {"short_key": ["7654321"]}),
        (("rep", "{site}", "5", "--name", "Tess Tester"), {"id": ["5"], "customer_name": ["Tess Tester"]}),
        (
            ("rep", "{site}", "alice rep", "--name", "Tess"),
            {"id": ["5"], "name": ["Alice Rep"], "customer_name": ["Tess"]},
        ),
        (
            ("issue", "{site}", "--issue", "2", "--name", "Tess", "--details", "printer jams"),
            {"issue_menu": ["1"], "id": ["2"], "customer_name": ["Tess"], "customer_desc": ["printer jams"]},
        ),
    ],
)
def test_each_way_to_start(
    appliance: ScriptedAppliance, certificate: Certificate, args: tuple[str, ...], params: dict[str, list[str]]
) -> None:
    site = f"https://127.0.0.1:{appliance.port}"
    process = launch(*(arg.format(site=site) for arg in args), "--pin", str(certificate.cert), "--no-browser")
    try:
        path, accept = appliance.starts.get(timeout=20)
        assert urlsplit(path).path == "/api/start_session"
        assert parse_qs(urlsplit(path).query) == params
        assert accept.startswith("text/html")
        assert appliance.hello().token == "token-1"
    finally:
        stop_client(process)


def test_a_rep_not_on_the_list_is_a_clear_error(appliance: ScriptedAppliance, certificate: Certificate) -> None:
    process = launch("rep", f"https://127.0.0.1:{appliance.port}", "Bob", "--pin", str(certificate.cert))
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert err == "lifeline-client: no representative named 'Bob' is on the site's list now; use their id\n"


def test_addresses() -> None:
    assert parse_site("support.example.com").origin == "https://support.example.com"
    assert parse_site("https://support.example.com:8443/").origin == "https://support.example.com:8443"
    assert parse_site("https://[::1]:8443").server_hostname == "::1"
    target = parse_chat_url("https://support.example.com/chat/AbC-12_x")
    assert target.token == "AbC-12_x" and "AbC" not in repr(target)
    for bad in ("http://h", "https://user:pw@h", "https://h:99999", "https://bad host"):
        with pytest.raises(ClientError):
            parse_site(bad)
    for bad in ("https://h/chat/", "https://h/other/x", "https://h/chat/a%20b"):
        with pytest.raises(ClientError):
            parse_chat_url(bad)
