"""POST /oauth2/token: client credentials for API accounts."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from tests.support.appliance import RunningAppliance
from tests.support.command import CommandApi, local
from tests.support.personas import Personas


def test_it_answers_compact_json_with_a_numeric_expiry(personas: Personas, client: httpx.Client) -> None:
    account = personas.readonly
    response = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(account.client_id, account.client_secret)
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert re.fullmatch(r'\{"access_token":"[A-Za-z0-9]{40}","token_type":"Bearer","expires_in":3600\}', response.text)


def test_credentials_may_come_in_a_form_body_or_with_a_json_body(
    personas: Personas, client: httpx.Client, api: CommandApi
) -> None:
    account = personas.readonly
    in_form = client.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account.client_id,
            "client_secret": account.client_secret,
        },
    )
    basic = base64.b64encode(f"{account.client_id}:{account.client_secret}".encode()).decode()
    json_body = client.post(
        "/oauth2/token", json={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    for response in (in_form, json_body):
        assert response.status_code == 200, response.text
        assert local(api.call("get_api_info", response.json()["access_token"])) == "api_information"


@pytest.mark.parametrize(
    "auth",
    [("nobody", "nothing"), None, ("", "")],
)
def test_a_bad_client_gets_401_invalid_client(
    personas: Personas, client: httpx.Client, auth: tuple[str, str] | None
) -> None:
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "message": "Client authentication failed."}


def test_a_wrong_secret_for_a_real_client_is_refused(personas: Personas, client: httpx.Client) -> None:
    response = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(personas.readonly.client_id, "guess")
    )
    assert response.status_code == 401


def test_other_grants_are_unsupported(personas: Personas, client: httpx.Client) -> None:
    account = personas.readonly
    response = client.post(
        "/oauth2/token", data={"grant_type": "password"}, auth=(account.client_id, account.client_secret)
    )
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")


@pytest.mark.parametrize("body", [{"data": {}}, {"json": {}}, {"data": {"client_id": "x"}}])
def test_a_request_without_grant_type_gets_no_token(
    personas: Personas, client: httpx.Client, body: dict[str, dict[str, str]]
) -> None:
    """RFC 6749 5.2: a missing required parameter is invalid_request, not a default grant."""
    account = personas.readonly
    response = client.post("/oauth2/token", auth=(account.client_id, account.client_secret), **body)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "message": "grant_type is required (client_credentials)."}
    assert "access_token" not in response.text


def test_garbage_bodies_are_bad_requests_not_errors(client: httpx.Client) -> None:
    for body, kind in (
        (b"{not json", "application/json"),
        (b"[1,2]", "application/json"),
        (b"x" * 20000, "text/plain"),
    ):
        response = client.post("/oauth2/token", content=body, headers={"content-type": kind})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


def test_json_nested_deeper_than_the_parser_goes_is_a_bad_request(
    appliance: RunningAppliance, client: httpx.Client
) -> None:
    response = client.post("/oauth2/token", content=b"[" * 5000, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    assert "RecursionError" not in appliance.log_tail()
