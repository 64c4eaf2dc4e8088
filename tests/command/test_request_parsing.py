"""Parameters however integrations send them: GET, POST forms, multipart, raw oddities."""

from __future__ import annotations

import httpx
import pytest

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_17, NS_LATER, CommandApi, error_of, local
from tests.support.personas import Personas


def test_post_form_and_get_give_the_same_answer(api: CommandApi, personas: Personas) -> None:
    for method in ("GET", "POST"):
        assert local(api.call("get_support_teams", personas.admin.params, method=method)) == "support_teams"


def test_a_post_with_parameters_only_in_the_query_string_works(
    personas: Personas, client: httpx.Client, api: CommandApi
) -> None:
    response = client.post("/api/command", params={**personas.admin.params, "action": "get_api_info"}, content=b"")
    assert local(api.schemas.check(response, NS_LATER)) == "api_information"


def test_a_content_type_header_on_a_get_is_ignored(personas: Personas, client: httpx.Client, api: CommandApi) -> None:
    response = client.get(
        "/api/command",
        params={**personas.admin.params, "action": "get_api_info"},
        headers={"Content-Type": "application/json"},
    )
    assert local(api.schemas.check(response, NS_LATER)) == "api_information"


def test_raw_percent_signs_and_latin1_bytes_in_passwords_still_log_in(
    client: httpx.Client, api: CommandApi, appliance: RunningAppliance
) -> None:
    appliance.cli("user", "add", "oddpw", "--password", "8$54%RGx8cGx", "--command-api")
    query = "username=oddpw&password=8$54%RGx8cGx&action=get_api_info"

    def answered() -> None:
        assert local(api.schemas.check(client.get(f"/api/command.ns?{query}"), NS_17)) == "api_information"

    eventually(answered)
    appliance.cli("user", "add", "latin", "--password", "caf\u00e9-caf\u00e9", "--command-api")
    eventually(
        lambda: _ok(api, client.get("/api/command.ns?username=latin&password=caf%E9-caf%E9&action=get_api_info"))
    )
    _ok(api, client.get("/api/command.ns?username=latin&password=caf%C3%A9-caf%u00E9&action=get_api_info"))


def test_javascript_escapes_of_characters_beyond_the_basic_plane_log_in(
    client: httpx.Client, api: CommandApi, appliance: RunningAppliance
) -> None:
    """escape("\U0001f600") is %uD83D%uDE00: a surrogate pair, read as the one character."""
    appliance.cli("user", "add", "smiley", "--password", "smile-\U0001f600-please", "--command-api")
    eventually(
        lambda: _ok(
            api, client.get("/api/command.ns?username=smiley&password=smile-%uD83D%uDE00-please&action=get_api_info")
        )
    )


def test_a_lone_half_of_a_surrogate_pair_is_just_a_failed_login(client: httpx.Client, api: CommandApi) -> None:
    response = client.get("/api/command?username=%uD800admin&password=x%uDE00&action=get_api_info")
    assert error_of(api.schemas.check(response, NS_LATER)) == "Login failed"


def _ok(api: CommandApi, response: httpx.Response) -> None:
    assert local(api.schemas.check(response, NS_17)) == "api_information"


def test_the_first_of_a_repeated_parameter_wins(personas: Personas, client: httpx.Client, api: CommandApi) -> None:
    query = f"username=admin&password={personas.admin.password}&action=get_api_info&action=terminate_session"
    assert local(api.schemas.check(client.get(f"/api/command?{query}"), NS_LATER)) == "api_information"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"a=" + b"x" * (1024 * 1024 + 10), "application/x-www-form-urlencoded", "larger than"),
        ("&".join(f"p{i}=1" for i in range(300)).encode(), "application/x-www-form-urlencoded", "more than 200"),
        (b"whatever", "multipart/form-data", "multipart"),
    ],
)
def test_oversized_and_broken_bodies_get_an_error_document(
    client: httpx.Client, api: CommandApi, body: bytes, content_type: str, message: str
) -> None:
    response = client.post("/api/command", content=body, headers={"content-type": content_type})
    assert message in (error_of(api.schemas.check(response, NS_LATER)) or "")


def test_file_uploads_are_not_parameters(personas: Personas, client: httpx.Client, api: CommandApi) -> None:
    response = client.post(
        "/api/command",
        data={**personas.admin.params, "action": "get_api_info"},
        files={"attachment": ("a.txt", b"hello", "text/plain")},
    )
    assert error_of(api.schemas.check(response, NS_LATER)) == "File uploads are not accepted here."


def test_other_methods_get_an_error_document(client: httpx.Client, api: CommandApi) -> None:
    assert error_of(api.schemas.check(client.put("/api/command", content=b""), NS_LATER)) == "Use GET or POST."
