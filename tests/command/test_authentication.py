"""Who gets an answer: credentials, bearer tokens, HTTPS only, and the XML API switch."""

from __future__ import annotations

import httpx
import pytest

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_17, NS_LATER, CommandApi, error_of, local
from tests.support.personas import Personas


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "admin", "password": "wrong-password"},
        {"username": "nobody", "password": "whatever-password"},
        {"username": "admin"},
        {"password": "x"},
        {"username": "a" * 300, "password": "b" * 300},
        # Text no database stores: PostgreSQL once failed these lookups with a 500.
        {"username": "\x00", "password": "x"},
        {"username": "admin\x00", "password": "admin-password-1"},
    ],
)
def test_bad_credentials_get_login_failed(api: CommandApi, credentials: dict[str, str]) -> None:
    assert error_of(api.call("get_api_info", credentials)) == "Login failed"


def test_no_credentials_at_all_are_explained(api: CommandApi) -> None:
    message = error_of(api.call("get_api_info", None))
    assert message is not None
    assert message.startswith("Missing credentials")


def test_usernames_are_not_case_sensitive(api: CommandApi, personas: Personas) -> None:
    root = api.call("get_api_info", {"username": "REP_A", "password": personas.rep_a.password})
    assert local(root) == "api_information"


def test_unknown_and_missing_actions_are_invalid(api: CommandApi, personas: Personas) -> None:
    assert error_of(api.call("make_coffee", personas.admin.params)) == "Invalid action"
    assert error_of(api.call(None, personas.admin.params, ns=True)) == "Invalid action"


def test_a_disabled_user_can_no_longer_call(api: CommandApi, appliance: RunningAppliance) -> None:
    appliance.cli("user", "add", "leaver", "--password", "leaver-password", "--command-api")
    creds = {"username": "leaver", "password": "leaver-password"}
    eventually(lambda: _is(local(api.call("get_logged_in_reps", creds)), "logged_in_reps"))
    appliance.cli("user", "set", "leaver", "--no-enabled")
    eventually(lambda: _is(error_of(api.call("get_logged_in_reps", creds)), "Login failed"))


def test_a_changed_password_stops_the_old_one_at_once(api: CommandApi, appliance: RunningAppliance) -> None:
    appliance.cli("user", "add", "mover", "--password", "old-password", "--command-api")
    old = {"username": "mover", "password": "old-password"}
    eventually(lambda: _is(local(api.call("get_api_info", old)), "api_information"))
    appliance.cli("user", "set", "mover", "--password", "new-password")
    eventually(lambda: _is(error_of(api.call("get_api_info", old)), "Login failed"))
    assert local(api.call("get_api_info", {"username": "mover", "password": "new-password"})) == "api_information"


def _is(actual: object, expected: object) -> None:
    assert actual == expected


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_bearer_token_works_whatever_the_case_of_its_scheme(
    personas: Personas, client: httpx.Client, api: CommandApi, scheme: str
) -> None:
    token = personas.readonly.token(client)
    response = client.get(
        "/api/command", params={"action": "get_api_info"}, headers={"Authorization": f"{scheme} {token}"}
    )
    assert local(api.schemas.check(response, NS_LATER)) == "api_information"


def test_a_made_up_token_is_refused(api: CommandApi) -> None:
    assert error_of(api.call("get_api_info", "x" * 40)) == "Invalid or expired access token"


def test_a_new_secret_revokes_every_token(
    personas: Personas, client: httpx.Client, api: CommandApi, appliance: RunningAppliance
) -> None:
    record = appliance.cli_json("api-account", "add", "rotating", "--command", "read_only")
    from tests.support.personas import Account

    account = Account("rotating", record["client_id"], record["client_secret"])
    token = eventually(lambda: account.token(client))
    assert local(api.call("get_api_info", token)) == "api_information"
    appliance.cli("api-account", "new-secret", "rotating")
    eventually(lambda: _is(error_of(api.call("get_api_info", token)), "Invalid or expired access token"))


def test_an_account_keeps_at_most_thirty_live_tokens(personas: Personas, client: httpx.Client, api: CommandApi) -> None:
    tokens = [personas.integration.token(client) for _ in range(31)]

    def oldest_dropped() -> None:
        assert error_of(api.call("get_api_info", tokens[0])) == "Invalid or expired access token"

    eventually(oldest_dropped)
    assert local(api.call("get_api_info", tokens[1])) == "api_information"
    assert local(api.call("get_api_info", tokens[-1])) == "api_information"


def test_plain_http_is_refused_until_an_admin_allows_it(
    personas: Personas, appliance: RunningAppliance, api: CommandApi
) -> None:
    params = {**personas.admin.params, "action": "get_api_info"}
    with httpx.Client(base_url=appliance.http) as plain:
        refused = api.schemas.check(plain.get("/api/command.ns", params=params), NS_17)
        assert error_of(refused) == (
            "The XML API is available over HTTPS only; an administrator can allow HTTP access."
        )
        appliance.cli("settings", "set", "xml_api_allow_http", "true")
        try:
            eventually(
                lambda: _is(
                    local(api.schemas.check(plain.get("/api/command.ns", params=params), NS_17)), "api_information"
                )
            )
        finally:
            appliance.cli("settings", "set", "xml_api_allow_http", "false")
        eventually(
            lambda: _is(
                error_of(api.schemas.check(plain.get("/api/command.ns", params=params), NS_17)) is not None, True
            )
        )


def test_a_disabled_xml_api_answers_nothing(
    personas: Personas, appliance: RunningAppliance, client: httpx.Client
) -> None:
    params = {**personas.admin.params, "action": "get_api_info"}
    appliance.cli("settings", "set", "xml_api_enabled", "false")
    try:
        eventually(lambda: _is(client.get("/api/command", params=params).status_code, 404))
        assert "api_information" not in client.get("/api/command.ns", params=params).text
        assert client.post("/oauth2/token", data={"grant_type": "client_credentials"}).status_code == 404
    finally:
        appliance.cli("settings", "set", "xml_api_enabled", "true")
    eventually(lambda: _is(client.get("/api/command", params=params).status_code, 200))
