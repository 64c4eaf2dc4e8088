"""Namespaces: each URL form's default, the admin setting, and the XSD that follows them."""

from __future__ import annotations

import httpx
from lxml import etree

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_17, NS_LATER, CommandApi, local
from tests.support.personas import Personas

BOMGAR_ERA = "http://www.bomgar.com/namespaces/API/command"


def test_the_ns_url_answers_as_the_17_guide_and_the_plain_url_as_the_later_page(
    api: CommandApi, personas: Personas
) -> None:
    assert api.call("get_api_info", personas.admin.params, ns=True).nsmap == {None: NS_17}
    assert api.call("get_api_info", personas.admin.params).nsmap == {None: NS_LATER}


def test_the_emitted_namespace_is_an_admin_setting_that_integrations_can_strip(
    api: CommandApi, personas: Personas, appliance: RunningAppliance, client: httpx.Client
) -> None:
    appliance.cli("settings", "set", "command_api_namespace", BOMGAR_ERA)
    try:
        eventually(
            lambda: _namespace_is(api.call("get_api_info", personas.admin.params, namespace=BOMGAR_ERA), BOMGAR_ERA)
        )
        # An integration that strips the literal namespace and parses without one (as some do).
        text = client.get("/api/command", params={**personas.admin.params, "action": "get_api_info"}).text
        stripped = etree.fromstring(text.replace(f'xmlns="{BOMGAR_ERA}"', "").encode())
        assert int(stripped.find("timestamp").text) > 0  # type: ignore[union-attr,arg-type]
        xsd = etree.fromstring(client.get("/api/command.xsd").content)
        assert xsd.get("targetNamespace") == BOMGAR_ERA
    finally:
        appliance.cli("settings", "set", "command_api_namespace", NS_LATER)
        eventually(lambda: _namespace_is(api.call("get_api_info", personas.admin.params), NS_LATER))


def _namespace_is(root: etree._Element, namespace: str) -> None:
    assert root.nsmap == {None: namespace}


def test_a_namespace_setting_must_be_a_uri(appliance: RunningAppliance) -> None:
    import pytest

    with pytest.raises(SystemExit) as exit_info:
        appliance.cli("settings", "set", "command_api_namespace", "not a uri")
    assert exit_info.value.code == 1


def test_the_xsd_is_served_for_either_namespace(client: httpx.Client) -> None:
    default = etree.fromstring(client.get("/api/command.xsd").content)
    assert default.get("targetNamespace") == NS_LATER
    asked = etree.fromstring(client.get("/api/command.xsd", params={"namespace": NS_17}).content)
    assert asked.get("targetNamespace") == NS_17
    assert client.get("/api/command.xsd", params={"namespace": "bad value"}).status_code == 400


def test_errors_are_in_the_namespace_of_the_url_too(api: CommandApi) -> None:
    assert local(api.call("get_api_info", {"username": "x", "password": "y"}, ns=True)) == "error"
