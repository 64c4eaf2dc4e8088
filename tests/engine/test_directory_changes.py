"""Directory changes the admin interface makes: teams, issues, embassies, public sites,
API accounts and custom attributes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.models import (
    ApiAccount,
    ApiToken,
    CommandAccess,
    CustomAttribute,
    Issue,
    PublicSite,
    RepKind,
    Team,
    User,
)
from lifeline.directory.queries import load_directory


def test_flagging_a_team_as_an_embassy_makes_its_members_embassy_reps_and_back(db: Database) -> None:
    def setup(session: Session) -> int:
        team = directory.add_team(session, "Partners")
        for name in ("erin", "ivan"):
            member = directory.add_user(session, name, f"{name}-password")
            directory.add_team_member(session, team, member)
        ivan = directory.find_user(session, "ivan")
        assert ivan is not None
        ivan.kind = RepKind.INVITED.value
        return team.id

    team_id = db.call(setup)

    def flag(session: Session, embassy: bool) -> dict[str, str]:
        team = session.get(Team, team_id)
        assert team is not None
        directory.update_team(session, team, embassy=embassy)
        return {u.username: u.kind for u in session.scalars(select(User).where(User.username.in_(["erin", "ivan"])))}

    assert db.call(flag, True) == {"erin": "Embassy", "ivan": "Invited"}
    assert db.call(flag, False) == {"erin": "Normal", "ivan": "Invited"}


def test_leaving_an_embassy_makes_a_rep_normal_again(db: Database) -> None:
    def run(session: Session) -> str:
        embassy = directory.add_team(session, "Partners", embassy=True)
        erin = directory.add_user(session, "erin", "erin-password")
        directory.add_team_member(session, embassy, erin)
        assert erin.kind == "Embassy"
        directory.remove_team_member(session, embassy, erin)
        return erin.kind

    assert db.call(run) == "Normal"


def test_renaming_a_team_keeps_names_unique(db: Database) -> None:
    def run(session: Session) -> None:
        directory.add_team(session, "Desk")
        other = directory.add_team(session, "Field")
        directory.update_team(session, other, name="Field Service")
        assert other.name == "Field Service"
        directory.update_team(session, other, name="desk")

    with pytest.raises(directory.DirectoryError, match="already exists"):
        db.call(run)


def test_issues_are_edited_and_removed(db: Database) -> None:
    def run(session: Session) -> list[tuple[str, str]]:
        team = directory.add_team(session, "Desk")
        printer = directory.add_issue(session, team, "Printer")
        vpn = directory.add_issue(session, team, "VPN")
        directory.update_issue(session, printer, title="Printer trouble", code_name="printers")
        directory.remove_issue(session, vpn)
        return [(i.title, i.code_name) for i in session.scalars(select(Issue))]

    assert db.call(run) == [("Printer trouble", "printers")]


def test_an_issue_code_name_stays_unique(db: Database) -> None:
    def run(session: Session) -> None:
        team = directory.add_team(session, "Desk")
        directory.add_issue(session, team, "Printer", "printer")
        vpn = directory.add_issue(session, team, "VPN")
        directory.update_issue(session, vpn, code_name="printer")

    with pytest.raises(directory.DirectoryError, match="already used"):
        db.call(run)


def test_site_flags_and_hostnames(db: Database) -> None:
    def run(session: Session) -> PublicSite:
        site = directory.add_site(session, "Partners", "partner.example.org")
        directory.add_site_hostname(session, site, "help.example.org")
        directory.update_site(
            session,
            site,
            directory.SiteChanges(
                name="Partner site", general_queue_open=False, show_rep_list=False, show_reps_in_issue_menu=True
            ),
        )
        directory.remove_site_hostname(session, site, "partner.example.org")
        return site

    db.call(run)
    snapshot = db.call(load_directory)
    site = next(s for s in snapshot.sites if s.name == "Partner site")
    assert site.hostnames == ("help.example.org",)  # the other one became primary
    assert (site.general_queue_open, site.show_rep_list, site.show_reps_in_issue_menu) == (False, False, True)


def test_a_site_keeps_one_hostname(db: Database) -> None:
    def run(session: Session) -> None:
        site = directory.add_site(session, "Partners", "partner.example.org")
        directory.remove_site_hostname(session, site, "partner.example.org")

    with pytest.raises(directory.DirectoryError, match="at least one hostname"):
        db.call(run)


def test_an_api_account_changes_permissions_and_a_new_secret_revokes_its_tokens(db: Database) -> None:
    def run(session: Session) -> tuple[str, bool, int]:
        account, _ = directory.add_api_account(session, "ticketing", command=CommandAccess.FULL)
        directory.issue_api_token(session, account, 3600)
        directory.update_api_account(session, account, command=CommandAccess.READ_ONLY, reporting=True, enabled=False)
        directory.new_api_secret(session, account)
        tokens = len(session.scalars(select(ApiToken).where(ApiToken.account_id == account.id)).all())
        return account.perm_command, account.enabled, tokens

    assert db.call(run) == ("read_only", False, 0)
    assert db.call(lambda session: session.scalars(select(ApiAccount)).one().perm_reporting) is True


def test_custom_attributes_are_renamed_and_removed(db: Database) -> None:
    def run(session: Session) -> dict[str, str]:
        ticket = directory.add_custom_attribute(session, "ticket", "Ticket")
        other = directory.add_custom_attribute(session, "other", "Other")
        directory.update_custom_attribute(session, ticket, "Ticket number")
        directory.remove_custom_attribute(session, other)
        return {a.code_name: a.display_name for a in session.scalars(select(CustomAttribute))}

    assert db.call(run) == {"ticket": "Ticket number"}
