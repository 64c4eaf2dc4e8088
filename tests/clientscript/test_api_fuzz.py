"""Arbitrary requests to /api/client_script(.ns): each gets either a script that reads back to
the command asked for, or an XML error that validates; never a 500 or a caught crash."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifeline.api.client_script import command_for
from lifeline.api.endpoint import INTERNAL
from lifeline.api.errors import ApiError
from lifeline.clientscript import ACTIONS, COMMANDS, ActionCommand, parameters_of
from tests.support.appliance import RunningAppliance
from tests.support.client_script import ClientScriptApi

NAMES = sorted(
    {p.name for kind in COMMANDS.values() for p in parameters_of(kind)}
    | {"type", "operation", "action", "session.custom.ticket", "client.name"}
)
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.one_of(
    st.sampled_from(["rep", "generate", *ACTIONS, "login", "", "+", "%", "%zz", "\x00", "\ufffe"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=250, max_size=1100),
)
requests = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=12)), values, max_size=8)


@pytest.fixture(scope="module")
def scripts(client: httpx.Client) -> ClientScriptApi:
    return ClientScriptApi(client)


def expected(params: dict[str, str]) -> ActionCommand | str:
    """The command a request asks for, or the message of the error it should get."""
    try:
        return command_for(params)
    except ApiError as error:
        return error.message


@FUZZ
@given(
    params=requests, ns=st.booleans(), post=st.booleans(), valid=st.booleans(), action=st.sampled_from(sorted(ACTIONS))
)
def test_any_request_gets_a_script_or_an_xml_error(
    scripts: ClientScriptApi, params: dict[str, str], ns: bool, post: bool, valid: bool, action: str
) -> None:
    if valid:  # half of the requests get past type, operation and action
        params = {**params, "type": "rep", "operation": "generate", "action": action}
    path = "/api/client_script.ns" if ns else "/api/client_script"
    response = scripts.client.post(path, data=params) if post else scripts.client.get(path, params=params)
    assert response.status_code == 200
    assert INTERNAL.encode() not in response.content
    outcome = expected(params)
    if isinstance(outcome, str):
        assert scripts.error(response, ns=ns) == outcome
    else:
        _, script = scripts.download(response)
        assert script.commands == (outcome,)


def answer_is_valid(scripts: ClientScriptApi, response: httpx.Response, ns: bool) -> None:
    assert response.status_code == 200
    assert INTERNAL.encode() not in response.content
    if response.headers["content-type"] == "application/octet-stream":
        scripts.download(response)
    else:
        scripts.error(response, ns=ns)


@FUZZ
@given(raw=st.lists(st.tuples(st.binary(max_size=30), st.binary(max_size=60)), max_size=10), ns=st.booleans())
def test_any_bytes_in_the_query_string_get_a_script_or_an_xml_error(
    scripts: ClientScriptApi, raw: list[tuple[bytes, bytes]], ns: bool
) -> None:
    # The raw pairs come first, so that they win over the valid request after them.
    pieces = [f"{quote_from_bytes(name)}={quote_from_bytes(value)}" for name, value in raw]
    pieces += ["type=rep&operation=generate&action=start_pinned_client_session&search_string=x"]
    response = scripts.client.get(("/api/client_script.ns" if ns else "/api/client_script") + "?" + "&".join(pieces))
    answer_is_valid(scripts, response, ns)


@FUZZ
@given(
    body=st.binary(max_size=2000),
    kind=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "text/plain", ""]),
)
def test_any_post_body_gets_a_script_or_an_xml_error(scripts: ClientScriptApi, body: bytes, kind: str) -> None:
    response = scripts.client.post(
        "/api/client_script?type=rep&operation=generate&action=generate_session_key",
        content=body,
        headers={"content-type": kind} if kind else {},
    )
    answer_is_valid(scripts, response, False)


def test_nothing_crashed_while_fuzzing(appliance: RunningAppliance) -> None:
    """Runs last in this module: the appliance logged no traceback for any of the inputs above."""
    assert "Traceback" not in appliance.log_path.read_text()
