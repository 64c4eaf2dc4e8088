"""`lifeline user`: representatives and other user accounts."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.cli.base import Commands, data_dir_and_json, emit, user_named, with_db
from lifeline.directory import actions as directory
from lifeline.directory.models import RepKind, User, ViewReports


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser("user", help="representatives and other user accounts")
    parser.set_defaults(run=run)
    user = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = user.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--password", required=True)
    _user_flags(add, creating=True)
    change = user.add_parser("set", help="change a user")
    change.add_argument("username")
    _user_flags(change, creating=False)
    unlock = user.add_parser("unlock", help="unlock an account locked after wrong passwords")
    unlock.add_argument("username")
    listing = user.add_parser("list", help="list users")
    data_dir_and_json(add, change, unlock, listing)


def _user_flags(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument("--display-name")
    parser.add_argument("--private-display-name")
    parser.add_argument("--display-number")
    parser.add_argument("--email")
    parser.add_argument("--kind", choices=[k.value.lower() for k in RepKind], help="representative type")
    onoff = argparse.BooleanOptionalAction
    parser.add_argument("--admin", action=onoff, default=None, help="administrator (perm_admin)")
    parser.add_argument("--command-api", action=onoff, default=None, help="may use the command API")
    parser.add_argument("--reporting-api", action=onoff, default=None, help="may use the reporting API")
    parser.add_argument("--view-reports", choices=[v.value for v in ViewReports], help="perm_view_reports level")
    parser.add_argument("--view-recordings", action=onoff, default=None, help="may view session recordings")
    parser.add_argument("--support", action=onoff, default=None, help="may provide remote support")
    parser.add_argument("--show-on-rep-list", action=onoff, default=None, help="may show on the public rep list")
    parser.add_argument("--general-queue", action=onoff, default=None, help="may take sessions from the general queue")
    parser.add_argument("--password-never-expires", action=onoff, default=None)
    parser.add_argument(
        "--must-change-password", action=onoff, default=None, help="must choose a new password at the next sign-in"
    )
    if not creating:
        parser.add_argument("--enabled", action=onoff, default=None, help="enable or disable the account")
        parser.add_argument("--password", help="set a new password")


def run(args: argparse.Namespace) -> None:
    if args.action == "add":
        record = with_db(
            args, lambda s: _user_record(directory.add_user(s, args.username, args.password, _changes(args)))
        )
        emit(args, record, f"Created user {record['username']} (id {record['id']})")
    elif args.action == "set":

        def change(session: Session) -> dict[str, Any]:
            user = user_named(session, args.username)
            directory.update_user(session, user, _changes(args))
            if args.password is not None:
                directory.set_password(session, user, args.password, must_change=args.must_change_password is True)
            return _user_record(user)

        record = with_db(args, change)
        emit(args, record, f"Changed user {record['username']} (id {record['id']})")
    elif args.action == "unlock":

        def unlock(session: Session) -> dict[str, Any]:
            user = user_named(session, args.username)
            directory.unlock_user(session, user)
            return _user_record(user)

        record = with_db(args, unlock)
        emit(args, record, f"Unlocked user {record['username']}")
    else:
        records = with_db(args, lambda s: [_user_record(u) for u in s.scalars(select(User).order_by(User.id))])
        emit(args, records, "\n".join(f"{r['id']:>5}  {r['username']:<24} {r['display_name']}" for r in records))


def _changes(args: argparse.Namespace) -> directory.UserChanges:
    return directory.UserChanges(
        display_name=args.display_name,
        private_display_name=args.private_display_name,
        display_number=args.display_number,
        email=args.email,
        kind=RepKind(args.kind.capitalize()) if args.kind else None,
        enabled=getattr(args, "enabled", None),
        perm_admin=args.admin,
        perm_command_api=args.command_api,
        perm_reporting_api=args.reporting_api,
        perm_view_reports=ViewReports(args.view_reports) if args.view_reports else None,
        perm_view_recordings=args.view_recordings,
        perm_support=args.support,
        perm_show_on_rep_list=args.show_on_rep_list,
        perm_general_queue=args.general_queue,
        password_never_expires=args.password_never_expires,
        must_change_password=args.must_change_password,
    )


def _user_record(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "enabled": user.enabled,
        "perm_admin": user.perm_admin,
        "perm_use_command_api": user.perm_command_api,
        "perm_use_reporting_api": user.perm_reporting_api,
        "perm_view_reports": user.perm_view_reports,
        "perm_view_sd_recordings": user.perm_view_recordings,
        "perm_sd_allowed": user.perm_support,
        "show_on_rep_list": user.perm_show_on_rep_list,
        "password_never_expires": user.password_never_expires,
        "must_change_password": user.must_change_password,
        "locked_until": user.locked_until,
    }
