"""The `lifeline` command: run the appliance and provision it without a browser.

Every subcommand takes --data-dir (or LIFELINE_DATA_DIR), exits non-zero with a one-line
reason on bad input, and prints JSON with --json where a script needs the result.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from lifeline.appliance.settings import APPLIANCE_ID, SETTINGS, SettingError, load_settings, set_setting
from lifeline.backup.archive import backup_to_file, write_backup
from lifeline.backup.restore import (
    Restored,
    RestoreError,
    copy_staged_files,
    describe,
    replace_data,
    restore_backup,
    stage_backup,
    stage_folder,
)
from lifeline.bootstrap import NoAppliance, ensure_appliance, open_appliance, open_database
from lifeline.config import Config, ConfigError
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.models import (
    ApiAccount,
    CommandAccess,
    CustomAttribute,
    PublicSite,
    RepKind,
    Team,
    User,
    ViewReports,
)
from lifeline.recordings.filestore import FileStore
from lifeline.surveys import actions as surveys
from lifeline.surveys.actions import QuestionType, SurveyError, SurveyKind
from lifeline.surveys.models import SurveyQuestion


class CliError(Exception):
    """Printed as one line, exit status 1."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and status 1 like every other failure."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see {self.prog} --help)")


# --- argument definitions ----------------------------------------------------------------


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help="data directory (default: $LIFELINE_DATA_DIR or ~/.local/share/lifeline)"
    )


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number")
    return value


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


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lifeline", description="Lifeline remote support appliance")
    commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the appliance (creates everything on first start)")
    _data_dir_option(serve)
    serve.add_argument("--hostname", help="public site hostname (default: the one set before, else localhost)")
    serve.add_argument("--https-port", type=_port, default=8443, help="HTTPS port (default 8443)")
    serve.add_argument("--http-port", type=_port, default=8080, help="HTTP port, 0 for none (default 8080)")
    serve.add_argument("--bind", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--access-log", action="store_true", help="log every request")

    init = commands.add_parser("init", help="create the data directory, database and admin account, then exit")
    _data_dir_option(init)
    init.add_argument("--hostname")

    user = commands.add_parser("user", help="representatives and other user accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
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
    for sub in (add, change, unlock, listing):
        _data_dir_option(sub)
        _json_option(sub)

    account = commands.add_parser("api-account", help="OAuth API accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = account.add_parser("add", help="create an API account and print its client id and secret")
    add.add_argument("name")
    add.add_argument("--command", choices=[c.value for c in CommandAccess], default="deny", help="command API access")
    add.add_argument("--reporting", action="store_true", help="may use the reporting API")
    add.add_argument("--backup", action="store_true", help="may use the backup API")
    secret = account.add_parser("new-secret", help="replace the secret (revokes every token)")
    secret.add_argument("name")
    change = account.add_parser("set", help="change what an API account may do, or disable it")
    change.add_argument("name")
    change.add_argument("--command", choices=[c.value for c in CommandAccess], help="command API access")
    change.add_argument("--reporting", action=argparse.BooleanOptionalAction, default=None)
    change.add_argument("--backup", action=argparse.BooleanOptionalAction, default=None)
    change.add_argument("--enabled", action=argparse.BooleanOptionalAction, default=None)
    listing = account.add_parser("list", help="list API accounts")
    for sub in (add, secret, change, listing):
        _data_dir_option(sub)
        _json_option(sub)

    team = commands.add_parser("team", help="support teams and embassies").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
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
    for sub in (add, change, listing):
        _data_dir_option(sub)
        _json_option(sub)

    site = commands.add_parser("site", help="public sites").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = site.add_parser("add", help="create a public site for a hostname")
    add.add_argument("hostname")
    add.add_argument("--name", help="site name (default: the hostname)")
    add.add_argument("--site", type=int, metavar="ID", help="add the hostname to this existing site instead")
    change = site.add_parser("set", help="change a public site")
    change.add_argument("site_id", type=int, metavar="ID")
    change.add_argument("--name")
    change.add_argument("--general-queue-open", action=argparse.BooleanOptionalAction, default=None)
    change.add_argument("--show-rep-list", action=argparse.BooleanOptionalAction, default=None)
    change.add_argument("--reps-in-issue-menu", action=argparse.BooleanOptionalAction, default=None)
    change.add_argument("--primary", metavar="HOSTNAME", help="make this hostname the site's primary one")
    change.add_argument("--remove-hostname", action="append", default=[], metavar="HOSTNAME")
    listing = site.add_parser("list", help="list public sites")
    for sub in (add, change, listing):
        _data_dir_option(sub)
        _json_option(sub)

    attribute = commands.add_parser("custom-attribute", help="session.custom.* attributes").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = attribute.add_parser("add", help="define a custom session attribute")
    add.add_argument("code_name")
    add.add_argument("display_name")
    change = attribute.add_parser("set", help="change a custom attribute's display name")
    change.add_argument("code_name")
    change.add_argument("display_name")
    remove = attribute.add_parser("remove", help="stop accepting a custom attribute (sessions keep their values)")
    remove.add_argument("code_name")
    listing = attribute.add_parser("list", help="list custom attributes")
    for sub in (add, change, remove, listing):
        _data_dir_option(sub)
        _json_option(sub)

    survey = commands.add_parser("survey", help="exit survey questions").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = survey.add_parser("add", help="add a question to the customer or representative exit survey")
    add.add_argument("survey", choices=[k.value for k in SurveyKind])
    add.add_argument("--name", required=True, help="the question's name (reports and integrations see it)")
    add.add_argument("--label", required=True, help="the question as people read it")
    add.add_argument("--type", required=True, choices=[t.value for t in QuestionType], dest="question_type")
    add.add_argument("--option", action="append", default=[], help="an answer to choose (radio, checkbox, select)")
    add.add_argument("--report-header", default="")
    change = survey.add_parser("set", help="change a question (give every field, as for add)")
    change.add_argument("question_id", type=int, metavar="ID")
    change.add_argument("--name", required=True)
    change.add_argument("--label", required=True)
    change.add_argument("--type", required=True, choices=[t.value for t in QuestionType], dest="question_type")
    change.add_argument("--option", action="append", default=[])
    change.add_argument("--report-header", default="")
    toggles = []
    for name, what in (("enable", "ask a disabled question again"), ("disable", "stop asking a question")):
        toggle = survey.add_parser(name, help=what)
        toggle.add_argument("question_id", type=int, metavar="ID")
        toggles.append(toggle)
    move = survey.add_parser("move", help="move a question up or down in its survey")
    move.add_argument("question_id", type=int, metavar="ID")
    move.add_argument("offset", type=int, help="places to move: negative is up, positive is down")
    listing = survey.add_parser("list", help="list the questions of both surveys (disabled ones too)")
    for sub in (add, change, *toggles, move, listing):
        _data_dir_option(sub)
        _json_option(sub)

    settings = commands.add_parser("settings", help="appliance settings").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    set_ = settings.add_parser("set", help="change a setting")
    set_.add_argument("key", choices=sorted(SETTINGS), metavar="KEY")
    set_.add_argument("value", help="the new value; for a password, - reads it from standard input")
    get = settings.add_parser("get", help="show a setting")
    get.add_argument("key", choices=sorted(SETTINGS), metavar="KEY")
    listing = settings.add_parser("list", help="show every setting")
    for sub in (set_, get, listing):
        _data_dir_option(sub)
        _json_option(sub)

    backup = commands.add_parser("backup", help="write a backup (.nsb) of the configuration and logged data")
    backup.add_argument(
        "--output", "-o", help="file to write (default: lifeline-YYYY-MM-DD.nsb here; - for standard output)"
    )
    backup.add_argument("--password", help="encrypt the backup with this password (or set LIFELINE_BACKUP_PASSWORD)")
    restore = commands.add_parser(
        "restore", help="restore a backup into a new, empty appliance (not running), or replace an appliance's data"
    )
    restore.add_argument("file", type=Path, help="the .nsb file")
    restore.add_argument("--password", help="the backup's password (or set LIFELINE_BACKUP_PASSWORD)")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="replace all the data of this appliance (running or not) with the backup's, as /login's Backup page does",
    )
    for sub in (backup, restore):
        _data_dir_option(sub)
        _json_option(sub)
    return parser


# --- helpers -----------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> Config:
    return Config.from_env(args.data_dir)


def _with_db(args: argparse.Namespace, work: Callable[[Session], Any]) -> Any:
    db: Database = open_appliance(_config(args))
    try:
        first = db.call(ensure_appliance, None)
        if first.admin_password:
            print(f"Created the admin account: admin / {first.admin_password} (shown only once)", file=sys.stderr)
        return db.call(work)
    finally:
        db.close()


def _user(session: Session, username: str) -> User:
    user = directory.find_user(session, username)
    if user is None:
        raise CliError(f"no user named {username!r}")
    return user


def _team(session: Session, name: str) -> Team:
    team = session.scalars(select(Team).where(Team.name == name)).first()
    if team is None:
        raise CliError(f"no team named {name!r}")
    return team


def _api_account(session: Session, name: str) -> ApiAccount:
    account = session.scalars(select(ApiAccount).where(ApiAccount.name == name)).first()
    if account is None:
        raise CliError(f"no API account named {name!r}")
    return account


def _api_account_record(account: ApiAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "client_id": account.client_id,
        "command": account.perm_command,
        "reporting": account.perm_reporting,
        "backup": account.perm_backup,
        "enabled": account.enabled,
    }


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


def _team_record(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "code_name": team.code_name,
        "embassy": team.is_embassy,
        "members": sorted(m.user.username for m in team.members),
        "issues": [{"id": i.id, "title": i.title, "code_name": i.code_name} for i in team.issues],
    }


def _site_record(site: PublicSite) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "hostnames": [h.hostname for h in sorted(site.hostnames, key=lambda h: (not h.is_primary, h.id))],
        "general_queue_open": site.general_queue_open,
        "show_rep_list": site.show_rep_list,
        "show_reps_in_issue_menu": site.show_reps_in_issue_menu,
    }


def _emit(args: argparse.Namespace, record: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(record, indent=2, sort_keys=True, default=str))
    else:
        print(text)


# --- commands ----------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> None:
    from lifeline.server import ServeOptions, serve

    serve(
        _config(args),
        ServeOptions(
            hostname=args.hostname,
            https_port=args.https_port,
            http_port=args.http_port,
            bind=args.bind,
            access_log=args.access_log,
        ),
    )


def cmd_init(args: argparse.Namespace) -> None:
    db = open_database(_config(args))
    try:
        first = db.call(ensure_appliance, args.hostname)
    finally:
        db.close()
    if first.admin_password:
        print(f"Created the admin account: admin / {first.admin_password} (shown only once)")
    print(f"The appliance's data is in {_config(args).data_dir}")


def cmd_user(args: argparse.Namespace) -> None:
    if args.action == "add":
        record = _with_db(
            args, lambda s: _user_record(directory.add_user(s, args.username, args.password, _changes(args)))
        )
        _emit(args, record, f"Created user {record['username']} (id {record['id']})")
    elif args.action == "set":

        def change(session: Session) -> dict[str, Any]:
            user = _user(session, args.username)
            directory.update_user(session, user, _changes(args))
            if args.password is not None:
                directory.set_password(session, user, args.password, must_change=args.must_change_password is True)
            return _user_record(user)

        record = _with_db(args, change)
        _emit(args, record, f"Changed user {record['username']} (id {record['id']})")
    elif args.action == "unlock":

        def unlock(session: Session) -> dict[str, Any]:
            user = _user(session, args.username)
            directory.unlock_user(session, user)
            return _user_record(user)

        record = _with_db(args, unlock)
        _emit(args, record, f"Unlocked user {record['username']}")
    else:
        records = _with_db(args, lambda s: [_user_record(u) for u in s.scalars(select(User).order_by(User.id))])
        _emit(args, records, "\n".join(f"{r['id']:>5}  {r['username']:<24} {r['display_name']}" for r in records))


def cmd_api_account(args: argparse.Namespace) -> None:
    if args.action == "add":

        def add(session: Session) -> dict[str, Any]:
            account, secret = directory.add_api_account(
                session, args.name, command=CommandAccess(args.command), reporting=args.reporting, backup=args.backup
            )
            return {"id": account.id, "name": account.name, "client_id": account.client_id, "client_secret": secret}

        record = _with_db(args, add)
        _emit(args, record, f"client_id: {record['client_id']}\nclient_secret: {record['client_secret']}")
    elif args.action == "new-secret":

        def renew(session: Session) -> dict[str, Any]:
            account = _api_account(session, args.name)
            return {
                "name": account.name,
                "client_id": account.client_id,
                "client_secret": directory.new_api_secret(session, account),
            }

        record = _with_db(args, renew)
        _emit(args, record, f"client_id: {record['client_id']}\nclient_secret: {record['client_secret']}")
    elif args.action == "set":

        def change(session: Session) -> dict[str, Any]:
            account = _api_account(session, args.name)
            directory.update_api_account(
                session,
                account,
                command=CommandAccess(args.command) if args.command else None,
                reporting=args.reporting,
                backup=args.backup,
                enabled=args.enabled,
            )
            return _api_account_record(account)

        record = _with_db(args, change)
        _emit(args, record, f"Changed API account {record['name']}")
    else:
        records = _with_db(
            args, lambda s: [_api_account_record(a) for a in s.scalars(select(ApiAccount).order_by(ApiAccount.id))]
        )
        _emit(args, records, "\n".join(f"{r['id']:>5}  {r['name']:<24} {r['client_id']}" for r in records))


def cmd_team(args: argparse.Namespace) -> None:
    if args.action in ("add", "set"):

        def apply(session: Session) -> dict[str, Any]:
            if args.action == "add":
                team = directory.add_team(session, args.name, embassy=args.embassy, code_name=args.code_name)
            else:
                team = _team(session, args.name)
                directory.update_team(session, team, name=args.rename, embassy=args.embassy)
                for username in args.remove_member:
                    directory.remove_team_member(session, team, _user(session, username))
                for code_name in args.remove_issue:
                    issue = next((i for i in team.issues if i.code_name == code_name), None)
                    if issue is None:
                        raise CliError(f"team {team.name!r} has no issue with the code name {code_name!r}")
                    directory.remove_issue(session, issue)
            for username in args.member:
                directory.add_team_member(session, team, _user(session, username))
            for title in args.issue:
                directory.add_issue(session, team, title)
            session.flush()
            session.refresh(team)
            return _team_record(team)

        record = _with_db(args, apply)
        _emit(
            args,
            record,
            f"{'Created' if args.action == 'add' else 'Changed'} team {record['name']} (id {record['id']})",
        )
    else:
        records = _with_db(args, lambda s: [_team_record(t) for t in s.scalars(select(Team).order_by(Team.id))])
        _emit(args, records, "\n".join(f"{r['id']:>5}  {r['name']}" for r in records))


def cmd_site(args: argparse.Namespace) -> None:
    if args.action == "add":

        def add(session: Session) -> dict[str, Any]:
            if args.site is not None:
                site = session.get(PublicSite, args.site)
                if site is None:
                    raise CliError(f"no public site with id {args.site}")
                directory.add_site_hostname(session, site, args.hostname)
            else:
                site = directory.add_site(session, args.name or args.hostname, args.hostname)
            session.flush()
            session.refresh(site)
            return _site_record(site)

        record = _with_db(args, add)
        _emit(args, record, f"Public site {record['name']} (id {record['id']}): {', '.join(record['hostnames'])}")
    elif args.action == "set":

        def change(session: Session) -> dict[str, Any]:
            site = session.get(PublicSite, args.site_id)
            if site is None:
                raise CliError(f"no public site with id {args.site_id}")
            changes = directory.SiteChanges(
                name=args.name,
                general_queue_open=args.general_queue_open,
                show_rep_list=args.show_rep_list,
                show_reps_in_issue_menu=args.reps_in_issue_menu,
            )
            directory.update_site(session, site, changes)
            if args.primary:
                directory.set_primary_hostname(session, site, args.primary)
            for hostname in args.remove_hostname:
                directory.remove_site_hostname(session, site, directory.check_hostname(hostname))
            session.flush()
            session.refresh(site)
            return _site_record(site)

        record = _with_db(args, change)
        _emit(args, record, f"Changed public site {record['name']} (id {record['id']})")
    else:
        records = _with_db(
            args, lambda s: [_site_record(x) for x in s.scalars(select(PublicSite).order_by(PublicSite.id))]
        )
        _emit(args, records, "\n".join(f"{r['id']:>5}  {r['name']:<24} {', '.join(r['hostnames'])}" for r in records))


def cmd_custom_attribute(args: argparse.Namespace) -> None:
    def record(attribute: CustomAttribute) -> dict[str, Any]:
        return {"id": attribute.id, "code_name": attribute.code_name, "display_name": attribute.display_name}

    def find(session: Session) -> CustomAttribute:
        found = session.scalars(select(CustomAttribute).where(CustomAttribute.code_name == args.code_name)).first()
        if found is None:
            raise CliError(f"no custom attribute {args.code_name!r}")
        return found

    if args.action == "add":
        added = _with_db(args, lambda s: record(directory.add_custom_attribute(s, args.code_name, args.display_name)))
        _emit(args, added, f"Defined session.custom.{added['code_name']} ({added['display_name']})")
    elif args.action == "set":
        changed = _with_db(args, lambda s: record(directory.update_custom_attribute(s, find(s), args.display_name)))
        _emit(args, changed, f"Renamed session.custom.{changed['code_name']} ({changed['display_name']})")
    elif args.action == "remove":
        _with_db(args, lambda s: directory.remove_custom_attribute(s, find(s)))
        _emit(args, {"code_name": args.code_name}, f"Removed session.custom.{args.code_name}")
    else:
        listed = _with_db(
            args, lambda s: [record(a) for a in s.scalars(select(CustomAttribute).order_by(CustomAttribute.id))]
        )
        _emit(args, listed, "\n".join(f"{a['code_name']:<24} {a['display_name']}" for a in listed))


def _shown_setting(key: str, value: Any) -> Any:
    """What the command shows of a setting: a secret only as whether it is set."""
    if SETTINGS[key].secret:
        return "(set)" if value else "(not set)"
    return value if isinstance(value, bool | int | str) else str(value)


def _as_written(value: Any) -> str:
    """A setting's value as `lifeline settings set` takes it (true, not Python's True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cmd_settings(args: argparse.Namespace) -> None:
    if args.action == "set":
        raw = args.value
        if SETTINGS[args.key].secret and raw == "-":
            raw = sys.stdin.readline().rstrip("\r\n")  # a secret kept off the command line
        value = _shown_setting(args.key, _with_db(args, lambda s: set_setting(s, args.key, raw)))
        _emit(args, {args.key: value}, f"{args.key} = {_as_written(value)}")
        return
    values = _with_db(args, load_settings)
    shown = {key: _shown_setting(key, values[key]) for key in sorted(SETTINGS)}
    if args.action == "get":
        _emit(args, {args.key: shown[args.key]}, _as_written(shown[args.key]))
    else:
        _emit(args, shown, "\n".join(f"{key} = {_as_written(value)}" for key, value in shown.items()))


def cmd_survey(args: argparse.Namespace) -> None:
    def record(question: SurveyQuestion) -> dict[str, Any]:
        return {
            "id": question.id,
            "survey": question.survey,
            "name": question.name,
            "label": question.label,
            "type": question.question_type,
            "options": question.options,
            "report_header": question.report_header,
            "enabled": question.enabled,
        }

    def find(session: Session) -> SurveyQuestion:
        question = session.get(SurveyQuestion, args.question_id)
        if question is None:
            raise CliError(f"no survey question with id {args.question_id}")
        return question

    fields: dict[str, Any] = {}
    if args.action in ("add", "set"):
        fields = {
            "name": args.name,
            "label": args.label,
            "question_type": QuestionType(args.question_type),
            "report_header": args.report_header,
            "options": args.option,
        }
    if args.action == "add":
        created = _with_db(args, lambda s: record(surveys.add_question(s, SurveyKind(args.survey), **fields)))
        _emit(args, created, f"Added question {created['id']} to the {created['survey']} exit survey")
        return
    if args.action in ("set", "enable", "disable", "move"):

        def change(session: Session) -> dict[str, Any]:
            question = find(session)
            if args.action == "set":
                surveys.update_question(session, question, **fields)
            elif args.action == "move":
                surveys.move_question(session, question, args.offset)
            else:
                surveys.set_question_enabled(session, question, args.action == "enable")
            return record(question)

        changed = _with_db(args, change)
        _emit(args, changed, f"Changed question {changed['id']} of the {changed['survey']} exit survey")
        return
    listed = _with_db(args, lambda s: [record(q) for kind in SurveyKind for q in surveys.all_questions(s, kind)])
    _emit(
        args,
        listed,
        "\n".join(
            f"{q['id']:>5}  {q['survey']:<15} {q['name']}: {q['label']}{'' if q['enabled'] else ' (disabled)'}"
            for q in listed
        ),
    )


def _backup_password(args: argparse.Namespace) -> str | None:
    return args.password or os.environ.get("LIFELINE_BACKUP_PASSWORD") or None


def cmd_backup(args: argparse.Namespace) -> None:
    config = _config(args)
    output = args.output or f"lifeline-{datetime.now(UTC):%Y-%m-%d}.nsb"
    if output != "-" and not Path(output).parent.is_dir():
        raise CliError(f"the folder {Path(output).parent} does not exist; create it first")
    db = open_appliance(config)
    try:
        files = FileStore(config.file_store_dir)
        if output == "-":
            manifest = write_backup(db, files, sys.stdout.buffer, password=_backup_password(args))
            sys.stdout.buffer.flush()
        else:
            manifest = backup_to_file(db, files, Path(output), password=_backup_password(args))
    finally:
        db.close()
    message = f"Wrote {'the backup' if output == '-' else output}: {describe(manifest)}"
    if output == "-":
        print(message, file=sys.stderr)
    else:
        _emit(args, {"file": output, **asdict(manifest)}, message)


def cmd_restore(args: argparse.Namespace) -> None:
    config = _config(args)
    try:
        if args.replace:
            restored = _replace_data(config, args.file, _backup_password(args))
        else:
            restored = restore_backup(config, args.file, password=_backup_password(args))
    except RestoreError as error:
        raise CliError(str(error)) from None
    where = "PostgreSQL" if not config.is_sqlite else str(config.data_dir)
    _emit(
        args,
        {"rows": restored.rows, "files": restored.files, **asdict(restored.manifest)},
        f"{'Replaced the data with' if args.replace else 'Restored'} {describe(restored.manifest)} into {where}",
    )


def _replace_data(config: Config, source: Path, password: str | None) -> Restored:
    """The same replacement as /login's: staged and checked first, then one transaction;
    running appliance processes notice it within a second."""
    db = open_appliance(config)
    try:
        backup = stage_backup(source, password, stage_folder(config.scratch_dir, secrets.token_hex(16)))
        try:
            files = copy_staged_files(backup, FileStore(config.file_store_dir))
            appliance_id = db.call(load_settings)[APPLIANCE_ID]
            rows = db.call(
                replace_data, backup, appliance_id=appliance_id, performed_by="lifeline restore", file_name=source.name
            )
        finally:
            shutil.rmtree(backup.folder, ignore_errors=True)
    finally:
        db.close()
    return Restored(backup.manifest, rows, files)


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "serve": cmd_serve,
    "init": cmd_init,
    "user": cmd_user,
    "api-account": cmd_api_account,
    "team": cmd_team,
    "site": cmd_site,
    "custom-attribute": cmd_custom_attribute,
    "settings": cmd_settings,
    "survey": cmd_survey,
    "backup": cmd_backup,
    "restore": cmd_restore,
}


def _fail(message: str) -> NoReturn:
    print(f"lifeline: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def _file_problem(error: OSError) -> str:
    """The system's reason and the path: an OSError's text holds nothing else."""
    reason = error.strerror or type(error).__name__
    return f"{reason}: {error.filename}" if error.filename else reason


def _database_problem(error: SQLAlchemyError) -> str:
    """The driver's own one-line reason, never SQLAlchemy's text of the error: that quotes
    the statement's parameters, and they can be a password hash or a secret."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        reason = str(error.orig).strip().splitlines()
        return f"the database refused: {reason[0] if reason else type(error.orig).__name__}"
    return f"the database refused: {type(error).__name__}"


def _reader_went_away() -> NoReturn:
    """`lifeline user list --json | head`: stop quietly, as Unix tools do on SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush then goes nowhere
    raise SystemExit(128 + signal.SIGPIPE)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        args = build_parser().parse_args(argv)
        COMMANDS[args.subcommand](args)
        sys.stdout.flush()  # a reader that went away shows here, not at the interpreter's exit
    except (CliError, directory.DirectoryError, SettingError, ConfigError, SurveyError, NoAppliance) as error:
        _fail(str(error))
    except BrokenPipeError:
        _reader_went_away()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except OSError as error:
        _fail(_file_problem(error))
    except SQLAlchemyError as error:
        _fail(_database_problem(error))
    except Exception as error:
        # Its text may hold what the command was given (a password): the kind only.
        _fail(f"unexpected {type(error).__name__} (a bug: please report it with the command that caused it)")


if __name__ == "__main__":
    main()
