"""Security, API configuration, appliance settings and status in /login, checked against what
the APIs then do."""

from __future__ import annotations

import re

import httpx

from lifeline.appliance.settings import APPLIANCE_ID, SETTINGS, load_settings
from lifeline.web.admin import api_config, appliance, backup, security
from tests.admin.helpers import AdminClient
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_LATER, CommandApi, local
from tests.support.personas import Personas
from tests.support.sockets import Console, sign_in

SECURE_DEFAULTS = {"xml_api_enabled": "on", "password_max_age_days": "0", "login_lockout_attempts": "10"}
LOCKOUT = {"login_lockout_minutes": "15"}


def test_every_setting_has_a_place_in_the_admin_interface() -> None:
    shown = [*security.KEYS, *api_config.KEYS, *appliance.KEYS, *backup.KEYS, *backup.UPLOAD_KEYS]
    assert sorted(shown) == sorted(SETTINGS)


def test_the_xml_api_is_switched_off_and_on(admin: AdminClient, api: CommandApi, personas: Personas) -> None:
    saved = admin.post("/login/security", {**LOCKOUT, "password_max_age_days": "0", "login_lockout_attempts": "10"})
    assert "The security settings were saved." in admin.get(saved.headers["location"]).text

    def answers(status: int) -> None:
        response = api.client.get("/api/command", params={**personas.admin.params, "action": "get_api_info"})
        assert response.status_code == status

    eventually(lambda: answers(404))
    admin.post("/login/security", {**SECURE_DEFAULTS, **LOCKOUT})
    eventually(lambda: answers(200))


def test_http_access_to_the_xml_api_is_allowed_for_testing(
    admin: AdminClient, appliance: RunningAppliance, personas: Personas
) -> None:
    params = {**personas.admin.params, "action": "get_api_info"}

    def over_http() -> str:
        return httpx.get(f"{appliance.http}/api/command", params=params).text

    assert "over HTTPS only" in over_http()
    admin.post("/login/security", {**SECURE_DEFAULTS, **LOCKOUT, "xml_api_allow_http": "on"})
    eventually(lambda: _check("<api_information" in over_http()))
    admin.post("/login/security", {**SECURE_DEFAULTS, **LOCKOUT})
    eventually(lambda: _check("over HTTPS only" in over_http()))


def test_a_bad_setting_is_refused_with_its_reason_and_nothing_is_saved(
    admin: AdminClient, appliance: RunningAppliance
) -> None:
    response = admin.post(
        "/login/security", {**SECURE_DEFAULTS, "login_lockout_minutes": "lots", "password_max_age_days": "30"}
    )
    assert response.status_code == 400
    assert "Longest wait between attempts (minutes): expected an integer, not &#39;lots&#39;." in response.text
    assert 'value="lots"' in response.text  # what was typed stays in the form
    assert appliance.cli_json("settings", "get", "password_max_age_days") == {"password_max_age_days": 0}


def test_namespaces_are_set(admin: AdminClient, api: CommandApi, personas: Personas) -> None:
    fields = {
        "command_api_namespace": "http://www.bomgar.com/namespaces/API/command",
        "command_api_ns_namespace": "http://www.networkstreaming.com/namespaces/API",
        "reporting_api_namespace": "https://www.bomgar.com/namespaces/API/reporting",
        "reporting_api_ns_namespace": "http://www.networkstreaming.com/namespaces/API",
        "api_token_lifetime": "3600",
    }
    assert admin.post("/login/api", fields).status_code == 303

    def bomgar_era() -> None:
        response = api.client.get("/api/command", params={**personas.admin.params, "action": "get_api_info"})
        assert 'xmlns="http://www.bomgar.com/namespaces/API/command"' in response.text

    eventually(bomgar_era)
    refused = admin.post("/login/api", {**fields, "command_api_namespace": "not a uri"})
    assert refused.status_code == 400
    assert "a namespace must be an absolute URI" in refused.text
    admin.post("/login/api", {**fields, "command_api_namespace": NS_LATER})


def test_an_api_account_shows_its_secret_once_and_a_new_secret_revokes_its_tokens(
    admin: AdminClient, client: httpx.Client
) -> None:
    created = admin.post("/login/api/accounts", {"name": "ticketing-oauth", "command": "full", "reporting": "on"})
    assert created.status_code == 200
    client_id = re.search(r'id="client-id">(\w+)<', created.text)
    secret = re.search(r'id="client-secret">([^<]+)<', created.text)
    assert client_id and secret
    account_url = re.search(r'href="(/login/api/accounts/\d+)"', created.text)
    assert account_url
    page = admin.get(account_url.group(1)).text
    assert client_id.group(1) in page
    assert secret.group(1) not in page  # shown once only

    def token(secret_text: str) -> httpx.Response:
        return client.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id.group(1), secret_text)
        )

    access = token(secret.group(1)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    assert "<api_information" in client.get("/api/command", params={"action": "get_api_info"}, headers=bearer).text
    renewed = admin.post(f"{account_url.group(1)}/secret")
    new_secret = re.search(r'id="client-secret">([^<]+)<', renewed.text)
    assert new_secret and new_secret.group(1) != secret.group(1)
    assert (
        "Invalid or expired access token"
        in client.get("/api/command", params={"action": "get_api_info"}, headers=bearer).text
    )
    assert token(secret.group(1)).status_code == 401
    assert token(new_secret.group(1)).status_code == 200
    disabled = admin.post(account_url.group(1), {"command": "read_only"})
    assert disabled.status_code == 303
    assert token(new_secret.group(1)).status_code == 401


def test_custom_attributes_are_defined_for_the_apis(admin: AdminClient, api: CommandApi, personas: Personas) -> None:
    admin.post("/login/api/attributes", {"code_name": "ticket_system", "display_name": "Ticket System"})
    assert "session.custom.ticket_system was defined." in admin.get("/login/api").text
    key = api.call(
        "generate_session_key",
        personas.api_user.params,
        type="support",
        queue_id="general",
        **{"session.custom.ticket_system": "ServiceNow"},
    )
    assert local(key) == "session_key"
    bad = admin.post("/login/api/attributes", {"code_name": "external_key", "display_name": "Mine"})
    assert bad.status_code == 400
    assert "external_key is built in" in bad.text
    attribute_id = re.search(r'action="/login/api/attributes/(\d+)/remove"', admin.get("/login/api").text)
    assert attribute_id
    admin.post(f"/login/api/attributes/{attribute_id.group(1)}", {"display_name": "Ticketing system"})
    assert 'value="Ticketing system"' in admin.get("/login/api").text
    admin.post(f"/login/api/attributes/{attribute_id.group(1)}/remove")

    def refused() -> None:
        answer = api.call(
            "generate_session_key",
            personas.api_user.params,
            type="support",
            queue_id="general",
            **{"session.custom.ticket_system": "ServiceNow"},
        )
        assert local(answer) == "error"

    eventually(refused)


def test_appliance_settings_reach_the_public_site(admin: AdminClient, client: httpx.Client) -> None:
    fields = {
        "company_name": "Acme Help",
        "timezone": "Europe/Paris",
        "public_https_port": "0",
        "session_key_max_ttl": "86400",
        "session_starts_per_address": "60",
        "session_key_mail_subject": "Remote Support Invitation",
        "session_key_mail_body": "Go to {url}",
        "customer_reconnect_seconds": "45",
        "console_reconnect_seconds": "120",
        "screen_recording": "on",
        "screen_max_fps": "30",
        "screen_max_kbits": "4000",
        "screen_max_width": "3840",
        "screen_max_height": "2160",
        "jump_connect_rate": "200",
        "jump_statistics": "console_user,cpu,disk,uptime",
        "jump_statistics_interval": "60",
        "jump_upgrade_rate": "5",
        "jump_offline_days": "0",
    }
    assert 'name="jump_connect_rate"' in admin.get("/login/appliance").text
    assert admin.post("/login/appliance", fields).status_code == 303
    refused = admin.post("/login/appliance", {**fields, "jump_statistics": "cpu,heartbeat"})
    assert "unknown statistics heartbeat" in refused.text
    eventually(lambda: _check("Acme Help" in client.get("/").text))
    refused = admin.post("/login/appliance", {**fields, "timezone": "Mars/Olympus"})
    assert "unknown time zone" in refused.text
    admin.post("/login/appliance", {**fields, "company_name": "Lifeline", "timezone": "UTC"})


def test_the_status_page_shows_the_appliance_and_who_is_connected(
    admin: AdminClient, appliance: RunningAppliance, personas: Personas
) -> None:
    appliance_id = appliance.with_session(load_settings)[APPLIANCE_ID]
    console = Console(appliance, sign_in(appliance, "rep_b", personas.rep_b.password))
    try:

        def shown() -> None:
            page = admin.get("/login/status").text
            assert appliance_id in page
            assert "Lifeline 0.1.0" in page
            assert "Failover role</dt><dd>none" in page
            assert "Bob Rep" in page
            assert re.search(r"Representative consoles</td><td class=\"num\">1<", page)

        eventually(shown)
    finally:
        console.close()


def _check(condition: bool) -> None:
    assert condition
