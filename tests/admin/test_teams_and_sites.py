"""Teams (members, issues, the Embassy flag) and public sites (hostnames and flags) in
/login, as the APIs and the public site then see them."""

from __future__ import annotations

import httpx

from tests.admin.helpers import AdminClient
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import CommandApi, local
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas


def support_teams(api: CommandApi, personas: Personas) -> dict[str, dict[str, object]]:
    root = api.call("get_support_teams", personas.admin.params, showmembers="1")
    teams: dict[str, dict[str, object]] = {}
    for team in root:
        fields = {local(child): child for child in team}
        members = [local(m) for m in fields["members"]] if "members" in fields else []
        teams[fields["name"].text or ""] = {
            "embassy": fields["embassy"].text if "embassy" in fields else "0",
            "members": len(members),
        }
    return teams


def test_an_admin_makes_a_team_with_members_and_issues(
    admin: AdminClient, api: CommandApi, personas: Personas, client: httpx.Client, node: ConsoleNode
) -> None:
    created = admin.post("/login/teams", {"name": "Service Desk", "code_name": ""})
    team_url = created.headers["location"]
    assert "Team Service Desk was created." in admin.get(team_url).text
    admin.post(f"{team_url}/members", {"user_id": str(personas.rep_b.id)})
    admin.post(f"{team_url}/issues", {"title": "Printer trouble", "code_name": "printers"})
    page = admin.get(team_url)
    assert "Issue Printer trouble (printers) was added." in page.text
    assert "Bob Rep" in page.text
    eventually(lambda: _assert(support_teams(api, personas)["Service Desk"] == {"embassy": "0", "members": 1}))
    key = api.call("generate_session_key", personas.api_user.params, type="support", queue_id="issue:printers")
    assert local(key) == "session_key"
    bob = node.log_in("rep_b")  # the public site offers an issue while a member is on duty
    # The test's console node is another process: the appliance sees it within its stamp poll.
    eventually(lambda: _assert("Printer trouble" in client.get("/", headers={"host": "support.example.com"}).text))
    node.log_out(bob)


def test_issues_are_renamed_and_removed(admin: AdminClient, personas: Personas, api: CommandApi) -> None:
    team_url = admin.post("/login/teams", {"name": "Field"}).headers["location"]
    admin.post(f"{team_url}/issues", {"title": "VPN", "code_name": ""})
    page = admin.get(team_url).text
    issue_id = page.split("/issues/")[1].split('"')[0]
    renamed = admin.post(f"{team_url}/issues/{issue_id}", {"title": "VPN down", "code_name": "vpn_down"})
    assert "Issue VPN down was saved." in admin.get(renamed.headers["location"]).text
    clash = admin.post(f"{team_url}/issues/{issue_id}", {"title": "VPN down", "code_name": "printers"})
    assert clash.status_code == 400
    assert "The code name &#39;printers&#39; is already used." in clash.text
    removed = admin.post(f"{team_url}/issues/{issue_id}/remove")
    assert "Issue VPN down was removed." in admin.get(removed.headers["location"]).text

    def gone() -> None:
        refused = api.call("generate_session_key", personas.api_user.params, type="support", queue_id="issue:vpn_down")
        assert local(refused) == "error"

    eventually(gone)


def test_a_team_becomes_an_embassy_and_loses_a_member(admin: AdminClient, api: CommandApi, personas: Personas) -> None:
    team_url = admin.post("/login/teams", {"name": "Partners"}).headers["location"]
    admin.post(f"{team_url}/members", {"user_id": str(personas.no_api.id)})
    saved = admin.post(team_url, {"name": "Partner Desk", "embassy": "on"})
    assert "Partner Desk was saved." in admin.get(saved.headers["location"]).text
    eventually(lambda: _assert(support_teams(api, personas)["Partner Desk"] == {"embassy": "1", "members": 1}))
    assert "Embassy" in admin.get(f"/login/users/{personas.no_api.id}").text
    admin.post(f"{team_url}/members/{personas.no_api.id}/remove")
    eventually(lambda: _assert(support_teams(api, personas)["Partner Desk"]["members"] == 0))


def test_team_names_are_checked(admin: AdminClient) -> None:
    clash = admin.post("/login/teams", {"name": "team a"})
    assert clash.status_code == 400
    assert "A team named &#39;team a&#39; already exists." in clash.text
    assert admin.post("/login/teams", {"name": ""}).status_code == 400
    bad_code = admin.post("/login/teams", {"name": "Coded", "code_name": "Not Valid"})
    assert "a code name is 1 to 64 lowercase letters" in bad_code.text.lower()
    assert admin.get("/login/teams/9999").status_code == 404


def test_an_admin_makes_a_public_site_and_sets_its_flags(
    admin: AdminClient, appliance: RunningAppliance, client: httpx.Client, team_a_on_duty: None
) -> None:
    created = admin.post("/login/sites", {"hostname": "partner.example.org", "name": "Partners"})
    site_url = created.headers["location"]
    assert "Public site Partners was created." in admin.get(site_url).text
    admin.post(f"{site_url}/hostnames", {"hostname": "help.example.org"})
    admin.post(f"{site_url}/hostnames/primary", {"hostname": "help.example.org"})
    admin.post(f"{site_url}/hostnames/remove", {"hostname": "partner.example.org"})
    saved = admin.post(site_url, {"name": "Partners", "show_rep_list": "on"})  # general queue closed
    assert "Partners was saved." in admin.get(saved.headers["location"]).text
    record = next(s for s in appliance.cli_json("site", "list") if s["name"] == "Partners")
    assert record["hostnames"] == ["help.example.org"]
    assert (record["general_queue_open"], record["show_rep_list"], record["show_reps_in_issue_menu"]) == (
        False,
        True,
        False,
    )

    def general_queue_closed() -> None:
        page = client.get("/", headers={"host": "help.example.org"})
        assert page.status_code == 200
        assert "Please choose an issue" in page.text  # no "Something else": the general queue is closed

    eventually(general_queue_closed)


def test_site_hostnames_are_checked(admin: AdminClient) -> None:
    bad = admin.post("/login/sites", {"hostname": "not a host"})
    assert bad.status_code == 400
    assert "is not a valid hostname" in bad.text
    taken = admin.post("/login/sites", {"hostname": "support.example.com"})
    assert "support.example.com already belongs to a public site." in taken.text
    last = admin.post("/login/sites/1/hostnames/remove", {"hostname": "support.example.com"})
    assert last.status_code == 400
    assert "A public site needs at least one hostname." in last.text


def _assert(condition: bool) -> None:
    assert condition
