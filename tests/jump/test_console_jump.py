"""The console's Jump requests, spoken over its socket: the Jump list (who sees what, the
search rules, filters and pages), jumping and its refusals, removing, and client scripts.

Most Jump Clients here are rows (tests.support.jump_rows): online means `connected_node` set
to a node no process holds, so a Jump to them is told to nobody and times out. The last
tests jump to protocol-level Jump Clients on /ws/jump that answer `started`."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lifeline_protocol.computer import CAPABILITIES
from lifeline_protocol.jump import Started
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.jump.models import JumpGroup
from lifeline.jump.sessions import moved
from lifeline.realtime.jump_console import JUMP_ANSWER_SECONDS
from lifeline.sessions.models import SessionEvent, SupportSession
from tests.jump.jumpclient import FakeJumpClient, JumpSocket
from tests.support.appliance import RunningAppliance
from tests.support.jump_rows import add_client, add_group
from tests.support.personas import Personas
from tests.support.reporting import NS_LATER, ReportingApi
from tests.support.sockets import Console, sign_in

refs = (f"j{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def jump(appliance: RunningAppliance, personas: Personas) -> dict[str, int]:
    """rep_a: Servers (as a user) and a personal list; rep_b: Kiosks (through Team B)."""
    servers = add_group(appliance, "Servers", users=[personas.rep_a.id])
    kiosks = add_group(appliance, "Kiosks", teams=[personas.team_b])
    nobody = add_group(appliance, "Nobody's")
    return {
        "servers": servers,
        "kiosks": kiosks,
        "db1": add_client(
            appliance,
            "DB1.example.lan",
            group=servers,
            comments="Example Co database",
            tag="Finance",
            public_ip="203.0.113.7",
            private_ip="192.168.9.14",
            os="Ubuntu 24.04",
            platform="linux",
        ),
        "web1": add_client(
            appliance, "web1", group=servers, comments="shop front 100%_off", tag="web", private_ip="10.0.0.5"
        ),
        "web2": add_client(appliance, "web2", group=servers, online=False, tag="web", private_ip="10.0.0.6"),
        "laptop": add_client(appliance, "alice-laptop", personal=personas.rep_a.id, name="Alice's laptop"),
        "gone": add_client(appliance, "gone-box", group=servers, revoked=True),
        "kiosk": add_client(appliance, "kiosk-7", group=kiosks, comments="lobby"),
        "bobs": add_client(appliance, "bob-desk", personal=personas.rep_b.id),
        "hidden": add_client(appliance, "secret-server", group=nobody),
        "jumpoint": add_client(appliance, "jp-lab", group=servers, mode="jumpoint", name="Lab Jumpoint"),
    }


def console_of(appliance: RunningAppliance, personas: Personas, who: str) -> Console:
    user = getattr(personas, who)
    return Console(appliance, sign_in(appliance, user.username, user.password))


@pytest.fixture
def alice(appliance: RunningAppliance, personas: Personas, jump: dict[str, int]) -> Iterator[Console]:
    console = console_of(appliance, personas, "rep_a")
    yield console
    console.send({"type": "logout"})
    console.close()


@pytest.fixture
def bob(appliance: RunningAppliance, personas: Personas, jump: dict[str, int]) -> Iterator[Console]:
    console = console_of(appliance, personas, "rep_b")
    yield console
    console.send({"type": "logout"})
    console.close()


def ask(console: Console, kind: str, *, timeout: float = 10, **fields: Any) -> dict[str, Any]:
    ref = next(refs)
    console.send({"type": kind, "ref": ref, **fields})
    deadline = time.monotonic() + timeout
    while True:
        message = console.until("ack", "error", timeout=max(0.1, deadline - time.monotonic()))
        if message.get("ref") == ref:
            return message


def listed(console: Console, **fields: Any) -> list[str]:
    answer = ask(console, "jump_list", **fields)
    assert answer["ok"], answer
    return [item["hostname"] for item in answer["result"]["items"]]


def test_a_rep_lists_their_groups_and_personal_list_and_nothing_else(alice: Console, bob: Console) -> None:
    assert sorted(listed(alice), key=str.lower) == ["alice-laptop", "DB1.example.lan", "jp-lab", "web1", "web2"]
    assert sorted(listed(bob), key=str.lower) == ["bob-desk", "kiosk-7"]  # Kiosks through Team B


def test_the_list_says_what_the_console_shows(alice: Console, jump: dict[str, int], personas: Personas) -> None:
    answer = ask(alice, "jump_list", search="db1")["result"]
    assert answer["total"] == 1
    (item,) = answer["items"]
    assert item["id"] == jump["db1"]
    assert item["name"] == "DB1.example.lan"  # a Jump Client without a name goes by its hostname
    assert item["group"] == f"group:{jump['servers']}" and item["group_name"] == "Servers"
    assert item["online"] is True and item["last_seen"] > 0
    assert (item["os"], item["platform"], item["mode"]) == ("Ubuntu 24.04", "linux", "jump_client")
    assert answer["groups"] == [
        {"key": "personal", "name": "Personal list"},
        {"key": f"group:{jump['servers']}", "name": "Servers"},
    ]
    (laptop,) = ask(alice, "jump_list", group="personal")["result"]["items"]
    assert laptop["group"] == f"personal:{personas.rep_a.id}"
    assert laptop["group_name"] == "Personal list of Alice Rep"


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("ABCDEFGH", []),
        ("db1.EXAMPLE", ["DB1.example.lan"]),  # hostname, any case
        ("example co", ["DB1.example.lan"]),  # comments
        ("203.0.113", ["DB1.example.lan"]),  # public IP
        ("192.168.9.14", ["DB1.example.lan"]),  # private IP
        ("10.0.0", ["web1", "web2"]),
        ("alice's", ["alice-laptop"]),  # name
        ("finance", ["DB1.example.lan"]),  # tag
        ("100%_", ["web1"]),  # % and _ are themselves, not wildcards
        ("%", ["web1"]),
        ("client.hostname=web1", ["web1"]),  # exact fields
        ("client.hostname=web", []),
        ("client.tag=WEB", ["web1", "web2"]),
        ("client.private_ip=10.0.0.6", ["web2"]),
        ("client.public_ip=203.0.113.7", ["DB1.example.lan"]),
        ("client.comments=lobby", []),  # Kiosks are not alice's
        ("secret", []),  # not in her groups
        ("gone", []),  # removed
    ],
)
def test_searching(alice: Console, search: str, found: list[str]) -> None:
    assert sorted(listed(alice, search=search), key=str.lower) == found


def test_filters_sorting_and_pages(alice: Console, jump: dict[str, int]) -> None:
    assert sorted(listed(alice, online=False), key=str.lower) == ["web2"]
    assert listed(alice, mode="jumpoint") == ["jp-lab"]
    assert sorted(listed(alice, group=f"group:{jump['kiosks']}"), key=str.lower) == []  # a group she is not in
    assert listed(alice, group="group:x") == []
    by_host = listed(alice, sort="hostname")
    assert by_host == ["alice-laptop", "DB1.example.lan", "jp-lab", "web1", "web2"]
    assert listed(alice, sort="hostname", descending=True) == list(reversed(by_host))
    page = ask(alice, "jump_list", sort="hostname", offset=1, limit=2)["result"]
    assert [i["hostname"] for i in page["items"]] == by_host[1:3] and page["total"] == 5
    refused = ask(alice, "jump_list", limit=501)
    assert refused["ok"] is False and "limit" in refused["error"]


def test_a_non_member_cannot_jump_or_remove(bob: Console, jump: dict[str, int]) -> None:
    for name in ("db1", "hidden", "gone", "laptop"):
        answer = ask(bob, "jump", jump_client=jump[name])
        assert answer == {
            "type": "ack",
            "ref": answer["ref"],
            "ok": False,
            "error": "You may not jump to that computer.",
        }
        answer = ask(bob, "jump_remove", jump_client=jump[name])
        assert (answer["ok"], answer["error"]) == (False, "You may not remove that Jump Client.")
    answer = ask(bob, "shell_jump", jumpoint=jump["jumpoint"], host="10.0.0.9", username="root", password="pw")
    assert (answer["ok"], answer["error"]) == (False, "You may not use that Jumpoint.")


def test_an_offline_client_is_refused_in_words(alice: Console, jump: dict[str, int]) -> None:
    answer = ask(alice, "jump", jump_client=jump["web2"])
    assert answer["ok"] is False
    assert answer["error"].startswith("web2 is offline (last seen 20") and answer["error"].endswith(" UTC).")
    answer = ask(alice, "jump", jump_client=jump["jumpoint"])  # a Jumpoint is for Shell Jumps and pushes
    assert (answer["ok"], answer["error"]) == (False, "You may not jump to that computer.")


def test_a_shell_jump_needs_a_real_host_and_a_credential(alice: Console, jump: dict[str, int]) -> None:
    answer = ask(alice, "shell_jump", jumpoint=jump["jumpoint"], host="a b", username="root", password="pw")
    assert (answer["ok"], answer["error"]) == (False, "That is not a host name or IP address.")
    answer = ask(alice, "push_start", jumpoint=jump["jumpoint"], host="10.0.0.9", username="root")
    assert (answer["ok"], answer["error"]) == (False, "Give a password or a private key for the SSH login.")


def test_a_jump_nobody_answers_ends_its_session_and_is_in_the_reports(
    appliance: RunningAppliance,
    personas: Personas,
    alice: Console,
    jump: dict[str, int],
    client: httpx.Client,
) -> None:
    """Nothing holds these clients' sockets: both wait out JUMP_ANSWER_SECONDS side by side,
    the console working meanwhile; the sessions were the rep's, logged, and are ended."""
    started = time.monotonic()
    jump_ref, shell_ref = next(refs), next(refs)
    alice.send({"type": "jump", "ref": jump_ref, "jump_client": jump["db1"], "external_key": "BMC0000001275"})
    alice.send(
        {
            "type": "shell_jump",
            "ref": shell_ref,
            "jumpoint": jump["jumpoint"],
            "host": "10.0.0.9",
            "username": "root",
            "password": "never-logged-pw",
        }
    )
    owned = [alice.until("session") for _ in range(2)]  # the console follows both at once
    assert ask(alice, "jump_list", search="web1")["ok"]  # and still answers meanwhile
    answers = {}
    while len(answers) < 2:
        message = alice.until("ack", timeout=JUMP_ANSWER_SECONDS + 10)
        if message.get("ref") in (jump_ref, shell_ref):
            answers[message["ref"]] = message
    assert time.monotonic() - started >= JUMP_ANSWER_SECONDS - 1
    assert answers[jump_ref]["ok"] is False
    assert answers[jump_ref]["error"] == "DB1.example.lan did not answer within 15 seconds."
    assert answers[shell_ref]["error"] == "10.0.0.9 did not answer within 15 seconds."
    lsids = {s["session"]["lsid"] for s in owned}
    reporting = ReportingApi(client)
    for lsid in lsids:
        root = reporting.call("SupportSession", personas.admin.params, lsid=lsid)
        (session,) = root
        text = {child.tag.split("}")[1]: child for child in session}
        assert session.find(f"{{{NS_LATER}}}end_time") is not None
        primary = text["primary_customer"].text
        assert primary in ("DB1.example.lan", "10.0.0.9")
        if primary == "10.0.0.9":
            jumpoint = text["jumpoint"]
            assert (jumpoint.text, jumpoint.get("id")) == ("Lab Jumpoint", str(jump["jumpoint"]))
        else:
            assert "jumpoint" not in text
            assert text["external_key"].text == "BMC0000001275"
        events = [e.get("event_type") for e in session.iter(f"{{{NS_LATER}}}event")]
        assert events[0] == "Session Start" and "Session Pinned to Queue" in events
        assert "Conference Owner Changed" in events and events[-1] == "Session End"
    assert "never-logged-pw" not in appliance.log_tail(10**7)


def test_removing_a_client_in_a_live_session_unpins_it(
    appliance: RunningAppliance, alice: Console, jump: dict[str, int]
) -> None:
    box = add_client(appliance, "temp-box", group=jump["servers"])
    alice.send({"type": "jump", "ref": next(refs), "jump_client": box})
    assert alice.until("session")["session"]["customer"]
    ref = next(refs)
    alice.send({"type": "jump_remove", "ref": ref, "jump_client": box})
    removed, unpinned = None, None
    while removed is None or unpinned is None:  # the event may come before the ack or after
        message = alice.until("ack", "event")
        if message["type"] == "ack" and message["ref"] == ref:
            removed = message
        elif message["type"] == "event" and message["event"]["type"] == "Session Unpinned from Queue":
            unpinned = message
    assert removed["ok"], removed
    assert dict(unpinned["event"]["data"])["name"] == "Servers"
    assert listed(alice, search="temp-box") == []
    assert ask(alice, "jump", jump_client=box)["error"] == "You may not jump to that computer."


def test_an_admin_may_remove_any_jump_client_but_jumps_only_to_their_own(
    appliance: RunningAppliance, personas: Personas, jump: dict[str, int]
) -> None:
    box = add_client(appliance, "admin-removes-me", group=jump["kiosks"])
    admin = console_of(appliance, personas, "admin")
    try:
        assert ask(admin, "jump", jump_client=box)["error"] == "You may not jump to that computer."
        assert ask(admin, "jump_remove", jump_client=box)["ok"] is True
        again = ask(admin, "jump_remove", jump_client=box)  # removed: nothing left to remove
        assert (again["ok"], again["error"]) == (False, "You may not remove that Jump Client.")
    finally:
        admin.send({"type": "logout"})
        admin.close()


def test_moving_a_client_in_a_live_session_logs_both_queues(
    appliance: RunningAppliance, alice: Console, jump: dict[str, int]
) -> None:
    box = add_client(appliance, "move-box", group=jump["servers"])
    alice.send({"type": "jump", "ref": next(refs), "jump_client": box})
    lsid = alice.until("session")["session"]["lsid"]

    def move(session: Session) -> list[str]:
        moved(session, box, session.get(JumpGroup, jump["kiosks"]))
        found = session.scalars(select(SupportSession).where(SupportSession.lsid == lsid)).one()
        kinds = select(SessionEvent.event_type).where(SessionEvent.session_id == found.id).order_by(SessionEvent.id)
        return list(session.scalars(kinds))

    events = appliance.call(move)
    assert events[-2:] == ["Pinned Session Moved away from Queue", "Pinned Session Moved to Queue"]
    assert listed(alice, search="move-box") == []  # Kiosks are not hers


def script(*lines: str) -> str:
    return "\n".join(["BRCS1.0", "action=login&hostname=localhost", *lines]) + "\n"


def test_open_script_finds_the_jump_clients_of_a_start_pinned_client_session(alice: Console) -> None:
    one = ask(
        alice,
        "open_script",
        text=script("action=start_pinned_client_session&search_string=192.168.9.14&session.custom.external_key=K1"),
    )
    (command,) = one["result"]["commands"]
    assert command["action"] == "start_pinned_client_session"
    assert [c["hostname"] for c in command["jump_clients"]] == ["DB1.example.lan"]
    assert command["external_key"] == "K1" and command["total"] == 1
    several = ask(alice, "open_script", text=script("action=start_pinned_client_session&client.tag=web"))
    (command,) = several["result"]["commands"]
    assert sorted(c["hostname"] for c in command["jump_clients"]) == ["web1", "web2"]
    assert command["explanation"] == "2 Jump Clients match client.tag 'web': choose one."
    none = ask(alice, "open_script", text=script("action=start_pinned_client_session&search_string=lobby"))
    (command,) = none["result"]["commands"]
    assert command["jump_clients"] == [] and command["explanation"].startswith("No Jump Client you may use")


def test_open_script_offers_the_online_jumpoints_for_a_push(alice: Console) -> None:
    answer = ask(alice, "open_script", text=script("action=push_and_start_local&hostname=pc-12.lab"))
    (command,) = answer["result"]["commands"]
    assert command["action"] == "push_and_start_local" and command["hostname"] == "pc-12.lab"
    assert [j["name"] for j in command["jumpoints"]] == ["Lab Jumpoint"]


# --- with a Jump Client on /ws/jump (tests.jump.jumpclient) ------------------------------------


def connected_client(appliance: RunningAppliance, hostname: str, *flags: str) -> tuple[FakeJumpClient, JumpSocket]:
    installer = appliance.cli_json("jump-installer", "add", "--group", "Servers", *flags)
    fake = FakeJumpClient(appliance, hostname)
    fake.install(installer["key"])
    socket, welcome = fake.connect()
    assert welcome["type"] == "welcome", welcome
    return fake, socket


def test_a_jump_the_client_starts_is_acked_with_its_session(
    appliance: RunningAppliance, alice: Console, jump: dict[str, int]
) -> None:
    fake, socket = connected_client(appliance, "desk-42", "--no-consent")
    ref = next(refs)
    alice.send({"type": "jump", "ref": ref, "jump_client": fake.id})
    told = socket.next()
    assert told["type"] == "start_session"
    assert told["allowed"] == list(CAPABILITIES) and told["rep"] == "Alice Rep"
    while alice.until("session")["session"]["lsid"] != told["lsid"]:
        pass  # the console follows the new session (others of hers may change meanwhile)
    socket.send(Started(request=told["request"]))
    answer = alice.ack(ref)
    assert answer["ok"] is True and answer["result"] == {"lsid": told["lsid"]}
    socket.close()


def test_a_client_that_refuses_ends_the_session_and_the_ack_says_why(
    appliance: RunningAppliance, alice: Console, personas: Personas, client: httpx.Client
) -> None:
    fake, socket = connected_client(appliance, "desk-43")  # its group asks the user's consent
    ref = next(refs)
    alice.send({"type": "jump", "ref": ref, "jump_client": fake.id})
    told = socket.next()
    assert told["allowed"] == []
    socket.send(Started(request=told["request"], error="the computer is shutting down"))
    answer = alice.ack(ref)
    assert (answer["ok"], answer["error"]) == (
        False,
        "desk-43 could not start the session: the computer is shutting down",
    )
    (session,) = ReportingApi(client).call("SupportSession", personas.admin.params, lsid=told["lsid"])
    end = [e for e in session.iter(f"{{{NS_LATER}}}event") if e.get("event_type") == "Session End"]
    assert end and session.find(f"{{{NS_LATER}}}primary_customer").text == "desk-43"
    socket.close()
