"""get_support_teams: teams, their issues and, on request, their members."""

from __future__ import annotations

import httpx
import pytest

from tests.support.command import NS_17, NS_LATER, CommandApi, error_of, local
from tests.support.personas import Personas
from tests.support.xmlcheck import q, text_of, texts


def teams(api: CommandApi, personas: Personas, ns: bool = True, **params: str):  # type: ignore[no-untyped-def]
    root = api.call("get_support_teams", personas.admin.params, ns=ns, **params)
    assert local(root) == "support_teams", error_of(root)
    return {team.get("id"): team for team in root}


def test_it_lists_every_team_with_its_issues(api: CommandApi, personas: Personas) -> None:
    by_id = teams(api, personas)
    team_a = by_id[str(personas.team_a)]
    assert team_a.attrib == {"id": str(personas.team_a)}
    assert text_of(team_a, NS_17, "name") == "Team A"
    assert team_a.find(q(NS_17, "embassy")) is None
    issues = team_a.findall(q(NS_17, "issues/issue"))
    assert [(i.get("id"), text_of(i, NS_17, "title")) for i in issues] == [
        (str(personas.issue_started), "I need help getting started"),
        (str(personas.issue_error), "I am receiving an error"),
    ]
    assert text_of(issues[1], NS_17, "code_name") == "i_am_receiving_an_error"
    assert team_a.find(q(NS_17, "members")) is None
    team_b = by_id[str(personas.team_b)]
    issues_b = team_b.find(q(NS_17, "issues"))
    assert issues_b is not None
    assert len(issues_b) == 0
    assert text_of(by_id[str(personas.embassy)], NS_17, "embassy") == "1"


@pytest.mark.parametrize("flag", [{"showmembers": ""}, {"showmembers": "1"}])
def test_showmembers_with_or_without_a_value_lists_members(
    api: CommandApi, personas: Personas, flag: dict[str, str]
) -> None:
    team_a = teams(api, personas, **flag)[str(personas.team_a)]
    [member] = team_a.findall(q(NS_17, "members/representative"))
    assert member.attrib == {"id": str(personas.rep_a.id)}
    assert (text_of(member, NS_17, "username"), text_of(member, NS_17, "display_name")) == ("rep_a", "Alice Rep")


def test_a_bare_showmembers_flag_in_the_raw_query_counts(personas: Personas, client: httpx.Client) -> None:
    query = f"username=admin&password={personas.admin.password}&action=get_support_teams&showmembers"
    assert "<members>" in client.get(f"/api/command.ns?{query}").text


def test_the_later_url_adds_team_code_names(api: CommandApi, personas: Personas) -> None:
    team_a = teams(api, personas, ns=False)[str(personas.team_a)]
    assert text_of(team_a, NS_LATER, "code_name") == "team_a"
    assert texts(team_a, NS_LATER, "issues/issue/title")[0] == "I need help getting started"


def test_who_may_list_teams(api: CommandApi, personas: Personas, client: httpx.Client) -> None:
    assert local(api.call("get_support_teams", personas.readonly.token(client))) == "support_teams"
    refused = api.call("get_support_teams", personas.no_api.params, ns=True)
    assert local(refused) == "support_teams"
    assert error_of(refused) == "This user does not have permission to use the command API"
