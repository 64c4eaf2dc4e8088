"""Arbitrary parameters thrown at every action: always HTTP 200, well-formed XML that
validates against the served XSD, never a 500 or a stack trace."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifeline.api.command import ACTIONS
from lifeline.api.endpoint import INTERNAL
from tests.support.appliance import RunningAppliance
from tests.support.command import NS_17, NS_LATER, CommandApi
from tests.support.personas import Personas

PARAM_NAMES = sorted(
    {name for action in ACTIONS.values() for name in action.params.__dataclass_fields__}
    | {"action", "username", "password", "session.custom.external_key", "session.custom.ticket", "showmembers"}
)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=2000),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "-1",
            "general",
            "rep:1",
            "team:1",
            "embassy:1",
            "issue:x",
            "rep_username:admin",
            "c69a8e10bea9428f816cfababe9815fe",
            "all",
            "representative,push_agent",
            "9" * 30,
            "%",
            "%zz",
            "\x00",
            "\ufffe",
            "primary",
        ]
    ),
    st.integers().map(str),
)
param_dicts = st.dictionaries(st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=20)), values, max_size=8)


def check(api: CommandApi, response: httpx.Response, ns: bool) -> None:
    assert response.status_code == 200
    api.schemas.check(response, NS_17 if ns else NS_LATER)
    assert INTERNAL.encode() not in response.content  # every input has a real answer, not a caught crash


@FUZZ
@given(action=st.sampled_from(sorted(ACTIONS)), params=param_dicts, ns=st.booleans(), post=st.booleans())
def test_any_parameters_for_any_action_get_a_valid_answer(
    api: CommandApi, personas: Personas, action: str, params: dict[str, str], ns: bool, post: bool
) -> None:
    query = {**params, **personas.admin.params, "action": action}
    path = "/api/command.ns" if ns else "/api/command"
    response = api.client.post(path, data=query) if post else api.client.get(path, params=query)
    check(api, response, ns)


@FUZZ
@given(params=param_dicts, ns=st.booleans())
def test_any_credentials_and_actions_get_a_valid_answer(api: CommandApi, params: dict[str, str], ns: bool) -> None:
    response = api.client.get("/api/command.ns" if ns else "/api/command", params=params)
    check(api, response, ns)


# Escaped bytes, JavaScript escape()'s %uXXXX (lone surrogate halves included), and names
# the appliance reads, so the odd values reach lookups (the first of a repeated name wins).
UNITS = st.one_of(st.integers(0, 0xFFFF), st.integers(0xD800, 0xDFFF), st.just(0))
ESCAPED = st.lists(
    st.one_of(st.binary(max_size=10).map(quote_from_bytes), UNITS.map(lambda n: f"%u{n:04X}")),
    max_size=6,
).map("".join)
PARAMETER_NAMES = st.one_of(
    ESCAPED, st.sampled_from(["username", "password", "action", "external_key", "session.custom.note", "ttl"])
)


@FUZZ
@given(raw=st.lists(st.tuples(PARAMETER_NAMES, ESCAPED), max_size=10), ns=st.booleans())
def test_any_bytes_in_the_query_string_get_a_valid_answer(
    api: CommandApi, personas: Personas, raw: list[tuple[str, str]], ns: bool
) -> None:
    pieces = [f"{name}={value}" for name, value in raw]
    pieces += [f"username=admin&password={personas.admin.password}&action=generate_session_key"]
    response = api.client.get(("/api/command.ns" if ns else "/api/command") + "?" + "&".join(pieces))
    check(api, response, ns)


@FUZZ
@given(
    body=st.binary(max_size=3000),
    kind=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "text/plain",
            "",
        ]
    ),
)
def test_any_post_body_gets_a_valid_answer(api: CommandApi, body: bytes, kind: str) -> None:
    response = api.client.post("/api/command", content=body, headers={"content-type": kind} if kind else {})
    check(api, response, False)


@FUZZ
@given(token=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300))
def test_any_bearer_token_gets_a_valid_answer(api: CommandApi, token: str) -> None:
    response = api.client.get(
        "/api/command", params={"action": "get_api_info"}, headers={"Authorization": f"Bearer {token}"}
    )
    check(api, response, False)


def test_nothing_crashed_while_fuzzing(appliance: RunningAppliance) -> None:
    """Runs last in this module: the appliance logged no traceback for any of the inputs above."""
    assert "Traceback" not in appliance.log_path.read_text()
