"""generate_session_key: a session key for a queue, ready to read out or mail."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from lifeline.sessions.keys import KeyState, find_key
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_17, NS_LATER, CommandApi, error_of, local
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.support.xmlcheck import text_of


def key_of(api: CommandApi, auth: dict[str, str] | str, ns: bool = False, **params: str):  # type: ignore[no-untyped-def]
    root = api.call("generate_session_key", auth, ns=ns, type="support", **params)
    assert error_of(root) is None, error_of(root)
    return root


def test_it_generates_a_key_for_the_general_queue_in_the_documented_order(api: CommandApi, personas: Personas) -> None:
    root = key_of(api, personas.admin.params, ns=True, queue_id="general")
    assert local(root) == "session_key"
    assert [local(child) for child in root] == [
        "type",
        "ttl",
        "expires",
        "queue",
        "queue_id",
        "external_key",
        "short_key",
        "key_url",
        "mail_subject",
        "mail_body",
    ]
    assert text_of(root, NS_17, "type") == "support"
    assert text_of(root, NS_17, "ttl") == "86400"
    expires = root.find(f"{{{NS_17}}}expires")
    assert expires is not None
    assert expires.text == expires.get("timestamp")
    assert abs(int(expires.text or 0) - (time.time() + 86400)) < 10
    assert (text_of(root, NS_17, "queue"), text_of(root, NS_17, "queue_id")) == ("general", "0")
    short_key = text_of(root, NS_17, "short_key")
    assert re.fullmatch(r"[1-9]\d{6}", short_key)
    key_url = text_of(root, NS_17, "key_url")
    assert re.fullmatch(r"https://support\.example\.com:\d+/\?ak=[0-9a-f]{32}", key_url)
    for element in ("short_key", "key_url"):
        assert root.find(f"{{{NS_17}}}{element}").attrib == {}  # type: ignore[union-attr]
    body = text_of(root, NS_17, "mail_body")
    assert f"\n{key_url}\n" in body
    assert short_key in body
    assert text_of(root, NS_17, "mail_subject") == "Remote Support Invitation"


def test_the_key_it_gives_is_usable_and_remembers_its_queue_and_external_key(
    api: CommandApi, personas: Personas, appliance: RunningAppliance
) -> None:
    root = key_of(api, personas.admin.params, queue_id=f"team:{personas.team_a}", external_key="ABC1234")
    state, key = appliance.call(find_key, short_key=text_of(root, NS_LATER, "short_key"))
    assert state is KeyState.USABLE
    assert key is not None
    assert (key.queue_kind, key.queue_ref_id, key.external_key) == ("team", personas.team_a, "ABC1234")
    assert text_of(root, NS_LATER, "external_key") == "ABC1234"


def test_every_key_is_different(api: CommandApi, personas: Personas) -> None:
    keys = {text_of(key_of(api, personas.admin.params, queue_id="general"), NS_LATER, "short_key") for _ in range(20)}
    assert len(keys) == 20


def test_a_ttl_shortens_the_key_and_is_capped_at_the_maximum(api: CommandApi, personas: Personas) -> None:
    root = key_of(api, personas.admin.params, queue_id="general", ttl="3600")
    assert text_of(root, NS_LATER, "ttl") == "3600"
    assert abs(int(text_of(root, NS_LATER, "expires")) - (time.time() + 3600)) < 10
    assert text_of(key_of(api, personas.admin.params, queue_id="general", ttl="999999999"), NS_LATER, "ttl") == "86400"


@pytest.mark.parametrize("ttl", ["0", "-5", "soon", "1.5", "99999999999999"])
def test_a_bad_ttl_is_an_error(api: CommandApi, personas: Personas, ttl: str) -> None:
    root = api.call("generate_session_key", personas.admin.params, type="support", queue_id="general", ttl=ttl)
    assert "ttl" in (error_of(root) or "")


def test_it_places_keys_in_rep_team_embassy_and_issue_queues(api: CommandApi, personas: Personas) -> None:
    cases = {
        f"rep:{personas.rep_a.id}": ("rep", personas.rep_a.id),
        "rep_username:rep_a": ("rep", personas.rep_a.id),
        f"team:{personas.team_b}": ("team", personas.team_b),
        f"embassy:{personas.embassy}": ("embassy", personas.embassy),
        "issue:i_am_receiving_an_error": ("team", personas.team_a),
    }
    for queue_id, (kind, ref) in cases.items():
        root = key_of(api, personas.admin.params, queue_id=queue_id)
        assert (text_of(root, NS_LATER, "queue"), text_of(root, NS_LATER, "queue_id")) == (kind, str(ref)), queue_id


@pytest.mark.parametrize(
    ("queue_id", "message"),
    [
        ("rep_username:nobody", "No single representative has the username 'nobody'"),
        ("rep:99999", "No representative has the ID 99999"),
        ("team:99999", "No support team has the ID 99999"),
        ("team:abc", "positive integer"),
        ("anywhere", "queue_id must be general"),
    ],
)
def test_a_queue_that_does_not_exist_is_an_error(
    api: CommandApi, personas: Personas, queue_id: str, message: str
) -> None:
    root = api.call("generate_session_key", personas.admin.params, ns=True, type="support", queue_id=queue_id)
    assert message in (error_of(root) or "")


def test_an_embassy_id_is_not_a_team_queue(api: CommandApi, personas: Personas) -> None:
    root = api.call("generate_session_key", personas.admin.params, type="support", queue_id=f"team:{personas.embassy}")
    assert error_of(root) == f"No support team has the ID {personas.embassy}"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"queue_id": "general"}, "The required parameter type is missing."),
        ({"type": "support"}, "The required parameter queue_id is missing."),
        ({"type": "presentation", "queue_id": "general"}, "The parameter type must be one of: support."),
        ({"type": "support", "queue_id": "general", "external_key": "x" * 1025}, "longer than 1024"),
        ({"type": "support", "queue_id": "general", "external_key": "a\x01b"}, "not allowed"),
        ({"type": "support", "queue_id": "general", "session.custom.nope": "1"}, "Unknown custom attribute"),
        ({"type": "support", "queue_id": "general", "url_hostname": "elsewhere.example.org"}, "url_hostname"),
    ],
)
def test_bad_parameters_are_explained(
    api: CommandApi, personas: Personas, params: dict[str, str], message: str
) -> None:
    root = api.call("generate_session_key", personas.admin.params, **params)
    assert message in (error_of(root) or "")


def test_the_later_external_key_parameter_works_too(api: CommandApi, personas: Personas) -> None:
    root = key_of(api, personas.admin.params, queue_id="general", session__custom__external_key="1234")
    assert text_of(root, NS_LATER, "external_key") == "1234"


def test_url_hostname_picks_the_site_in_the_key_url(
    api: CommandApi, personas: Personas, appliance: RunningAppliance
) -> None:
    appliance.cli("site", "add", "remote.example.com")
    root = eventually(lambda: key_of(api, personas.admin.params, queue_id="general", url_hostname="remote.example.com"))
    assert text_of(root, NS_LATER, "key_url").startswith("https://remote.example.com:")
    _state, key = appliance.call(find_key, short_key=text_of(root, NS_LATER, "short_key"))
    assert key is not None
    assert key.public_site_id != 1


def test_queue_availability_says_whether_a_rep_could_take_it_now(
    api: CommandApi, personas: Personas, node: ConsoleNode
) -> None:
    def available() -> str:
        root = key_of(api, personas.admin.params, queue_id=f"team:{personas.team_a}")
        return root.find(f"{{{NS_LATER}}}queue").get("available")  # type: ignore[union-attr]

    assert available() == "0"
    gsnumber = node.log_in("rep_a")
    try:
        eventually(lambda: _equal(available(), "1"))
    finally:
        node.log_out(gsnumber)


def _equal(actual: object, expected: object) -> None:
    assert actual == expected


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("admin", True), ("api_user", True), ("rep_a", False), ("no_api", False)],
)
def test_users_need_command_api_and_support_permission(
    api: CommandApi, personas: Personas, who: str, allowed: bool
) -> None:
    root = api.call("generate_session_key", getattr(personas, who).params, type="support", queue_id="general")
    if allowed:
        assert local(root) == "session_key"
    else:
        assert error_of(root) == "This user does not have permission to use the command API"


def test_a_user_with_the_command_api_but_no_support_permission_is_refused(
    api: CommandApi, appliance: RunningAppliance
) -> None:
    appliance.cli("user", "add", "reporter", "--password", "reporter-password", "--command-api")

    def refused() -> None:
        root = api.call(
            "generate_session_key",
            {"username": "reporter", "password": "reporter-password"},
            type="support",
            queue_id="general",
        )
        assert error_of(root) == "This action requires permission to provide remote support"

    eventually(refused)


def test_api_accounts_need_full_command_access(api: CommandApi, personas: Personas, client: httpx.Client) -> None:
    assert local(key_of(api, personas.integration.token(client), queue_id="general")) == "session_key"
    root = api.call("generate_session_key", personas.readonly.token(client), type="support", queue_id="general")
    assert error_of(root) == "This API account has read-only access to the command API"
    root = api.call("generate_session_key", personas.noaccess.token(client), type="support", queue_id="general")
    assert error_of(root) == "This API account does not have permission to use the command API"


def test_php_integrations_can_post_multipart_to_the_ns_url(
    api: CommandApi, personas: Personas, client: httpx.Client
) -> None:
    fields = {
        "username": personas.admin.username,
        "password": personas.admin.password,
        "action": "generate_session_key",
        "type": "support",
        "queue_id": "rep_username:rep_a",
        "external_key": "T-77",
    }
    response = client.post("/api/command.ns?", files={name: (None, value) for name, value in fields.items()})
    assert "multipart/form-data" in response.request.headers["content-type"]
    root = api.schemas.check(response, NS_17)
    assert text_of(root, NS_17, "external_key") == "T-77"
    assert int(text_of(root, NS_17, "expires")) > time.time()


def test_the_general_queue_is_available_only_with_a_rep_who_may_take_from_it(
    api: CommandApi, personas: Personas, node: ConsoleNode, appliance: RunningAppliance
) -> None:
    appliance.cli("user", "add", "teams_only", "--password", "teams_only-password", "--support", "--no-general-queue")

    def available(expected: str) -> None:
        def check() -> None:
            root = key_of(api, personas.admin.params, queue_id="general")
            assert root.find(f"{{{NS_LATER}}}queue").get("available") == expected  # type: ignore[union-attr]

        # The test's console node logs in from another process: the appliance sees it within
        # its half-second stamp poll, as it sees the CLI's changes.
        eventually(check)

    only_teams = node.log_in("teams_only")
    try:
        available("0")  # logged in, but may not take from the general queue
        anyone = node.log_in("rep_b")
        try:
            available("1")
        finally:
            node.log_out(anyone)
    finally:
        node.log_out(only_teams)
