"""A Jumpoint's SSH shells against a real SSH server on loopback: the shell is served as the
session client's own (numbered frames, input, resize, the exit code), host keys are
trusted on first use and a changed one is refused, and a wrong password, a closed port or
an unknown host say so in words."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncssh
import pytest
from lifeline_client.jumpoint.ssh import KNOWN_HOSTS, Link, Login, SshError
from lifeline_client.shell import Shell
from lifeline_protocol.binary import FrameKind, unpack

from tests.client.test_shell import Seen, until
from tests.support.ssh_server import PASSWORD, USERNAME, SshServer, ssh_server


@pytest.fixture
def server(tmp_path: Path) -> SshServer:
    home = tmp_path / "home"
    home.mkdir()
    with ssh_server(home) as running:
        yield running  # type: ignore[misc]


def login(server: SshServer, password: str = PASSWORD) -> Login:
    return Login(host=server.host, port=server.port, username=USERNAME, password=password)


def test_an_ssh_shell_is_served_as_a_command_shell(server: SshServer, tmp_path: Path) -> None:
    async def scenario() -> None:
        link = Link(login(server), tmp_path / "jumpoint")
        seen = Seen()
        shell = Shell(3, on_frame=seen.frame, on_exit=seen.exit)
        await link.make_shell(shell, 100, 30)
        first = seen.output().decode()
        assert first.startswith(f"Lifeline: first connection to {server.host}:{server.port}")
        assert server.key.get_fingerprint("sha256") in first
        shell.write("echo $((40+2))\r")
        await until(lambda: b"42" in seen.output())
        shell.write("stty size\r")
        await until(lambda: b"30 100" in seen.output())
        shell.resize(132, 50)
        shell.write("stty size\r")
        await until(lambda: b"50 132" in seen.output())
        shell.write("exit 7\r")
        await asyncio.wait_for(seen.exited.wait(), 10)
        assert shell.exit_code == 7
        headers = [unpack(frame).header for frame in seen.frames]
        assert [h.sequence for h in headers] == list(range(1, len(headers) + 1))
        assert {h.kind for h in headers} == {FrameKind.SHELL} and {h.stream for h in headers} == {3}
        # A second shell of the same Shell Jump: the same connection, no notice again.
        again = Seen()
        second = Shell(4, on_frame=again.frame, on_exit=again.exit)
        await link.make_shell(second, 80, 24)
        second.close()
        await asyncio.wait_for(again.exited.wait(), 10)
        assert b"first connection" not in again.output()
        link.close()

    asyncio.run(scenario())
    line = (tmp_path / "jumpoint" / KNOWN_HOSTS).read_text()
    assert line.startswith(f"[{server.host}]:{server.port} ssh-ed25519 ")
    assert PASSWORD not in line


def test_a_changed_host_key_is_refused(server: SshServer, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")
    folder = tmp_path / "jumpoint"
    folder.mkdir()
    (folder / KNOWN_HOSTS).write_text(
        f"[{server.host}]:{server.port} {other.export_public_key('openssh').decode().split()[0]} "
        f"{other.export_public_key('openssh').decode().split()[1]}\n"
    )

    async def scenario() -> str:
        link = Link(login(server), folder)
        with pytest.raises(SshError) as raised:
            await link.make_shell(Shell(1, on_frame=lambda f: None, on_exit=lambda s: None), 80, 24)
        return str(raised.value)

    said = asyncio.run(scenario())
    assert f"the host key of {server.host}:{server.port} has changed" in said
    assert other.get_fingerprint("sha256") in said and server.key.get_fingerprint("sha256") in said
    assert "refused" in said and str(folder / KNOWN_HOSTS) in said


def failure(target: Login, folder: Path) -> str:
    async def scenario() -> str:
        link = Link(target, folder)
        with pytest.raises(SshError) as raised:
            await link.make_shell(Shell(1, on_frame=lambda f: None, on_exit=lambda s: None), 80, 24)
        return str(raised.value)

    return asyncio.run(scenario())


def test_errors_in_words(server: SshServer, tmp_path: Path) -> None:
    said = failure(login(server, "wrong"), tmp_path)
    assert said == f"authentication failed for {USERNAME} at {server.host}:{server.port}"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    said = failure(Login(host="127.0.0.1", port=port, username="x", password="y"), tmp_path)
    assert "refused the connection" in said
    said = failure(Login(host="no-such-host.invalid", port=22, username="x", password="y"), tmp_path)
    assert "not a host name" in said
    said = failure(Login(host=server.host, port=server.port, username=USERNAME, private_key="not a key"), tmp_path)
    assert said.startswith("the private key cannot be used")


def test_a_private_key_logs_in(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    text = key.export_private_key("openssh").decode()
    home = tmp_path / "home"
    home.mkdir()

    async def scenario(server: SshServer) -> bytes:
        link = Link(Login(host=server.host, port=server.port, username=USERNAME, private_key=text), tmp_path)
        seen = Seen()
        shell = Shell(1, on_frame=seen.frame, on_exit=seen.exit)
        await link.make_shell(shell, 80, 24)
        shell.write("echo key-$((1+1))\r")
        await until(lambda: b"key-2" in seen.output())
        shell.close()
        await asyncio.wait_for(seen.exited.wait(), 10)
        link.close()
        return seen.output()

    with ssh_server(home, client_key=key) as server:
        assert b"key-2" in asyncio.run(scenario(server))
