"""Users in /login: created with every permission the APIs use, edited, disabled, given a
password; what the APIs then report for them."""

from __future__ import annotations

from typing import Any

from tests.admin.helpers import AdminClient, signed_in
from tests.support.appliance import RunningAppliance
from tests.support.command import CommandApi, local

EVERYTHING = {
    "display_name": "Ticketing",
    "kind": "Normal",
    "perm_admin": "on",
    "perm_command_api": "on",
    "perm_reporting_api": "on",
    "perm_view_recordings": "on",
    "perm_support": "on",
    "perm_general_queue": "on",
    "perm_view_reports": "all_sessions",
    "password_never_expires": "on",
}


def create(admin: AdminClient, username: str, **fields: Any) -> int:
    data = {
        "username": username,
        "password": f"{username}-secret",
        "password_again": f"{username}-secret",
        "perm_view_reports": "none",
        **fields,
    }
    response = admin.post("/login/users/new", data)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def permissions(api: CommandApi, username: str) -> dict[str, str]:
    root = api.call("get_api_info", {"username": username, "password": f"{username}-secret"})
    assert local(root) == "api_information", root
    return {p.get("name", ""): (p.text or "") for p in root.iter() if local(p) == "permission"}


def test_an_admin_creates_an_api_user_with_every_permission(admin: AdminClient, api: CommandApi) -> None:
    user_id = create(admin, "ticketing", **EVERYTHING)
    page = admin.get(f"/login/users/{user_id}")
    assert "User ticketing was created." in page.text
    assert 'name="password_never_expires" checked' in page.text
    assert permissions(api, "ticketing") == {
        "perm_use_command_api": "1",
        "perm_use_reporting_api": "1",
        "perm_admin": "1",
        "perm_view_reports": "all_sessions",
        "perm_view_sd_recordings": "1",
        "perm_sd_allowed": "1",
    }


def test_a_new_user_must_change_their_password_when_the_box_stays_ticked(
    admin: AdminClient, api: CommandApi, appliance: RunningAppliance
) -> None:
    create(admin, "fresh", display_name="Fresh", kind="Normal", perm_command_api="on", must_change_password="on")
    refused = api.call("get_api_info", {"username": "fresh", "password": "fresh-secret"})
    assert local(refused) == "error"
    person = AdminClient(appliance)
    assert person.sign_in("fresh", "fresh-secret").headers["location"].startswith("/login/password")
    person.close()


def test_editing_a_user_changes_what_the_apis_see(admin: AdminClient, api: CommandApi) -> None:
    user_id = create(admin, "editor", display_name="Editor", kind="Normal", perm_command_api="on")
    assert permissions(api, "editor")["perm_view_reports"] == "none"
    saved = admin.post(
        f"/login/users/{user_id}",
        {
            "display_name": "Edith Editor",
            "kind": "Normal",
            "enabled": "on",
            "perm_command_api": "on",
            "perm_view_reports": "team_sessions",
        },
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/login/users/{user_id}"
    assert "Edith Editor" in admin.get(f"/login/users/{user_id}").text
    assert permissions(api, "editor")["perm_view_reports"] == "team_sessions"


def test_a_disabled_user_can_neither_sign_in_nor_use_the_apis(
    admin: AdminClient, api: CommandApi, appliance: RunningAppliance
) -> None:
    user_id = create(admin, "leaving", display_name="Leaving", kind="Normal", perm_command_api="on")
    person = signed_in(appliance, "leaving", "leaving-secret")
    disabled = admin.post(
        f"/login/users/{user_id}",
        {"display_name": "Leaving", "kind": "Normal", "perm_view_reports": "none", "perm_command_api": "on"},
    )
    assert disabled.status_code == 303, disabled.text
    assert local(api.call("get_api_info", {"username": "leaving", "password": "leaving-secret"})) == "error"
    assert person.get("/login/account").status_code == 303  # their signed-in browser is out too
    with AdminClient(appliance) as again:
        assert again.sign_in("leaving", "leaving-secret").status_code == 401
    assert "disabled" in admin.get("/login/users").text
    person.close()


def test_validation_messages_are_shown_in_the_form(admin: AdminClient) -> None:
    for fields, message in (
        ({"username": "bad name!"}, "a username is 1 to 64 letters"),
        ({"username": "shorty", "password": "short", "password_again": "short"}, "at least 8 characters"),
        ({"username": "admin"}, "already exists"),
        ({"username": "mismatch", "password_again": "something-else"}, "confirmation differ"),
        ({"username": "nameless", "display_name": ""}, "The display name must not be empty."),
        ({"username": "badkind", "kind": "Wizard"}, "Choose a representative type."),
    ):
        data = {
            "password": "long-enough-pw",
            "password_again": "long-enough-pw",
            "display_name": "X",
            "kind": "Normal",
            "perm_view_reports": "none",
            **fields,
        }
        response = admin.post("/login/users/new", data)
        assert response.status_code == 400, fields
        assert message.lower() in response.text.lower(), (fields, message)
        assert f'value="{data["username"]}"' in response.text or "!" in data["username"]  # kept what was typed


def test_an_admin_cannot_lock_themselves_out(admin: AdminClient) -> None:
    response = admin.post(
        "/login/users/1",
        {"display_name": "Administrator", "kind": "Normal", "enabled": "on", "perm_view_reports": "all_sessions"},
    )
    assert response.status_code == 400
    assert "your own administrator rights" in response.text


def test_an_admin_sets_a_password_the_user_must_change(admin: AdminClient, appliance: RunningAppliance) -> None:
    user_id = create(admin, "forgetful", display_name="Forgetful", kind="Normal")
    response = admin.post(
        f"/login/users/{user_id}/password",
        {"password": "temporary-pass", "password_again": "temporary-pass", "must_change_password": "on"},
    )
    assert "The password of forgetful was changed." in admin.get(response.headers["location"]).text
    person = AdminClient(appliance)
    assert person.sign_in("forgetful", "temporary-pass").headers["location"].startswith("/login/password")
    person.close()
    refused = admin.post(f"/login/users/{user_id}/password", {"password": "x", "password_again": "x"})
    assert (
        "The password was not changed: the password must be at least 8 characters."
        in admin.get(refused.headers["location"]).text
    )
