"""/api/client_script(.ns) against the real appliance: every query example of the guide,
the links integrations make, the download's headers, HEAD and POST, errors, and settings."""

from __future__ import annotations

import httpx
import pytest

from lifeline.api.client_script import ONLY_EXTERNAL_KEY
from lifeline.api.endpoint import HTTP_REFUSED
from lifeline.clientscript import GenerateSessionKey, PushAndStartLocal, StartPinnedClientSession
from tests.support.appliance import RunningAppliance, eventually
from tests.support.client_script import ClientScriptApi
from tests.support.command import NS_17

LOGIN = "action=login&hostname=support.example.com"

# The guide's query examples exactly as written, only the scheme and host left out, with the
# command line each file must carry after its login.
GUIDE_EXAMPLES = [
    (
        "/api/client_script.ns?type=rep&operation=generate&action=start_pinned_client_session&search_string=ABCDEFG02",
        "action=start_pinned_client_session&search_string=ABCDEFG02",
    ),
    (
        "/api/client_script.ns?type=rep&operation=generate&action=start_pinned_client_session&search_string=ABCDEFGH02",
        "action=start_pinned_client_session&search_string=ABCDEFGH02",
    ),
    (
        "/api/client_script.ns?type=rep&operation=generate&action=start_pinned_client_session&search_string=Example%20Co",
        "action=start_pinned_client_session&search_string=Example%20Co",
    ),
    (
        "/api/client_script.ns?type=rep&operation=generate&action=start_pinned_client_session&search_string=Example+Co",
        "action=start_pinned_client_session&search_string=Example%20Co",
    ),
    (
        "/api/client_script.ns?type=rep&operation=generate&action=start_pinned_client_session&search_string=192.168.9.14&session.custom.external_key=BMC0000001275",
        "action=start_pinned_client_session&search_string=192.168.9.14&session.custom.external_key=BMC0000001275",
    ),
    (
        "/api/client_script.ns?type=rep&operation=generate&action=generate_session_key",
        "action=generate_session_key",
    ),
    (
        "/api/client_script.ns?type=rep&operation=generate&action=generate_session_key&public_portal_hostname=support.example.com",
        "action=generate_session_key&public_portal_hostname=support.example.com",
    ),
    (
        "/api/client_script.ns?type=rep&operation=generate&action=generate_session_key&session.custom.external_key=BMC0000001275",
        "action=generate_session_key&session.custom.external_key=BMC0000001275",
    ),
    (
        "/api/client_script.ns?type=rep&operation=generate&action=push_and_start_local&hostname=ABCDEFGH02",
        "action=push_and_start_local&hostname=ABCDEFGH02",
    ),
]

# Links real integrations make (see docs/api/client_script.md): the later URL form, the later
# search field, `action` first, and a ServiceNow record id as the external key.
INTEGRATION_LINKS = [
    (
        "/api/client_script?type=rep&operation=generate&action=start_pinned_client_session&client.hostname=AAU-PC-0042",
        "action=start_pinned_client_session&client.hostname=AAU-PC-0042",
    ),
    (
        "/api/client_script?type=rep&operation=generate&action=start_pinned_client_session&search_string=ABCDEFGH02",
        "action=start_pinned_client_session&search_string=ABCDEFGH02",
    ),
    (
        "/api/client_script?action=generate_session_key&type=rep&operation=generate",
        "action=generate_session_key",
    ),
    (
        "/api/client_script?action=generate_session_key&type=rep&operation=generate&session.custom.external_key=46d44a5fdb1023004ba5f3b2ca961968",
        "action=generate_session_key&session.custom.external_key=46d44a5fdb1023004ba5f3b2ca961968",
    ),
]


@pytest.fixture(scope="module")
def scripts(client: httpx.Client) -> ClientScriptApi:
    return ClientScriptApi(client)


@pytest.mark.parametrize(
    ("url", "line"), GUIDE_EXAMPLES + INTEGRATION_LINKS, ids=[u for u, _ in GUIDE_EXAMPLES + INTEGRATION_LINKS]
)
def test_every_example_downloads_a_script(scripts: ClientScriptApi, url: str, line: str) -> None:
    response = scripts.client.get(url)
    name, script = scripts.download(response)
    assert response.text == f"BRCS1.0\n{LOGIN}\n{line}"
    assert name == f"{script.commands[0].action}.brcs-support-example-com"
    assert script.login.hostname == "support.example.com"


def test_the_file_is_named_for_its_action_and_site(scripts: ClientScriptApi) -> None:
    response = scripts.client.get(
        "/api/client_script.ns",
        params={"type": "rep", "operation": "generate", "action": "push_and_start_local", "hostname": "pc1"},
    )
    assert (
        response.headers["content-disposition"] == "attachment; filename=push_and_start_local.brcs-support-example-com"
    )


def test_values_are_percent_encoded_in_the_file(scripts: ClientScriptApi) -> None:
    params = {
        "type": "rep",
        "operation": "generate",
        "action": "start_pinned_client_session",
        "search_string": "Café & Co+ 50%/x",
        "session.custom.external_key": "INC0010001",
    }
    _, script = scripts.download(scripts.client.get("/api/client_script", params=params))
    assert script.commands == (StartPinnedClientSession(search_string="Café & Co+ 50%/x", external_key="INC0010001"),)
    assert (
        "search_string=Caf%C3%A9%20%26%20Co%2B%2050%25%2Fx"
        in scripts.client.get("/api/client_script", params=params).text
    )


def test_unknown_parameters_are_ignored_and_the_first_of_a_repeated_one_wins(scripts: ClientScriptApi) -> None:
    url = "/api/client_script?type=rep&operation=generate&action=push_and_start_local&hostname=first&hostname=second&_=1712345678&popup=1"
    _, script = scripts.download(scripts.client.get(url))
    assert script.commands == (PushAndStartLocal(hostname="first"),)


def test_head_answers_the_same_headers_without_the_file(scripts: ClientScriptApi) -> None:
    url = GUIDE_EXAMPLES[4][0]
    got = scripts.client.get(url)
    head = scripts.client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    for header in ("content-type", "content-disposition", "content-length", "cache-control"):
        assert head.headers[header] == got.headers[header]


@pytest.mark.parametrize("ns", [True, False])
def test_post_bodies_work_like_query_strings(scripts: ClientScriptApi, ns: bool) -> None:
    path = "/api/client_script.ns" if ns else "/api/client_script"
    fields = {
        "action": "generate_session_key",
        "type": "rep",
        "operation": "generate",
        "public_portal_hostname": "support.example.com",
    }
    expected = (GenerateSessionKey(public_portal_hostname="support.example.com"),)
    assert scripts.download(scripts.client.post(path, data=fields))[1].commands == expected
    multipart = {name: (None, value) for name, value in fields.items()}
    assert scripts.download(scripts.client.post(path, files=multipart))[1].commands == expected
    assert scripts.download(scripts.client.post(path, params=fields))[1].commands == expected


def test_a_request_to_another_public_site_gets_that_site_in_its_script(
    scripts: ClientScriptApi, appliance: RunningAppliance
) -> None:
    appliance.cli("site", "add", "remote.example.com")
    url = GUIDE_EXAMPLES[5][0]

    def made_for_remote() -> None:
        name, script = scripts.download(scripts.client.get(url, headers={"Host": "Remote.Example.com:8443"}))
        assert script.login.hostname == "remote.example.com"
        assert name == "generate_session_key.brcs-remote-example-com"

    eventually(made_for_remote)
    # A Host that names no site of this appliance gets the default site.
    _, script = scripts.download(scripts.client.get(url, headers={"Host": "elsewhere.example.net"}))
    assert script.login.hostname == "support.example.com"


# --- errors ------------------------------------------------------------------------------------

ERRORS = [
    ({}, "The required parameter type is missing."),
    ({"operation": "generate", "action": "generate_session_key"}, "The required parameter type is missing."),
    (
        {"type": "customer", "operation": "generate", "action": "generate_session_key"},
        "The parameter type must be one of: rep.",
    ),
    ({"type": "rep", "action": "generate_session_key"}, "The required parameter operation is missing."),
    (
        {"type": "rep", "operation": "run", "action": "generate_session_key"},
        "The parameter operation must be one of: generate.",
    ),
    ({"type": "rep", "operation": "generate"}, "The required parameter action is missing."),
    ({"type": "rep", "operation": "generate", "action": "start_jump_item_session"}, "Invalid action"),
    ({"type": "rep", "operation": "generate", "action": "login", "hostname": "x"}, "Invalid action"),
    (
        {"type": "rep", "operation": "generate", "action": "a" * 65},
        "The parameter action is longer than 64 characters.",
    ),
    (
        {"type": "rep", "operation": "generate", "action": "start_pinned_client_session"},
        "The required parameter search_string is missing.",
    ),
    (
        {"type": "rep", "operation": "generate", "action": "start_pinned_client_session", "search_string": "x" * 1025},
        "The parameter search_string is longer than 1024 characters.",
    ),
    (
        {"type": "rep", "operation": "generate", "action": "start_pinned_client_session", "client.hostname": "x" * 256},
        "The parameter client.hostname is longer than 255 characters.",
    ),
    (
        {
            "type": "rep",
            "operation": "generate",
            "action": "start_pinned_client_session",
            "search_string": "x",
            "session.custom.external_key": "k" * 1025,
        },
        "The parameter session.custom.external_key is longer than 1024 characters.",
    ),
    (
        {"type": "rep", "operation": "generate", "action": "generate_session_key", "public_portal_hostname": "h" * 256},
        "The parameter public_portal_hostname is longer than 255 characters.",
    ),
    (
        {"type": "rep", "operation": "generate", "action": "generate_session_key", "session.custom.ticket": "1"},
        ONLY_EXTERNAL_KEY,
    ),
    (
        {"type": "rep", "operation": "generate", "action": "push_and_start_local"},
        "The required parameter hostname is missing.",
    ),
    (
        {"type": "rep", "operation": "generate", "action": "push_and_start_local", "hostname": ""},
        "The required parameter hostname is missing.",
    ),
    (
        {"type": "rep", "operation": "generate", "action": "push_and_start_local", "hostname": "h" * 256},
        "The parameter hostname is longer than 255 characters.",
    ),
    (
        {"type": "rep", "operation": "generate", "action": "push_and_start_local", "hostname": "pc\x001"},
        "The parameter hostname contains characters that are not allowed.",
    ),
    (
        {
            "type": "rep",
            "operation": "generate",
            "action": "generate_session_key",
            "session.custom.external_key": "\x1b",
        },
        "The parameter session.custom.external_key contains characters that are not allowed.",
    ),
]


@pytest.mark.parametrize(("params", "message"), ERRORS, ids=[m for _, m in ERRORS])
@pytest.mark.parametrize("ns", [True, False], ids=[".ns", "plain"])
def test_bad_parameters_get_an_xml_error(
    scripts: ClientScriptApi, params: dict[str, str], message: str, ns: bool
) -> None:
    response = scripts.client.get("/api/client_script.ns" if ns else "/api/client_script", params=params)
    assert scripts.error(response, ns=ns) == message


def test_an_error_is_a_complete_document_integrations_can_match(scripts: ClientScriptApi) -> None:
    response = scripts.client.get("/api/client_script.ns?type=rep&operation=generate&action=nope")
    assert response.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<error xmlns="http://www.networkstreaming.com/namespaces/API">Invalid action</error>\n'
    )
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"


def test_head_of_a_bad_request_is_an_xml_error_without_a_body(scripts: ClientScriptApi) -> None:
    response = scripts.client.head("/api/client_script?type=rep")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"
    assert response.content == b""


def test_other_methods_get_an_xml_error(scripts: ClientScriptApi) -> None:
    response = scripts.client.put("/api/client_script.ns?type=rep&operation=generate&action=generate_session_key")
    assert scripts.error(response, ns=True) == "Use GET or POST."


def test_an_over_large_body_gets_an_xml_error(scripts: ClientScriptApi) -> None:
    response = scripts.client.post("/api/client_script", content=b"a=" + b"x" * (1024 * 1024 + 1))
    assert scripts.error(response, ns=False) == "The request body is larger than 1048576 bytes."


# --- settings ----------------------------------------------------------------------------------


def test_plain_http_is_refused_until_an_admin_allows_it(scripts: ClientScriptApi, appliance: RunningAppliance) -> None:
    url = GUIDE_EXAMPLES[1][0]
    with httpx.Client(base_url=appliance.http) as plain:
        assert scripts.error(plain.get(url), ns=True) == HTTP_REFUSED
        appliance.cli("settings", "set", "xml_api_allow_http", "true")
        try:
            eventually(lambda: scripts.download(plain.get(url)))
        finally:
            appliance.cli("settings", "set", "xml_api_allow_http", "false")
        eventually(lambda: _is(scripts.error(plain.get(url), ns=True), HTTP_REFUSED))


def test_a_disabled_xml_api_answers_404(scripts: ClientScriptApi, appliance: RunningAppliance) -> None:
    url = GUIDE_EXAMPLES[1][0]
    appliance.cli("settings", "set", "xml_api_enabled", "false")
    try:
        eventually(lambda: _is(scripts.client.get(url).status_code, 404))
        assert scripts.client.get(url.replace(".ns", "")).status_code == 404
        assert "BRCS" not in scripts.client.get(url).text
    finally:
        appliance.cli("settings", "set", "xml_api_enabled", "true")
    eventually(lambda: scripts.download(scripts.client.get(url)))


def test_errors_follow_the_command_api_namespace_settings(
    scripts: ClientScriptApi, appliance: RunningAppliance
) -> None:
    bomgar_era = "http://www.bomgar.com/namespaces/API/command"
    appliance.cli("settings", "set", "command_api_namespace", bomgar_era)
    try:

        def in_bomgar_namespace() -> None:
            root = scripts.schemas.check(scripts.client.get("/api/client_script?type=rep"), bomgar_era)
            assert root.text == "The required parameter operation is missing."

        eventually(in_bomgar_namespace)
        assert scripts.error(scripts.client.get("/api/client_script.ns?type=rep"), ns=True)
        assert scripts.schemas.check(scripts.client.get("/api/client_script.ns"), NS_17) is not None
    finally:
        appliance.cli("settings", "set", "command_api_namespace", "https://www.bomgar.com/namespaces/API/command")
    eventually(lambda: scripts.error(scripts.client.get("/api/client_script?type=rep"), ns=False))


def _is(value: object, expected: object) -> None:
    assert value == expected
