"""set_session_attributes and get_session_attributes: session.custom.* values of a live session."""

from __future__ import annotations

import httpx
import pytest

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_LATER, CommandApi, error_of, local
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.support.xmlcheck import q


@pytest.fixture(scope="module", autouse=True)
def ticket_attribute(appliance: RunningAppliance, personas: Personas) -> None:
    appliance.cli("custom-attribute", "add", "ticket_system", "Ticket System")


def attributes(api: CommandApi, auth: dict[str, str] | str, lsid: str) -> dict[str, tuple[str, str]]:
    root = api.call("get_session_attributes", auth, lsid=lsid)
    assert local(root) == "custom_attributes", error_of(root)
    return {
        e.get("code_name") or "": (e.get("display_name") or "", e.text or "")
        for e in root.findall(q(NS_LATER, "custom_attribute"))
    }


def test_attributes_are_set_read_left_alone_and_cleared(api: CommandApi, personas: Personas, node: ConsoleNode) -> None:
    started = node.start_session(external_key="OLD")
    params = personas.admin.params

    def set_both() -> None:
        root = api.call(
            "set_session_attributes",
            params,
            method="POST",
            lsid=started.lsid,
            session__custom__external_key="INC-42",
            session__custom__ticket_system="servicenow",
        )
        assert (local(root), root.text) == ("success", "Session attributes were set")

    eventually(set_both)
    assert attributes(api, params, started.lsid) == {
        "external_key": ("External Key", "INC-42"),
        "ticket_system": ("Ticket System", "servicenow"),
    }
    api.call("set_session_attributes", params, lsid=started.lsid, session__custom__ticket_system="jira")
    assert attributes(api, params, started.lsid)["external_key"] == ("External Key", "INC-42")
    api.call("set_session_attributes", params, lsid=started.lsid, session__custom__external_key="")
    assert attributes(api, params, started.lsid) == {
        "external_key": ("External Key", ""),
        "ticket_system": ("Ticket System", "jira"),
    }
    assert node.session(started.lsid).external_key == ""


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"session.custom.unknown_thing": "x"}, "Unknown custom attribute session.custom.unknown_thing"),
        ({"session.custom.external_key": "x" * 1025}, "longer than 1024 characters"),
        ({"session.custom.ticket_system": "y" * 1024, "session.custom.external_key": "z" * 1024}, None),
        ({"session.custom.ticket_system": "bell\x07"}, "not allowed"),
    ],
)
def test_attribute_values_are_checked(
    api: CommandApi, personas: Personas, node: ConsoleNode, values: dict[str, str], message: str | None
) -> None:
    started = node.start_session()
    root = api.call(
        "set_session_attributes",
        personas.admin.params,
        lsid=started.lsid,
        **{k.replace(".", "__"): v for k, v in values.items()},
    )
    if message is None:
        assert local(root) == "success"
    else:
        assert message in (error_of(root) or "")


def test_attributes_over_ten_kilobytes_together_are_refused(
    api: CommandApi, personas: Personas, node: ConsoleNode, appliance: RunningAppliance
) -> None:
    for n in range(10):
        appliance.cli("custom-attribute", "add", f"field_{n}", f"Field {n}")
    started = node.start_session()
    values = {f"session__custom__field_{n}": "v" * 1024 for n in range(10)} | {
        "session__custom__external_key": "k" * 1024
    }

    def refused() -> None:
        root = api.call("set_session_attributes", personas.admin.params, method="POST", lsid=started.lsid, **values)
        assert error_of(root) == "The custom attributes are longer than 10 KB together."

    eventually(refused)


def test_an_ended_session_has_no_settable_attributes(api: CommandApi, personas: Personas, node: ConsoleNode) -> None:
    started = node.start_session()
    api.call("terminate_session", personas.admin.params, lsid=started.lsid)
    root = api.call(
        "set_session_attributes", personas.admin.params, lsid=started.lsid, session__custom__external_key="x"
    )
    assert error_of(root) == "The session is not active"
    assert attributes(api, personas.admin.params, started.lsid)["external_key"] == ("External Key", "")


def test_reading_attributes_is_for_admins_and_read_only_accounts(
    api: CommandApi, personas: Personas, node: ConsoleNode, client: httpx.Client
) -> None:
    started = node.start_session(external_key="E-1")
    assert attributes(api, personas.readonly.token(client), started.lsid)["external_key"] == ("External Key", "E-1")
    root = api.call("get_session_attributes", personas.api_user.params, lsid=started.lsid)
    assert error_of(root) == "This action requires administrator permission"
    root = api.call("set_session_attributes", personas.readonly.token(client), lsid=started.lsid)
    assert error_of(root) == "This API account has read-only access to the command API"
