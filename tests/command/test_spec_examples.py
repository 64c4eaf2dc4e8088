"""Every Command API query example of the API guide, as written there, with only the host,
the credentials and the IDs of things this appliance made substituted."""

from __future__ import annotations

import httpx
import pytest

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_17, CommandApi, error_of, local
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas

EXAMPLES = [
    (
        "session_key",
        "/api/command.ns?username=test&password=test&action=generate_session_key&type=support&queue_id=general",
    ),
    (
        "session_key",
        "/api/command.ns?username=test&password=test&action=generate_session_key&type=support&queue_id=rep:1",
    ),
    (
        "session_key",
        "/api/command.ns?username=test&password=test&action=generate_session_key&type=support&queue_id=team:1",
    ),
    (
        "session_key",
        "/api/command.ns?username=test&password=test&action=generate_session_key&type=support&queue_id=embassy:1",
    ),
    (
        "session_key",
        "/api/command.ns?username=test&password=test&action=generate_session_key&type=support&queue_id=general&ttl=3600",
    ),
    (
        "session_key",
        "/api/command.ns?username=test&password=test&action=generate_session_key&type=support&queue_id=general&external_key=ABC1234",
    ),
    (
        "session_key",
        "/api/command.ns?username=test&password=test&action=generate_session_key&type=support&queue_id=general&url_hostname=remote.example.com",
    ),
    (
        "success",
        "/api/command.ns?username=test&password=test&action=join_session&lsid=c69a8e10bea9428f816cfababe9815fe&rep_id=151",
    ),
    (
        "success",
        "/api/command.ns?username=test&password=test&action=transfer_session&lsid=c69a8e10bea9428f816cfababe9815fe&queue_id=general",
    ),
    (
        "success",
        "/api/command.ns?username=test&password=test&action=transfer_session&lsid=c69a8e10bea9428f816cfababe9815fe&queue_id=rep:1",
    ),
    (
        "success",
        "/api/command.ns?username=test&password=test&action=transfer_session&lsid=c69a8e10bea9428f816cfababe9815fe&queue_id=team:1",
    ),
    ("logged_in_reps", "/api/command.ns?username=test&password=test&action=get_logged_in_reps"),
    ("support_teams", "/api/command.ns?username=test&password=test&action=get_support_teams"),
    ("support_teams", "/api/command.ns?username=test&password=test&action=get_support_teams&showmembers"),
    ("api_information", "/api/command.ns?username=test&password=test&action=get_api_info"),
]


@pytest.fixture(scope="module")
def prepared(appliance: RunningAppliance, personas: Personas, node: ConsoleNode) -> dict[str, str]:
    """team:1 is Team A; rep:1 is the admin; the embassy, rep 151 and the session are ours."""
    appliance.cli("user", "add", "test", "--password", "test-password", "--admin", "--command-api", "--support")
    appliance.cli("site", "add", "remote.example.com")
    assert personas.team_a == 1
    node.log_in("rep_b")
    return {
        "embassy:1": f"embassy:{personas.embassy}",
        "rep_id=151": f"rep_id={personas.rep_b.id}",
        "password=test&": "password=test-password&",
    }


@pytest.mark.parametrize(("root_name", "example"), EXAMPLES, ids=[e[1].split("action=")[1][:60] for e in EXAMPLES])
def test_the_guides_example_works(
    api: CommandApi,
    client: httpx.Client,
    node: ConsoleNode,
    prepared: dict[str, str],
    root_name: str,
    example: str,
) -> None:
    url = example
    for written, ours in prepared.items():
        url = url.replace(written, ours)
    if "c69a8e10bea9428f816cfababe9815fe" in url:
        url = url.replace("c69a8e10bea9428f816cfababe9815fe", node.start_session().lsid)

    def answered() -> None:
        root = api.schemas.check(client.get(url), NS_17)
        assert error_of(root) is None, error_of(root)
        assert local(root) == root_name

    eventually(answered)
