"""get_appliances, get_connected_client_list, get_connected_clients, check_health, set_failover_role."""

from __future__ import annotations

import re
import signal
import time

import httpx
import pytest

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_LATER, CommandApi, error_of, local
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.support.xmlcheck import q, text_of


def test_get_appliances_describes_this_single_appliance(api: CommandApi, personas: Personas) -> None:
    root = api.call("get_appliances", personas.api_user.params)
    [appliance] = list(root)
    assert re.fullmatch(r"[0-9a-f]{32}", appliance.get("id") or "")
    assert [local(c) for c in appliance] == [
        "name",
        "public_hostname",
        "cluster_role",
        "failover_role",
        "accepting_connections",
        "timezone_offset",
    ]
    assert text_of(appliance, NS_LATER, "public_hostname") == "support.example.com"
    assert (text_of(appliance, NS_LATER, "cluster_role"), text_of(appliance, NS_LATER, "failover_role")) == (
        "single",
        "none",
    )
    assert text_of(appliance, NS_LATER, "timezone_offset") == "0"
    health = api.call("check_health", personas.admin.params)
    assert health.find(q(NS_LATER, "appliance")).get("id") == appliance.get("id")  # type: ignore[union-attr]


def test_check_health_reports_a_healthy_single_appliance(api: CommandApi, personas: Personas) -> None:
    root = api.call("check_health", personas.admin.params)
    assert local(root) == "health_check"
    assert [local(c) for c in root] == ["appliance", "version", "success", "failover_role"]
    assert text_of(root, NS_LATER, "appliance") == "support.example.com"
    assert (text_of(root, NS_LATER, "success"), text_of(root, NS_LATER, "failover_role")) == ("1", "none")
    assert (
        error_of(api.call("check_health", personas.api_user.params)) == "This action requires administrator permission"
    )


def test_plain_check_health_is_for_load_balancers(client: httpx.Client) -> None:
    response = client.get("/check_health")
    assert (response.status_code, response.text) == (200, "OK\n")


def test_sigusr1_logs_every_threads_stack_and_the_appliance_goes_on(
    appliance: RunningAppliance, client: httpx.Client
) -> None:
    assert appliance.process is not None
    appliance.process.send_signal(signal.SIGUSR1)
    eventually(lambda: _logged(appliance, "most recent call first"))
    # The dump is written thread by thread: wait for the database writer's (waiting for work).
    eventually(lambda: _logged(appliance, "in _write_loop"))
    assert client.get("/check_health").status_code == 200


def _logged(appliance: RunningAppliance, text: str) -> None:
    assert text in appliance.log_tail(characters=10_000_000)  # a dump of every thread is long


def test_set_failover_role_says_failover_is_not_configured(api: CommandApi, personas: Personas) -> None:
    for role in ("primary", "backup"):
        root = api.call("set_failover_role", personas.admin.params, role=role, force="1")
        assert error_of(root) == "Failover is not configured on this appliance"
    assert error_of(api.call("set_failover_role", personas.admin.params)) == "The required parameter role is missing."
    assert "must be one of" in (error_of(api.call("set_failover_role", personas.admin.params, role="boss")) or "")
    assert error_of(api.call("set_failover_role", personas.api_user.params, role="backup")) == (
        "This action requires administrator permission"
    )


def counts(root) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        c.get("type"): c.text for c in root.findall(q(NS_LATER, "connected_client_summary/appliance_summary/count"))
    }


def test_connected_client_list_counts_and_lists_reps_and_customers(
    api: CommandApi, personas: Personas, node: ConsoleNode
) -> None:
    rep = node.log_in("rep_a")
    started = node.start_session()
    try:
        root = api.call("get_connected_client_list", personas.api_user.params)
        assert counts(root) == {
            "representative": "1",
            "support_customer": "1",
            "presentation_attendee": "0",
            "push_agent": "0",
            "pinned_client": "0",
        }
        listed = {(c.get("type"), c.get("id")) for c in root.findall(q(NS_LATER, "connected_client"))}
        assert listed == {("representative", str(rep)), ("support_customer", str(started.customer_gsnumber))}
        only_reps = api.call(
            "get_connected_client_list", personas.api_user.params, type="representative", summary_only="1"
        )
        assert counts(only_reps) == {"representative": "1"}
        assert only_reps.findall(q(NS_LATER, "connected_client")) == []
    finally:
        api.call("terminate_session", personas.admin.params, lsid=started.lsid)
        node.log_out(rep)


def test_connected_clients_details_and_connections(api: CommandApi, personas: Personas, node: ConsoleNode) -> None:
    rep = node.log_in("rep_a", hostname="desk-7")
    started = node.start_session()
    node.take(started.lsid, rep)
    try:
        root = api.call(
            "get_connected_clients",
            personas.api_user.params,
            id=f"{rep},{started.customer_gsnumber}",
            include_connections="1",
        )
        by_id = {c.get("id"): c for c in root}
        assert local(by_id[str(rep)]) == "connected_representative"
        assert local(by_id[str(started.customer_gsnumber)]) == "connected_support_customer"
        assert text_of(by_id[str(rep)], NS_LATER, "hostname") == "desk-7"
        since = by_id[str(rep)].find(q(NS_LATER, "connected_since"))
        assert since is not None
        assert abs(int(since.get("ts") or 0) - time.time()) < 60
        [connection] = by_id[str(rep)].findall(q(NS_LATER, "connections/connection"))
        assert (connection.get("lsid"), connection.get("role")) == (started.lsid, "owner")
        plain = api.call("get_connected_clients", personas.api_user.params, type="support_customer")
        assert str(started.customer_gsnumber) in [c.get("id") for c in plain]
        assert {local(c) for c in plain} == {"connected_support_customer"}
        assert plain[0].find(q(NS_LATER, "connections")) is None
    finally:
        api.call("terminate_session", personas.admin.params, lsid=started.lsid)
        node.log_out(rep)


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        ("get_connected_client_list", {"type": "toaster"}, "Unknown client type 'toaster'"),
        ("get_connected_client_list", {"summary_only": "yes"}, "The parameter summary_only must be 0 or 1."),
        ("get_connected_clients", {"id": "1,two"}, "must be a comma-separated list of client IDs"),
        ("get_connected_clients", {"id": ",".join(str(n) for n in range(101))}, "At most 100 client IDs"),
    ],
)
def test_client_queries_explain_bad_parameters(
    api: CommandApi, personas: Personas, action: str, params: dict[str, str], message: str
) -> None:
    assert message in (error_of(api.call(action, personas.api_user.params, **params)) or "")


def test_read_only_accounts_may_look_at_clients(api: CommandApi, personas: Personas, client: httpx.Client) -> None:
    token = personas.readonly.token(client)
    for action in ("get_appliances", "get_connected_client_list", "get_connected_clients"):
        assert error_of(eventually(lambda a=action: api.call(a, token))) is None  # type: ignore[misc]
