"""get_connected_client_list and get_connected_clients report connected Jump Clients
(pinned_client) and Jumpoints (push_agent), valid against the served XSD."""

from __future__ import annotations

import time
from typing import Any

from lifeline.jump.queries import CONNECTED_ID_BASE
from tests.jump.jumpclient import FakeJumpClient
from tests.support.appliance import RunningAppliance
from tests.support.command import NS_LATER, CommandApi, local
from tests.support.personas import Personas
from tests.support.xmlcheck import q, text_of


def counts(root: Any) -> dict[str, str]:
    return {
        c.get("type"): c.text for c in root.findall(q(NS_LATER, "connected_client_summary/appliance_summary/count"))
    }


def test_jump_clients_and_jumpoints_are_counted_and_listed(
    appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    appliance.cli("jump-group", "add", "Branch")
    pinned = appliance.cli_json("jump-installer", "add", "--group", "Branch")
    point = appliance.cli_json("jump-installer", "add", "--group", "Branch", "--jumpoint", "Branch network")
    kiosk, jumpoint, offline = (FakeJumpClient(appliance, name) for name in ("kiosk-9", "gateway", "asleep"))
    kiosk.install(pinned["key"])
    jumpoint.install(point["key"])
    offline.install(pinned["key"])
    sockets = [kiosk.connect()[0], jumpoint.connect()[0]]
    try:
        root = api.call("get_connected_client_list", personas.api_user.params)
        assert counts(root)["pinned_client"] == "1" and counts(root)["push_agent"] == "1"
        listed = {(c.get("type"), c.get("id")) for c in root.findall(q(NS_LATER, "connected_client"))}
        assert ("pinned_client", str(CONNECTED_ID_BASE + kiosk.id)) in listed
        assert ("push_agent", str(CONNECTED_ID_BASE + jumpoint.id)) in listed
        assert str(CONNECTED_ID_BASE + offline.id) not in {i for _, i in listed}

        summary = api.call("get_connected_client_list", personas.api_user.params, summary_only="1")
        assert counts(summary)["pinned_client"] == "1" and counts(summary)["push_agent"] == "1"
        assert summary.findall(q(NS_LATER, "connected_client")) == []
        agents = api.call("get_connected_client_list", personas.api_user.params, type="push_agent", summary_only="1")
        assert counts(agents) == {"push_agent": "1"}

        details = api.call("get_connected_clients", personas.api_user.params, type="push_agent")
        [agent] = list(details)
        assert local(agent) == "connected_push_agent" and agent.get("id") == str(CONNECTED_ID_BASE + jumpoint.id)
        assert text_of(agent, NS_LATER, "hostname") == "gateway"
        assert text_of(agent, NS_LATER, "platform") == "linux"
        since = agent.find(q(NS_LATER, "connected_since"))
        assert since is not None and abs(int(since.get("ts") or 0) - time.time()) < 60
        by_id = api.call("get_connected_clients", personas.api_user.params, id=str(CONNECTED_ID_BASE + jumpoint.id))
        assert [local(c) for c in by_id] == ["connected_push_agent"]
    finally:
        for socket in sockets:
            socket.close()


def test_a_removed_client_is_not_counted(appliance: RunningAppliance, api: CommandApi, personas: Personas) -> None:
    installer = appliance.cli_json("jump-installer", "add", "--personal", "admin")
    client = FakeJumpClient(appliance, "leaving")
    client.install(installer["key"])
    socket, _ = client.connect()
    before = int(counts(api.call("get_connected_client_list", personas.api_user.params))["pinned_client"])
    appliance.cli("jump", "remove", str(client.id))
    assert socket.close_code(timeout=15)[0] == 4403
    after = int(counts(api.call("get_connected_client_list", personas.api_user.params))["pinned_client"])
    assert after == before - 1
