"""`lifeline api-account`: OAuth API accounts."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.cli.base import CliError, Commands, data_dir_and_json, emit, with_db
from lifeline.directory import actions as directory
from lifeline.directory.models import ApiAccount, CommandAccess


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser("api-account", help="OAuth API accounts")
    parser.set_defaults(run=run)
    account = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
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
    data_dir_and_json(add, secret, change, listing)


def run(args: argparse.Namespace) -> None:
    if args.action == "add":

        def add(session: Session) -> dict[str, Any]:
            account, secret = directory.add_api_account(
                session, args.name, command=CommandAccess(args.command), reporting=args.reporting, backup=args.backup
            )
            return {"id": account.id, "name": account.name, "client_id": account.client_id, "client_secret": secret}

        record = with_db(args, add)
        emit(args, record, f"client_id: {record['client_id']}\nclient_secret: {record['client_secret']}")
    elif args.action == "new-secret":

        def renew(session: Session) -> dict[str, Any]:
            account = _api_account(session, args.name)
            return {
                "name": account.name,
                "client_id": account.client_id,
                "client_secret": directory.new_api_secret(session, account),
            }

        record = with_db(args, renew)
        emit(args, record, f"client_id: {record['client_id']}\nclient_secret: {record['client_secret']}")
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

        record = with_db(args, change)
        emit(args, record, f"Changed API account {record['name']}")
    else:
        records = with_db(
            args, lambda s: [_api_account_record(a) for a in s.scalars(select(ApiAccount).order_by(ApiAccount.id))]
        )
        emit(args, records, "\n".join(f"{r['id']:>5}  {r['name']:<24} {r['client_id']}" for r in records))


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
