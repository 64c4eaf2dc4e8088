"""Lockout after wrong passwords: per account (in the database, shared by /login, the console
and the APIs' username and password) and per client address (in memory). An admin unlocks.
The per-address tests come last: they block this module's loopback address."""

from __future__ import annotations

import re

import pytest

from tests.admin.helpers import AdminClient, csrf_of
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import CommandApi, error_of, local
from tests.support.personas import Personas

LOCKED = "This account is locked after too many wrong passwords."


@pytest.fixture(scope="module", autouse=True)
def three_strikes(appliance: RunningAppliance) -> None:
    appliance.cli_settled("settings", "set", "login_lockout_attempts", "3")


def user(appliance: RunningAppliance, username: str) -> str:
    appliance.cli("user", "add", username, "--password", f"{username}-password", "--support", "--command-api")
    return f"{username}-password"


def sign_in(appliance: RunningAppliance, username: str, password: str) -> tuple[int, str]:
    with AdminClient(appliance) as browser:
        response = browser.sign_in(username, password)
        return response.status_code, response.text


def console_sign_in(appliance: RunningAppliance, username: str, password: str) -> tuple[int, str]:
    with appliance.client() as client:
        token = csrf_of(client.get("/console/login"))
        response = client.post("/console/login", data={"csrf": token, "username": username, "password": password})
        return response.status_code, response.text


def api_info(api: CommandApi, username: str, password: str) -> str:
    root = api.call("get_api_info", {"username": username, "password": password})
    return local(root) if local(root) != "error" else f"error: {error_of(root)}"


def test_wrong_passwords_at_any_door_lock_the_account_everywhere(appliance: RunningAppliance, api: CommandApi) -> None:
    password = user(appliance, "target")
    assert api_info(api, "target", password) == "api_information"  # remembered by the API
    assert sign_in(appliance, "target", "wrong-1")[0] == 401
    assert console_sign_in(appliance, "target", "wrong-2")[0] == 401
    assert api_info(api, "target", "wrong-3") == "error: Login failed"
    status, text = sign_in(appliance, "target", password)
    assert status == 401
    assert LOCKED in text
    assert LOCKED in console_sign_in(appliance, "target", password)[1]
    assert api_info(api, "target", password) == "error: Login failed"  # what integrations match
    record = next(u for u in appliance.cli_json("user", "list") if u["username"] == "target")
    assert record["locked_until"] is not None


def test_a_right_password_in_between_starts_the_count_again(appliance: RunningAppliance, api: CommandApi) -> None:
    password = user(appliance, "typo")
    for _ in range(3):
        assert sign_in(appliance, "typo", "wrong-password")[0] == 401
        assert sign_in(appliance, "typo", "wrong-password")[0] == 401
        assert sign_in(appliance, "typo", password)[0] == 303
    assert api_info(api, "typo", password) == "api_information"


def test_an_admin_sees_and_unlocks_a_locked_account(
    appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    password = user(appliance, "unlucky")
    for n in range(3):
        sign_in(appliance, "unlucky", f"wrong-{n}")
    with AdminClient(appliance) as admin:
        assert admin.sign_in("admin", personas.admin.password).status_code == 303
        security = admin.get("/login/security").text
        assert "unlucky" in security
        user_id = re.search(r'href="/login/users/(\d+)">unlucky<', security)
        assert user_id
        assert "This account is locked until" in admin.get(f"/login/users/{user_id.group(1)}").text
        assert "locked" in admin.get("/login/users").text
        unlocked = admin.post(f"/login/users/{user_id.group(1)}/unlock")
        assert "unlucky is unlocked and may sign in again." in admin.get(unlocked.headers["location"]).text
    assert sign_in(appliance, "unlucky", password)[0] == 303
    assert api_info(api, "unlucky", password) == "api_information"


def test_the_cli_unlocks_too(appliance: RunningAppliance, api: CommandApi) -> None:
    password = user(appliance, "scripted")
    for n in range(3):
        api_info(api, "scripted", f"wrong-{n}")
    assert api_info(api, "scripted", password) == "error: Login failed"
    appliance.cli("user", "unlock", "scripted")
    eventually(lambda: _check(api_info(api, "scripted", password) == "api_information"))


def test_no_lockout_when_switched_off(appliance: RunningAppliance, api: CommandApi, personas: Personas) -> None:
    appliance.cli("settings", "set", "login_lockout_attempts", "0")
    try:
        password = user(appliance, "relaxed")
        with AdminClient(appliance) as admin:
            admin.sign_in("admin", personas.admin.password)
            eventually(
                lambda: _check(
                    'name="login_lockout_attempts" type="number" maxlength="255" value="0"'
                    in admin.get("/login/security").text
                )
            )
        for n in range(4):
            api_info(api, "relaxed", f"wrong-{n}")
        assert sign_in(appliance, "relaxed", password)[0] == 303
    finally:
        appliance.cli_settled("settings", "set", "login_lockout_attempts", "3")


def test_an_address_with_many_failures_is_refused_before_checking(
    appliance: RunningAppliance, personas: Personas
) -> None:
    statuses = [sign_in(appliance, f"nobody{n}", "whatever-password")[0] for n in range(21)]
    assert statuses[0] == 401  # unknown names: no account locks, the address does (20 in 5 minutes)
    assert statuses[-1] == 429
    status, text = sign_in(appliance, "rep_a", personas.rep_a.password)
    assert status == 429
    assert "Too many attempts from your address." in text
    assert console_sign_in(appliance, "rep_a", personas.rep_a.password)[0] == 429


def test_the_api_refuses_unknown_credentials_from_a_busy_address_but_keeps_known_ones(
    appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    assert api_info(api, "rep_b", personas.rep_b.password) == "api_information"  # known before the flood
    for n in range(30):
        assert api_info(api, f"nobody{n}", "whatever-password") == "error: Login failed"
    assert api_info(api, "rep_b", personas.rep_b.password) == "api_information"
    assert api_info(api, "api_user", personas.api_user.password) == "error: Login failed"  # not checked now


def _check(condition: bool) -> None:
    assert condition
