"""Waits after wrong passwords: counted per account and client address (in the database,
shared by /login, the console and the APIs' username and password), doubling beyond the
free ones; the account itself never locks, so an attacker cannot lock its owner out. And a
limit per client address (in memory) across every door, /oauth2/token included.

Tests that need an address of their own connect from another loopback address."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.admin.helpers import AdminClient, csrf_of
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import CommandApi, error_of, local
from tests.support.personas import Personas

WAIT = "Too many wrong passwords for this account from your address."
TOO_MANY = "Too many attempts from your address."


@pytest.fixture(scope="module", autouse=True)
def three_free(appliance: RunningAppliance) -> None:
    appliance.cli_settled("settings", "set", "login_lockout_attempts", "3")


def user(appliance: RunningAppliance, username: str) -> str:
    appliance.cli_settled("user", "add", username, "--password", f"{username}-password", "--support", "--command-api")
    return f"{username}-password"


def sign_in(appliance: RunningAppliance, username: str, password: str, source: str | None = None) -> tuple[int, str]:
    with AdminClient(appliance, source=source) as browser:
        response = browser.sign_in(username, password)
        return response.status_code, response.text


def console_sign_in(
    appliance: RunningAppliance, username: str, password: str, source: str | None = None
) -> tuple[int, str]:
    with appliance.client(source=source) as client:
        token = csrf_of(client.get("/console/login"))
        response = client.post("/console/login", data={"csrf": token, "username": username, "password": password})
        return response.status_code, response.text


def api_info(api: CommandApi, username: str, password: str) -> str:
    root = api.call("get_api_info", {"username": username, "password": password})
    return local(root) if local(root) != "error" else f"error: {error_of(root)}"


@contextmanager
def api_from(appliance: RunningAppliance, source: str) -> Iterator[CommandApi]:
    with appliance.client(source=source) as client:
        yield CommandApi(client)


def test_wrong_passwords_at_any_door_count_together_and_make_that_address_wait(
    appliance: RunningAppliance, api: CommandApi
) -> None:
    password = user(appliance, "target")
    assert api_info(api, "target", password) == "api_information"  # remembered by the API
    assert sign_in(appliance, "target", "wrong-1")[0] == 401
    assert console_sign_in(appliance, "target", "wrong-2")[0] == 401
    assert api_info(api, "target", "wrong-3") == "error: Login failed"
    assert api_info(api, "target", "wrong-4") == "error: Login failed"  # beyond the free three: a wait of 1 s
    time.sleep(1.1)
    assert api_info(api, "target", "wrong-5") == "error: Login failed"  # checked, and the next waits 2 s
    status, text = sign_in(appliance, "target", password)
    assert status == 429
    assert WAIT in text
    assert WAIT in console_sign_in(appliance, "target", password)[1]
    assert api_info(api, "target", "not-even-checked") == "error: Login failed"
    assert api_info(api, "target", password) == "api_information"  # remembered credentials keep working
    record = next(u for u in appliance.cli_json("user", "list") if u["username"] == "target")
    assert record["locked_until"] is not None  # shown to admins: some address waits
    time.sleep(2.1)
    assert sign_in(appliance, "target", password)[0] == 303  # the wait passed


def test_an_attacker_cannot_lock_the_owner_out(appliance: RunningAppliance, api: CommandApi) -> None:
    password = user(appliance, "owner")
    with AdminClient(appliance, source="127.0.0.2") as owners_browser:
        assert owners_browser.sign_in("owner", password).status_code == 303
        for n in range(10):  # the attack of the report: 10 wrong passwords at once
            sign_in(appliance, "owner", f"guess-{n}")
        assert sign_in(appliance, "owner", password)[0] == 429  # the attacker's address waits
        assert owners_browser.get("/login/account").status_code == 200  # signed-in: unaffected
        assert sign_in(appliance, "owner", password, source="127.0.0.3")[0] == 303  # elsewhere: unaffected
        assert console_sign_in(appliance, "owner", password, source="127.0.0.3")[0] == 303
        with api_from(appliance, "127.0.0.3") as elsewhere:
            assert api_info(elsewhere, "owner", password) == "api_information"


def test_a_right_password_in_between_starts_the_count_again(appliance: RunningAppliance) -> None:
    password = user(appliance, "typo")
    source = "127.0.0.9"
    for _ in range(3):
        assert sign_in(appliance, "typo", "wrong-password", source)[0] == 401
        assert sign_in(appliance, "typo", "wrong-password", source)[0] == 401
        assert sign_in(appliance, "typo", password, source)[0] == 303
    with api_from(appliance, source) as api:
        assert api_info(api, "typo", password) == "api_information"


def test_an_admin_sees_and_ends_the_waits(appliance: RunningAppliance, personas: Personas) -> None:
    password = user(appliance, "unlucky")
    source = "127.0.0.10"
    for n in range(8):
        sign_in(appliance, "unlucky", f"wrong-{n}", source)
    assert sign_in(appliance, "unlucky", password, source)[0] == 429
    with AdminClient(appliance, source="127.0.0.4") as admin:
        assert admin.sign_in("admin", personas.admin.password).status_code == 303
        security = admin.get("/login/security").text
        assert "unlucky" in security
        user_id = re.search(r'href="/login/users/(\d+)">unlucky<', security)
        assert user_id
        page = admin.get(f"/login/users/{user_id.group(1)}").text
        assert "sign-ins to this account from some address wait until" in page
        assert "waits" in admin.get("/login/users").text
        ended = admin.post(f"/login/users/{user_id.group(1)}/unlock")
        assert "The waits of unlucky ended" in admin.get(ended.headers["location"]).text
    assert sign_in(appliance, "unlucky", password, source)[0] == 303
    with api_from(appliance, source) as api:
        assert api_info(api, "unlucky", password) == "api_information"


def test_the_cli_ends_the_waits_too(appliance: RunningAppliance) -> None:
    password = user(appliance, "scripted")
    with api_from(appliance, "127.0.0.11") as api:
        for n in range(8):
            api_info(api, "scripted", f"wrong-{n}")
        assert api_info(api, "scripted", password) == "error: Login failed"
        appliance.cli("user", "unlock", "scripted")
        eventually(lambda: _check(api_info(api, "scripted", password) == "api_information"))


def test_no_waits_when_switched_off(appliance: RunningAppliance, personas: Personas) -> None:
    appliance.cli("settings", "set", "login_lockout_attempts", "0")
    source = "127.0.0.12"
    try:
        password = user(appliance, "relaxed")
        with AdminClient(appliance, source="127.0.0.4") as admin:
            admin.sign_in("admin", personas.admin.password)
            eventually(
                lambda: _check(
                    'name="login_lockout_attempts" type="number" maxlength="255" value="0"'
                    in admin.get("/login/security").text
                )
            )
        with api_from(appliance, source) as api:
            for n in range(6):
                api_info(api, "relaxed", f"wrong-{n}")
        assert sign_in(appliance, "relaxed", password, source)[0] == 303
    finally:
        appliance.cli_settled("settings", "set", "login_lockout_attempts", "3")


def test_an_address_with_many_failures_is_refused_at_every_door_before_checking(
    appliance: RunningAppliance, personas: Personas
) -> None:
    source = "127.0.0.5"
    statuses = [sign_in(appliance, f"nobody{n}", "whatever-password", source)[0] for n in range(20)]
    with api_from(appliance, source) as api:
        for n in range(10):
            assert api_info(api, f"nobody{n}", "whatever") == "error: Login failed"
        assert statuses == [401] * 20  # unknown names: no account waits, the address does (30 in 5 minutes)
        status, text = sign_in(appliance, "rep_a", personas.rep_a.password, source)
        assert status == 429
        assert TOO_MANY in text
        assert console_sign_in(appliance, "rep_a", personas.rep_a.password, source)[0] == 429
        assert api_info(api, "api_user", personas.api_user.password) == "error: Login failed"  # not checked now
    with appliance.client(source=source) as client:
        account = personas.integration
        token = client.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(account.client_id, account.client_secret)
        )
        assert token.status_code == 401


def test_oauth_secrets_count_towards_the_address_limit(appliance: RunningAppliance, personas: Personas) -> None:
    account = personas.integration
    with appliance.client(source="127.0.0.6") as client:

        def token(secret: str) -> int:
            form = {"grant_type": "client_credentials"}
            return client.post("/oauth2/token", data=form, auth=(account.client_id, secret)).status_code

        assert token(account.client_secret) == 200  # a right secret does not count
        assert [token(f"wrong-secret-{n}") for n in range(30)] == [401] * 30
        assert token(account.client_secret) == 401  # refused before its hash is checked
    with appliance.client(source="127.0.0.7") as elsewhere:
        assert account.token(elsewhere)  # another address is not refused


def test_the_api_refuses_unknown_credentials_from_a_busy_address_but_keeps_known_ones(
    appliance: RunningAppliance, personas: Personas
) -> None:
    with api_from(appliance, "127.0.0.8") as api:
        assert api_info(api, "rep_b", personas.rep_b.password) == "api_information"  # known before the flood
        for n in range(30):
            assert api_info(api, f"nobody{n}", "whatever-password") == "error: Login failed"
        assert api_info(api, "rep_b", personas.rep_b.password) == "api_information"
        assert api_info(api, "api_user", personas.api_user.password) == "error: Login failed"  # not checked now


def test_a_change_to_one_account_leaves_the_others_remembered_api_logins(
    appliance: RunningAppliance, personas: Personas
) -> None:
    password = user(appliance, "changing")
    with api_from(appliance, "127.0.0.13") as api:
        assert api_info(api, "rep_b", personas.rep_b.password) == "api_information"
        assert api_info(api, "changing", password) == "api_information"
        for n in range(30):  # from here on, nothing this address sends is checked again
            api_info(api, f"nobody{n}", "whatever-password")
        appliance.cli_settled("user", "set", "changing", "--no-command-api")
        assert api_info(api, "rep_b", personas.rep_b.password) == "api_information"  # still remembered
        assert api_info(api, "changing", password) == "error: Login failed"  # forgotten, so checked: refused


def _check(condition: bool) -> None:
    assert condition
