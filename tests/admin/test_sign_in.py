"""Signing into /login and out, where admins and reps land, changing one's password, and a
password change that is due before anything else."""

from __future__ import annotations

from urllib.parse import quote

from tests.admin.helpers import AdminClient, csrf_of, signed_in
from tests.support.appliance import RunningAppliance
from tests.support.command import CommandApi, local
from tests.support.personas import Personas


def test_the_sign_in_page_is_at_login(appliance: RunningAppliance) -> None:
    with appliance.client() as client:
        page = client.get("/login")
    assert page.status_code == 200
    assert "administration" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert 'name="csrf"' in page.text


def test_an_admin_lands_on_the_status_page(appliance: RunningAppliance, personas: Personas) -> None:
    admin = AdminClient(appliance)
    response = admin.sign_in("admin", personas.admin.password)
    assert response.headers["location"] == "/login/status"
    assert admin.get("/login").headers["location"] == "/login/status"  # already signed in
    admin.close()


def test_a_rep_lands_on_their_own_account(appliance: RunningAppliance, personas: Personas) -> None:
    rep = AdminClient(appliance)
    assert rep.sign_in("rep_a", personas.rep_a.password).headers["location"] == "/login/account"
    account = rep.get("/login/account")
    assert "Alice Rep" in account.text
    assert "Team A" in account.text
    assert 'href="/login/users"' not in account.text  # no admin navigation
    rep.close()


def test_a_wrong_password_is_refused_with_a_clear_message(appliance: RunningAppliance) -> None:
    with AdminClient(appliance) as visitor:
        response = visitor.sign_in("rep_b", "not-the-password")
    assert response.status_code == 401
    assert "The username or password is not right." in response.text


def test_a_form_without_its_token_is_refused(appliance: RunningAppliance, personas: Personas) -> None:
    with appliance.client() as client:
        response = client.post("/login", data={"username": "admin", "password": personas.admin.password})
    assert response.status_code == 400
    assert "The form expired" in response.text


def test_a_signed_out_visitor_is_sent_to_sign_in_and_comes_back(
    appliance: RunningAppliance, personas: Personas
) -> None:
    visitor = AdminClient(appliance)
    assert visitor.get("/login/users").headers["location"] == "/login?next=" + quote("/login/users")
    page = visitor.get("/login?next=/login/users")
    response = visitor.client.post(
        "/login",
        data={"csrf": csrf_of(page), "username": "admin", "password": personas.admin.password, "next": "/login/users"},
    )
    assert response.headers["location"] == "/login/users"
    visitor.close()


def test_next_never_leads_off_the_appliance(appliance: RunningAppliance, personas: Personas) -> None:
    for wanted in ("https://evil.example/", "//evil.example/login", "/\\evil.example", "/api/command"):
        visitor = AdminClient(appliance)
        page = visitor.get("/login", params={"next": wanted})
        response = visitor.client.post(
            "/login",
            data={"csrf": csrf_of(page), "username": "rep_b", "password": personas.rep_b.password, "next": wanted},
        )
        assert response.headers["location"] == "/login/account", wanted
        visitor.close()


def test_signing_out_needs_the_form_token_and_ends_the_session(appliance: RunningAppliance, personas: Personas) -> None:
    rep = signed_in(appliance, "rep_b", personas.rep_b.password)
    assert rep.client.post("/login/logout", data={"csrf": "forged"}).status_code == 400
    assert rep.get("/login/account").status_code == 200
    assert rep.post("/login/logout").headers["location"] == "/login"
    assert rep.get("/login/account").status_code == 303
    rep.close()


def replay(appliance: RunningAppliance, cookie: str, path: str) -> int:
    """What an old cookie, kept by someone, still opens."""
    with appliance.client(cookies={"lifeline_session": cookie}) as thief:
        return thief.get(path).status_code


def test_a_signed_out_cookie_opens_nothing_any_more(appliance: RunningAppliance, personas: Personas) -> None:
    for door in ("/login/logout", "/console/logout"):
        rep = signed_in(appliance, "rep_a", personas.rep_a.password)
        cookie = rep.client.cookies["lifeline_session"]
        assert replay(appliance, cookie, "/console") == 200
        if door == "/console/logout":
            rep.client.post(door, data={"csrf": csrf_of(rep.get("/console"))})
        else:
            rep.post(door)
        assert replay(appliance, cookie, "/console") == 303  # to the console's sign-in page
        assert replay(appliance, cookie, "/login/account") == 303
        rep.close()


def test_a_new_password_ends_every_other_sign_in(appliance: RunningAppliance, personas: Personas) -> None:
    appliance.cli("user", "add", "twice", "--password", "first-password", "--support")
    here, there = signed_in(appliance, "twice", "first-password"), signed_in(appliance, "twice", "first-password")
    changed = here.post("/login/password", {"current": "first-password", "new": "second-pass", "again": "second-pass"})
    assert changed.status_code == 303
    assert here.get("/login/account").status_code == 200  # the browser that changed it stays signed in
    assert there.get("/login/account").status_code == 303
    there.close()
    there = signed_in(appliance, "twice", "second-pass")
    with AdminClient(appliance) as admin:
        admin.sign_in("admin", personas.admin.password)
        user_id = next(u["id"] for u in appliance.cli_json("user", "list") if u["username"] == "twice")
        admin.post(f"/login/users/{user_id}/password", {"password": "third-pass", "password_again": "third-pass"})
    assert here.get("/login/account").status_code == 303  # an admin's new password: both end
    assert there.get("/login/account").status_code == 303
    here.close()
    there.close()
    here = signed_in(appliance, "twice", "third-pass")
    appliance.cli("user", "set", "twice", "--password", "fourth-pass")
    assert here.get("/login/account").status_code == 303  # and the command's
    here.close()


def test_one_sign_in_serves_the_console_too(appliance: RunningAppliance, personas: Personas) -> None:
    rep = signed_in(appliance, "rep_b", personas.rep_b.password)
    assert rep.get("/console").status_code == 200
    rep.close()


def test_a_user_changes_their_password_and_stays_signed_in(appliance: RunningAppliance, api: CommandApi) -> None:
    appliance.cli("user", "add", "changer", "--password", "first-password", "--command-api")
    user = signed_in(appliance, "changer", "first-password")
    refused = user.post(
        "/login/password", {"current": "wrong-password", "new": "second-password", "again": "second-password"}
    )
    assert refused.status_code == 400
    assert "The current password is not right." in refused.text
    mismatch = user.post("/login/password", {"current": "first-password", "new": "second-password", "again": "other"})
    assert "differ" in mismatch.text
    rule = user.post("/login/password", {"current": "first-password", "new": "CHANGER ", "again": "CHANGER "})
    assert "must not be the username" in rule.text
    changed = user.post(
        "/login/password", {"current": "first-password", "new": "second-password", "again": "second-password"}
    )
    assert changed.status_code == 303
    assert user.get(changed.headers["location"]).status_code == 200  # the new cookie works
    assert local(api.call("get_api_info", {"username": "changer", "password": "first-password"})) == "error"
    assert local(api.call("get_api_info", {"username": "changer", "password": "second-password"})) == "api_information"
    user.close()


def test_a_due_password_change_comes_before_anything_else(appliance: RunningAppliance, api: CommandApi) -> None:
    appliance.cli("user", "add", "newbie", "--password", "temporary-pass", "--support", "--command-api")
    appliance.cli("user", "set", "newbie", "--must-change-password")
    creds = {"username": "newbie", "password": "temporary-pass"}
    assert local(api.call("get_api_info", creds)) == "error"  # the APIs refuse it until then
    newbie = AdminClient(appliance)
    response = newbie.sign_in("newbie", "temporary-pass")
    assert response.headers["location"] == "/login/password?next=/login/account"
    assert newbie.get("/login/account").headers["location"] == "/login/password"
    assert newbie.get("/console").headers["location"] == "/login/password?next=/console"
    changed = newbie.post(
        "/login/password", {"current": "temporary-pass", "new": "my-own-secret", "again": "my-own-secret"}
    )
    assert changed.headers["location"] == "/login/account"
    assert newbie.get("/login/account").status_code == 200
    assert local(api.call("get_api_info", {"username": "newbie", "password": "my-own-secret"})) == "api_information"
    newbie.close()


def test_the_console_sign_in_leads_to_a_due_password_change(appliance: RunningAppliance) -> None:
    appliance.cli(
        "user", "add", "console_newbie", "--password", "temporary-pass", "--support", "--must-change-password"
    )
    with appliance.client() as client:
        token = csrf_of(client.get("/console/login"))
        response = client.post(
            "/console/login", data={"csrf": token, "username": "console_newbie", "password": "temporary-pass"}
        )
        assert response.headers["location"] == "/login/password?next=/console"
