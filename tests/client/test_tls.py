"""Trust: with --pin only the pinned certificate is trusted (a self-signed appliance works
without turning checks off, and nothing else can stand in for it); host names are checked
even then; by hand, --ca adds the appliance's certificate to the system's."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lifeline_client.errors import ClientError
from lifeline_client.tls import trust

from tests.client.scripted import (
    Certificate,
    ScriptedAppliance,
    launch,
    make_certificate,
    run_client,
    server_context,
    stop_client,
)


@pytest.fixture
def ours(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "ours", "appliance")


@pytest.fixture
def impostor(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "impostor", "appliance")  # same names, another key


@pytest.fixture
def appliance(ours: Certificate) -> Iterator[ScriptedAppliance]:
    scripted = ScriptedAppliance(ours)
    yield scripted
    scripted.close()


def handshake(server: Certificate, client: ssl.SSLContext, hostname: str = "127.0.0.1") -> None:
    """One TLS handshake against a tiny server holding `server`'s certificate."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    context = server_context(server)

    def accept() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                try:
                    with context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)
                except (ssl.SSLError, OSError):
                    pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client.wrap_socket(raw, server_hostname=hostname),
        ):
            pass
    finally:
        thread.join(5)


def test_a_pinned_certificate_is_the_only_one_trusted(ours: Certificate, impostor: Certificate) -> None:
    pinned = trust(pin=ours.cert)
    assert pinned.verify_mode == ssl.CERT_REQUIRED and pinned.check_hostname
    handshake(ours, pinned)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(impostor, pinned)


def test_host_names_are_checked_even_for_a_pinned_certificate(tmp_path: Path) -> None:
    elsewhere = make_certificate(tmp_path / "elsewhere", "appliance", loopback=False)
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        handshake(elsewhere, trust(pin=elsewhere.cert))
    handshake(elsewhere, trust(pin=elsewhere.cert), hostname="support.example.com")


def test_ca_adds_to_the_system_store(ours: Certificate, impostor: Certificate) -> None:
    handshake(ours, trust(ca=ours.cert))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(impostor, trust(ca=ours.cert))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(ours, trust())  # the system's authorities never signed it


def test_unreadable_certificate_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ClientError, match="holds no PEM certificate"):
        trust(pin=tmp_path / "junk.pem")
    with pytest.raises(ClientError, match="No such file"):
        trust(ca=tmp_path / "missing.pem")


def test_the_program_joins_only_the_pinned_appliance(
    appliance: ScriptedAppliance, ours: Certificate, impostor: Certificate
) -> None:
    refused = run_client(appliance.port, impostor.cert, trust="--pin")
    _, err = refused.communicate(timeout=30)
    assert refused.returncode == 1
    assert err.strip().startswith("lifeline-client: https://127.0.0.1:") and "is not trusted" in err
    assert "Traceback" not in err and appliance.hellos.empty()

    joined = run_client(appliance.port, ours.cert, trust="--pin")
    try:
        assert appliance.hello().token == "token-1"
    finally:
        stop_client(joined)


def test_connect_takes_the_token_from_the_redirect(appliance: ScriptedAppliance, ours: Certificate) -> None:
    process = launch(
        "connect", f"https://127.0.0.1:{appliance.port}", "123 4567", "--pin", str(ours.cert), "--no-browser"
    )
    try:
        path, accept = appliance.starts.get(timeout=20)
        assert path == "/api/start_session?short_key=1234567" and "text/html" in accept
        assert appliance.hello().token == "token-1"
    finally:
        stop_client(process)
