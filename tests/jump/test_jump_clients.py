"""Jump Clients on a real appliance: installing with an installer key, the `/ws/jump` socket
(challenge, hello, welcome; refusals and their close codes), statistics written in batches,
removal (at connect and while connected), uninstall over HTTP, the connect rate, and the
`lifeline` commands that deploy them."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from lifeline_protocol import jump as wire
from sqlalchemy import update
from sqlalchemy.orm import Session
from websockets.exceptions import ConnectionClosed

from lifeline.db.base import utcnow
from lifeline.jump import actions as jump
from lifeline.jump.models import JumpClient, JumpInstaller
from tests.jump.jumpclient import FakeJumpClient
from tests.support.appliance import RunningAppliance, eventually


@pytest.fixture(scope="module")
def installer(appliance: RunningAppliance) -> dict[str, Any]:
    appliance.cli("jump-group", "add", "Servers", "--member", "admin", "--comments", "the racks")
    made: dict[str, Any] = appliance.cli_json(
        "jump-installer", "add", "--group", "Servers", "--tag", "rack-4", "--comments", "server room"
    )
    return made


def row(appliance: RunningAppliance, jump_client_id: int) -> JumpClient:
    def read(session: Session) -> JumpClient:
        found = session.get(JumpClient, jump_client_id)
        assert found is not None
        session.expunge(found)
        return found

    return appliance.with_session(read)


def installed(appliance: RunningAppliance, installer: dict[str, Any], hostname: str = "kiosk-1") -> FakeJumpClient:
    client = FakeJumpClient(appliance, hostname)
    client.install(installer["key"])
    return client


def test_the_installer_prints_its_key_and_command_once(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    assert installer["command"].startswith("lifeline-client jump install https://support.example.com --key ")
    assert installer["key"] in installer["command"]
    assert f"--ca {appliance.cert_path}" in installer["command"]
    assert installer["consent_required"] is True  # the default: sessions ask the user

    def stored(session: Session) -> tuple[str, bool]:
        found = session.get(JumpInstaller, installer["id"])
        assert found is not None
        return found.key_sha256, found.consent_required

    digest, _ = appliance.with_session(stored)
    assert digest == jump.key_sha256(installer["key"]) and installer["key"] not in digest
    no_consent = appliance.cli_json("jump-installer", "add", "--personal", "admin", "--no-consent", "--valid", "3600")
    assert no_consent["consent_required"] is False


def test_install_with_a_key(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = FakeJumpClient(appliance, "till-7")
    answer = client.install(installer["key"])
    assert answer == {"id": client.id, "name": "till-7", "mode": "jump_client"}
    stored = row(appliance, client.id)
    assert (stored.tag, stored.comments, stored.consent_required) == ("rack-4", "server room", True)
    assert stored.public_key == client.public_key and stored.public_ip == "127.0.0.1"
    listed = appliance.cli_json("jump", "list")
    assert any(item["id"] == client.id and item["group"] == "Servers" for item in listed)


def test_install_refusals_say_why(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = FakeJumpClient(appliance)
    with appliance.client() as http:
        unknown = http.post("/jump/install", json=client.install_body("not-a-key"))
        assert unknown.status_code == 403
        assert unknown.json() == {"error": "This installer key is not known here."}
        wrong = http.post("/jump/install", json=client.install_body(installer["key"], signature="A" * 86))
        assert wrong.status_code == 403 and "signature" in wrong.json()["error"]
        bad = http.post("/jump/install", content=b"{not json", headers={"content-type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"].startswith("not a valid request")
        big = http.post("/jump/install", content=b"x" * (65 * 1024))
        assert big.status_code == 413

    expired = appliance.cli_json("jump-installer", "add", "--group", "Servers", "--valid", "60")

    def expire(session: Session) -> None:
        session.execute(
            update(JumpInstaller)
            .where(JumpInstaller.id == expired["id"])
            .values(expires_at=utcnow() - timedelta(hours=1))
        )

    appliance.with_session(expire)
    with appliance.client() as http:
        answer = http.post("/jump/install", json=client.install_body(expired["key"]))
    assert answer.status_code == 410
    assert "expired on" in answer.json()["error"] and "ask your administrator for a new one" in answer.json()["error"]


def test_hello_and_welcome(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = installed(appliance, installer, "desk-12")
    socket, welcome = client.connect()
    assert welcome["type"] == "welcome" and welcome["name"] == "desk-12"
    assert welcome["statistics"] == ["console_user", "cpu", "disk", "uptime"] and welcome["interval"] == 60
    assert welcome["upgrade"] is None  # no client build in this appliance
    eventually(lambda: _assert(row(appliance, client.id).connected_node is not None))
    socket.close()
    eventually(lambda: _assert(row(appliance, client.id).connected_node is None))
    assert row(appliance, client.id).last_seen_at is not None


def test_a_bad_signature_closes_4400(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = installed(appliance, installer)
    other = FakeJumpClient(appliance)
    socket = client.open()
    challenge = socket.next()
    socket.send(
        wire.Hello(
            id=client.id,
            signature=other.sign(wire.signed_text(challenge["nonce"], client.id, client.origin)),
            computer=client.computer,
        )
    )
    assert socket.close_code()[0] == 4400


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "{",
        "[]",
        '{"type": "hello"}',
        '{"type": "hello", "id": -1, "signature": "x", "computer": {}}',
        '{"type": "statistics", "cpu": 5}',
        '{"type": "hello", "id": 1, "signature": "' + "x" * 300 + '", "computer": {}}',
        "\u0000" * 1000,
    ],
)
def test_bad_hellos_close_4400_in_words(appliance: RunningAppliance, frame: str) -> None:
    socket = FakeJumpClient(appliance).open()
    assert socket.next()["type"] == "challenge"
    socket.send_raw(frame)
    code, _ = socket.close_code()
    assert code == 4400
    assert "Traceback" not in appliance.log_tail()


def test_bad_frames_after_welcome_close_4400(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = installed(appliance, installer)
    for frame in [
        '{"type": "statistics", "cpu": 500}',
        '{"type": "nope"}',
        "{",
        '{"type": "statistics", "thumbnail": 5}',
    ]:
        socket, welcome = client.connect()
        assert welcome["type"] == "welcome"
        socket.send_raw(frame)
        assert socket.close_code()[0] == 4400
    assert "Traceback" not in appliance.log_tail()


def test_unknown_or_removed_are_told_to_uninstall(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    stranger = FakeJumpClient(appliance)
    stranger.id = 999_999
    socket, answer = stranger.connect()
    assert answer["type"] == "uninstall"
    assert socket.close_code()[0] == 4403

    client = installed(appliance, installer)
    appliance.cli("jump", "remove", str(client.id))
    socket, answer = client.connect()
    assert answer["type"] == "uninstall" and "removed" in answer["reason"]
    assert socket.close_code()[0] == 4403
    assert all(item["id"] != client.id for item in appliance.cli_json("jump", "list"))


def test_removed_while_connected(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    """The `lifeline` command is another process: the appliance finds the removal within its
    flush round (5 s) and tells the client."""
    client = installed(appliance, installer)
    socket, welcome = client.connect()
    assert welcome["type"] == "welcome"
    appliance.cli("jump", "remove", str(client.id))
    code, seen = socket.close_code(timeout=15)
    assert code == 4403 and [m["type"] for m in seen] == ["uninstall"]


def test_a_newer_socket_replaces_the_older(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = installed(appliance, installer)
    first, _ = client.connect()
    second, welcome = client.connect()
    assert welcome["type"] == "welcome"
    assert first.close_code()[0] == 4409
    time.sleep(0.5)
    assert row(appliance, client.id).connected_node is not None  # the older socket's end left it online
    second.close()


def test_statistics_are_stored_in_batches(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    clients = [installed(appliance, installer, f"pos-{n}") for n in range(3)]
    sockets = []
    for n, client in enumerate(clients):
        socket, _ = client.connect()
        socket.send(wire.Statistics(console_user=f"clerk{n}", cpu=10.0 + n, disk=50.5, uptime=3600 * n))
        sockets.append(socket)

    def written() -> None:
        for n, client in enumerate(clients):
            stored = row(appliance, client.id)
            assert (stored.console_user, stored.cpu, stored.disk, stored.uptime) == (
                f"clerk{n}",
                10.0 + n,
                50.5,
                3600 * n,
            )

    eventually(written, timeout=15)
    for socket in sockets:
        socket.close()


def test_uninstall_over_http(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = installed(appliance, installer)
    old = client.uninstall(at=time.time() - 3600)
    assert old.status_code == 403 and "clock" in old.json()["error"]
    impostor = FakeJumpClient(appliance)
    impostor.id = client.id
    assert impostor.uninstall().status_code == 403
    assert row(appliance, client.id).revoked_at is None
    answer = client.uninstall()
    assert answer.status_code == 200
    assert row(appliance, client.id).revoked_at is not None


def test_purge_removes_those_not_seen_for_days(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    old, recent = installed(appliance, installer, "old"), installed(appliance, installer, "recent")

    def age(session: Session) -> None:
        session.execute(
            update(JumpClient).where(JumpClient.id == old.id).values(last_seen_at=utcnow() - timedelta(days=40))
        )

    appliance.with_session(age)
    assert appliance.call(jump.purge_offline, 0) == 0  # 0: never
    assert appliance.call(jump.purge_offline, 30) >= 1
    assert appliance.with_session(lambda s: s.get(JumpClient, old.id)) is None
    assert appliance.with_session(lambda s: s.get(JumpClient, recent.id)) is not None


def test_connect_rate(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    appliance.cli_settled("settings", "set", "jump_connect_rate", "2")
    try:
        codes: list[int | None] = []
        for _ in range(6):
            socket = FakeJumpClient(appliance).open()
            try:
                socket.next(timeout=5)
                codes.append(None)
                socket.close()
            except Exception:
                codes.append(socket.close_code()[0])
        assert 1013 in codes
    finally:
        appliance.cli_settled("settings", "set", "jump_connect_rate", "200")


def test_cli_refusals_are_one_line(appliance: RunningAppliance) -> None:
    with pytest.raises(SystemExit):
        appliance.cli("jump-installer", "add", "--group", "No such group")
    with pytest.raises(SystemExit):
        appliance.cli("jump-group", "add", "Kiosks", "--member", "nobody-here")
    with pytest.raises(SystemExit):
        appliance.cli("jump", "remove", "424242")


def _assert(condition: bool) -> None:
    assert condition


def test_older_clients_are_offered_an_upgrade_throttled(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    manifest = Path(__file__).resolve().parents[2] / "build" / "client" / "manifest.json"
    if not manifest.is_file():
        pytest.skip("no client build (scripts/install builds it)")
    version = json.loads(manifest.read_text())["version"]
    appliance.cli_settled("settings", "set", "jump_upgrade_rate", "1")
    try:
        old = [installed(appliance, installer, f"old-{n}") for n in range(2)]
        offers = []
        for client in old:
            client.computer = msgspec.structs.replace(client.computer, client_version="0.0.1")
            socket, welcome = client.connect()
            offers.append(welcome["upgrade"])
            socket.close()
        first, second = offers
        assert first is not None and first["version"] == version
        assert first["url"] == f"/download/client/lifeline-client-{version}-linux-x86_64.pyz"
        assert len(first["sha256"]) == 64 and first["size"] > 0
        assert second is None  # one a minute: the next waits for a later connection
        with appliance.client() as http:
            assert http.head(first["url"]).status_code == 200
    finally:
        appliance.cli_settled("settings", "set", "jump_upgrade_rate", "5")


def test_a_flood_of_messages_is_closed(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = installed(appliance, installer)
    socket, _ = client.connect()
    with contextlib.suppress(ConnectionClosed):  # closed while it still sends
        for _ in range(200):
            socket.send(wire.Statistics(cpu=1.0))
    assert socket.close_code()[0] == 4400


def test_statistics_of_many_clients_in_one_call(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    def make(session: Session) -> list[int]:
        rows = [JumpClient(public_key=f"bulk-{n}-{time.time()}", name=f"bulk-{n}") for n in range(1200)]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]

    ids = appliance.with_session(make)
    seen_at = utcnow()
    numbers = {i: wire.Statistics(cpu=float(n % 100), uptime=n) for n, i in enumerate(ids[:1000])}
    started = time.perf_counter()
    appliance.call(jump.record_statistics_batch, numbers, seen_at, ids)
    took = time.perf_counter() - started
    assert row(appliance, ids[999]).cpu == 99.0 and row(appliance, ids[999]).uptime == 999
    assert row(appliance, ids[1100]).last_seen_at is not None and row(appliance, ids[1100]).cpu is None
    assert took < 10, took


def test_groups_members_and_removal(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    from lifeline.jump.models import JumpGroupMember

    group_id = appliance.call(lambda s: jump.add_group(s, "Kiosks", "", ["admin"], []).id)
    with pytest.raises(jump.JumpError, match="already exists"):
        appliance.call(jump.add_group, "kiosks")
    with pytest.raises(jump.JumpError, match="no team named"):
        appliance.call(jump.set_members, group_id, ["admin"], ["Nobody's team"])
    members = appliance.with_session(
        lambda s: s.query(JumpGroupMember).filter(JumpGroupMember.jump_group_id == group_id).count()
    )
    assert members == 1
    made = appliance.cli_json("jump-installer", "add", "--group", "Kiosks")
    client = FakeJumpClient(appliance, "kiosk-lobby")
    client.install(made["key"])
    socket, _ = client.connect()
    appliance.call(jump.remove_group, group_id)
    assert appliance.with_session(lambda s: s.get(JumpClient, client.id)) is None
    code, seen = socket.close_code(timeout=15)  # gone with its group: told within the process's check
    assert code == 4403 and [m["type"] for m in seen] == ["uninstall"]


def test_clients_of_dead_or_unknown_nodes_go_offline(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    client = installed(appliance, installer)

    def strand(session: Session) -> None:
        session.execute(update(JumpClient).where(JumpClient.id == client.id).values(connected_node="f" * 32))

    appliance.with_session(strand)
    assert appliance.call(jump.clear_nodes, []) >= 1
    assert row(appliance, client.id).connected_node is None


def test_a_held_socket_set_offline_is_claimed_again(appliance: RunningAppliance, installer: dict[str, Any]) -> None:
    """A process frozen past the node grace is swept (its Jump Clients offline); once it runs
    again its sockets are still there, and it says so within its check."""
    client = installed(appliance, installer)
    socket, _ = client.connect()
    eventually(lambda: _assert(row(appliance, client.id).connected_node is not None))

    def swept(session: Session) -> None:
        session.execute(update(JumpClient).where(JumpClient.id == client.id).values(connected_node=None))

    appliance.with_session(swept)
    eventually(lambda: _assert(row(appliance, client.id).connected_node is not None), timeout=15)
    socket.close()


def test_no_hello_within_15_seconds_closes_4400(appliance: RunningAppliance) -> None:
    socket = FakeJumpClient(appliance).open()
    assert socket.next()["type"] == "challenge"
    started = time.monotonic()
    assert socket.close_code(timeout=25)[0] == 4400
    assert 14 <= time.monotonic() - started < 25


def test_installer_keys_never_start_like_an_option() -> None:
    """`jump install … --key KEY` reads a key starting with "-" as an option (1 key in 64 did)."""
    from lifeline.jump.actions import installer_key

    keys = [installer_key() for _ in range(2_000)]
    assert not [key for key in keys if key.startswith("-")]
    assert len(set(keys)) == len(keys) and all(len(key) == 43 for key in keys)
