"""Plain HTTP and what every answer carries (issue 12, items 7 and 14): pages and sign-in
only over HTTPS, cookies always Secure, HSTS, nosniff and no framing, TLS 1.2 without CBC.
The rule is in docs/install.md, "Plain HTTP"."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas
from tests.support.sockets import sign_in

PAGES = ["/", "/login", "/console", "/console/login", "/chat/" + "a" * 40, "/static/lifeline.css", "/api/start_session"]


def test_pages_over_plain_http_move_to_https(appliance: RunningAppliance) -> None:
    https = f"https://support.example.com:{appliance.https_port}"
    for path in PAGES:
        for method in ("GET", "HEAD"):
            response = httpx.request(method, f"{appliance.http}{path}?a=1&b=%2F")
            assert response.status_code == 301, (method, path)
            assert response.headers["location"] == f"{https}{path}?a=1&b=%2F"
    # A host name of one of the appliance's sites is kept; anything else becomes the default site's.
    named = httpx.get(f"{appliance.http}/login", headers={"host": f"SUPPORT.example.com:{appliance.http_port}"})
    assert named.headers["location"] == f"{https}/login"
    other = httpx.get(f"{appliance.http}/login", headers={"host": "evil.example.net"})
    assert other.headers["location"] == f"{https}/login"


def test_a_sign_in_posted_over_plain_http_is_refused_unread(appliance: RunningAppliance, personas: Personas) -> None:
    for path in ("/console/login", "/login", "/api/start_session"):
        response = httpx.post(f"{appliance.http}{path}", data={"username": "admin", "password": "admin-password-1"})
        assert response.status_code == 403, path
        assert response.text == f"Use HTTPS: https://support.example.com:{appliance.https_port}{path}\n"
        assert "set-cookie" not in response.headers


def test_websockets_are_refused_over_plain_http(appliance: RunningAppliance) -> None:
    with socket.create_connection(("127.0.0.1", appliance.http_port), timeout=10) as sock:
        sock.sendall(
            b"GET /ws/console HTTP/1.1\r\nHost: support.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 403")


def test_the_xml_apis_and_health_checks_still_answer_plain_http(appliance: RunningAppliance) -> None:
    assert httpx.get(f"{appliance.http}/check_health").text == "OK\n"
    # Not allowed by default: each API's own refusal, not a redirect.
    command = httpx.get(f"{appliance.http}/api/command", params={"action": "get_api_info"})
    assert command.status_code == 200 and "available over HTTPS only" in command.text
    assert httpx.post(f"{appliance.http}/oauth2/token").json()["message"] == "HTTPS is required."
    assert httpx.get(f"{appliance.http}/session_download").status_code == 403


def test_sign_in_cookies_are_secure_and_https_answers_carry_hsts(
    appliance: RunningAppliance, personas: Personas
) -> None:
    with appliance.client() as client:
        page = client.get("/console/login")
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/console/login", data={"csrf": csrf, "username": "admin", "password": "admin-password-1"}
        )
        assert response.status_code == 303
        cookies = response.headers.get_list("set-cookie")
        assert cookies and all("; secure" in cookie.lower() for cookie in cookies)
        assert client.get("/check_health").headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in httpx.get(f"{appliance.http}/check_health").headers


@pytest.mark.parametrize(
    "path", ["/", "/login", "/console/login", "/static/console.js", "/check_health", "/api/command", "/nothing-here"]
)
def test_every_answer_forbids_sniffing_and_framing(appliance: RunningAppliance, path: str) -> None:
    with appliance.client() as client:
        response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_console_keeps_its_own_policy(appliance: RunningAppliance, personas: Personas) -> None:
    cookie = sign_in(appliance, "admin", "admin-password-1")
    with appliance.client() as client:
        response = client.get("/console", headers={"cookie": cookie})
    assert response.headers.get_list("content-security-policy") == [
        response.headers["content-security-policy"]
    ]  # one policy, the page's own
    assert "script-src 'self'" in response.headers["content-security-policy"]


def tls12_handshake(appliance: RunningAppliance, ciphers: str) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    with (
        socket.create_connection(("127.0.0.1", appliance.https_port), timeout=10) as raw,
        context.wrap_socket(raw) as tls,
    ):
        chosen = tls.cipher()
        assert chosen is not None
        return chosen[0]


def test_tls12_offers_no_cbc_suites(appliance: RunningAppliance) -> None:
    for cbc in (
        "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-ECDSA-AES256-SHA384",
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA",
    ):
        with pytest.raises(ssl.SSLError):
            tls12_handshake(appliance, cbc)
    assert tls12_handshake(appliance, "ECDHE-ECDSA-AES128-GCM-SHA256") == "ECDHE-ECDSA-AES128-GCM-SHA256"
    assert tls12_handshake(appliance, "ECDHE-ECDSA-CHACHA20-POLY1305") == "ECDHE-ECDSA-CHACHA20-POLY1305"
