"""`lifeline team`: support teams, embassies and their issues."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.cli.base import CliError, Commands, data_dir_and_json, emit, user_named, with_db
from lifeline.directory import actions as directory
from lifeline.directory.models import Team


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser("team", help="support teams and embassies")
    parser.set_defaults(run=run)
    team = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = team.add_parser("add", help="create a team")
    add.add_argument("name")
    add.add_argument("--embassy", action="store_true", help="the team is an Embassy")
    add.add_argument("--code-name")
    add.add_argument("--member", action="append", default=[], metavar="USERNAME")
    add.add_argument("--issue", action="append", default=[], metavar="TITLE")
    change = team.add_parser("set", help="add members or issues to a team")
    change.add_argument("name")
    change.add_argument("--member", action="append", default=[], metavar="USERNAME")
    change.add_argument("--remove-member", action="append", default=[], metavar="USERNAME")
    change.add_argument("--issue", action="append", default=[], metavar="TITLE")
    change.add_argument("--remove-issue", action="append", default=[], metavar="CODE_NAME")
    change.add_argument("--rename", metavar="NEW_NAME")
    change.add_argument("--embassy", action=argparse.BooleanOptionalAction, default=None, help="the team is an Embassy")
    listing = team.add_parser("list", help="list teams")
    data_dir_and_json(add, change, listing)


def run(args: argparse.Namespace) -> None:
    if args.action in ("add", "set"):

        def apply(session: Session) -> dict[str, Any]:
            if args.action == "add":
                team = directory.add_team(session, args.name, embassy=args.embassy, code_name=args.code_name)
            else:
                team = _team(session, args.name)
                directory.update_team(session, team, name=args.rename, embassy=args.embassy)
                for username in args.remove_member:
                    directory.remove_team_member(session, team, user_named(session, username))
                for code_name in args.remove_issue:
                    issue = next((i for i in team.issues if i.code_name == code_name), None)
                    if issue is None:
                        raise CliError(f"team {team.name!r} has no issue with the code name {code_name!r}")
                    directory.remove_issue(session, issue)
            for username in args.member:
                directory.add_team_member(session, team, user_named(session, username))
            for title in args.issue:
                directory.add_issue(session, team, title)
            session.flush()
            session.refresh(team)
            return _team_record(team)

        record = with_db(args, apply)
        emit(
            args,
            record,
            f"{'Created' if args.action == 'add' else 'Changed'} team {record['name']} (id {record['id']})",
        )
    else:
        records = with_db(args, lambda s: [_team_record(t) for t in s.scalars(select(Team).order_by(Team.id))])
        emit(args, records, "\n".join(f"{r['id']:>5}  {r['name']}" for r in records))


def _team(session: Session, name: str) -> Team:
    team = session.scalars(select(Team).where(Team.name == name)).first()
    if team is None:
        raise CliError(f"no team named {name!r}")
    return team


def _team_record(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "code_name": team.code_name,
        "embassy": team.is_embassy,
        "members": sorted(m.user.username for m in team.members),
        "issues": [{"id": i.id, "title": i.title, "code_name": i.code_name} for i in team.issues],
    }
