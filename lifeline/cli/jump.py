"""`lifeline jump-group`, `lifeline jump-installer` and `lifeline jump`: deploying Jump Clients
without a browser."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.appliance.settings import load_settings
from lifeline.appliance.tls import certificate_file
from lifeline.cli.base import CliError, Commands, config_of, data_dir_and_json, emit, user_named, with_db
from lifeline.directory.queries import load_directory
from lifeline.jump import actions as jump
from lifeline.jump.models import JumpClient, JumpGroup, JumpMode

INSTALL_DIR = "/var/lib/lifeline-jump"  # what the printed command suggests; any folder works


def add_commands(commands: Commands) -> None:
    group = commands.add_parser("jump-group", help="Jump Groups: who sees which Jump Clients")
    group.set_defaults(run=run_group)
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a Jump Group")
    add.add_argument("name")
    add.add_argument("--member", action="append", default=[], metavar="USERNAME")
    add.add_argument("--team", action="append", default=[], metavar="TEAM")
    add.add_argument("--comments", default="")
    data_dir_and_json(add)

    installer = commands.add_parser("jump-installer", help="installer keys for Jump Clients and Jumpoints")
    installer.set_defaults(run=run_installer)
    actions = installer.add_subparsers(dest="action", required=True, metavar="ACTION")
    make = actions.add_parser("add", help="make an installer key and print the install command (once)")
    where = make.add_mutually_exclusive_group(required=True)
    where.add_argument("--group", metavar="NAME", help="the Jump Group its installations join")
    where.add_argument("--personal", metavar="USERNAME", help="the user whose personal list they join")
    make.add_argument("--jumpoint", metavar="NAME", help="install a Jumpoint of this name, not a Jump Client")
    make.add_argument(
        "--valid", type=int, default=jump.DEFAULT_VALID_SECONDS, metavar="SECONDS", help="default: 7 days"
    )
    make.add_argument("--comments", default="")
    make.add_argument("--tag", default="")
    make.add_argument("--site", metavar="HOSTNAME", help="the public site (default: the default site)")
    make.add_argument(
        "--no-consent", action="store_true", help="sessions with these computers do not ask their user first"
    )
    data_dir_and_json(make)

    clients = commands.add_parser("jump", help="installed Jump Clients and Jumpoints")
    clients.set_defaults(run=run_clients)
    actions = clients.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list Jump Clients and Jumpoints")
    remove = actions.add_parser("remove", help="remove one: it uninstalls itself when it next connects")
    remove.add_argument("id", type=int)
    data_dir_and_json(listing, remove)


def _jump_errors(work: Any) -> Any:
    def run(session: Session) -> Any:
        try:
            return work(session)
        except jump.JumpError as error:
            raise CliError(str(error)) from None

    return run


def run_group(args: argparse.Namespace) -> None:
    def apply(session: Session) -> dict[str, Any]:
        group = jump.add_group(session, args.name, args.comments, args.member, args.team)
        return {
            "id": group.id,
            "name": group.name,
            "comments": group.comments,
            "members": args.member,
            "teams": args.team,
        }

    record = with_db(args, _jump_errors(apply))
    emit(args, record, f"Created Jump Group {record['name']} (id {record['id']})")


def run_installer(args: argparse.Namespace) -> None:
    certificate = certificate_file(config_of(args).tls_dir)

    def apply(session: Session) -> dict[str, Any]:
        group_id: int | None = None
        personal: int | None = None
        if args.group is not None:
            group = jump.find_group(session, args.group)
            if group is None:
                raise CliError(f"no Jump Group named {args.group!r}")
            group_id = group.id
        else:
            personal = user_named(session, args.personal).id
        if args.site:
            site = jump.site_by_hostname(session, args.site)
            site_id: int | None = site.id
            hostname = args.site.strip().lower()
        else:
            default = load_directory(session).default_site
            site_id, hostname = (default.id or None), default.primary_hostname
        port = int(load_settings(session).get("public_https_port") or 0)
        installer, key = jump.add_installer(
            session,
            mode=JumpMode.JUMPOINT.value if args.jumpoint else JumpMode.JUMP_CLIENT.value,
            group_id=group_id,
            personal_user_id=personal,
            public_site_id=site_id,
            name=args.jumpoint or "",
            comments=args.comments,
            tag=args.tag,
            valid_seconds=args.valid,
            consent_required=not args.no_consent,
        )
        site_url = f"https://{hostname}" + (f":{port}" if port and port != 443 else "")
        command = f"lifeline-client jump install {site_url} --key {key} --dir {INSTALL_DIR} --ca {certificate}"
        return {
            "id": installer.id,
            "key": key,
            "mode": installer.mode,
            "expires_at": installer.expires_at.isoformat(),
            "consent_required": installer.consent_required,
            "command": command,
        }

    record = with_db(args, _jump_errors(apply))
    emit(
        args,
        record,
        f"Installer key (shown only once, valid until {record['expires_at']}):\n{record['key']}\n\n"
        f"Install with:\n{record['command']}",
    )


def run_clients(args: argparse.Namespace) -> None:
    if args.action == "remove":
        removed = with_db(args, lambda session: jump.revoke(session, args.id))
        if not removed:
            raise CliError(f"no Jump Client with the id {args.id}")
        emit(args, {"id": args.id, "removed": True}, f"Removed Jump Client {args.id}")
        return
    records = with_db(args, _list)
    emit(
        args,
        records,
        "\n".join(
            f"{r['id']:>6}  {'online ' if r['online'] else 'offline'}  {r['mode']:<11}  {r['name']}  ({r['group']})"
            for r in records
        ),
    )


def _list(session: Session) -> list[dict[str, Any]]:
    groups: dict[int, str] = {}
    for group_id, name in session.execute(select(JumpGroup.id, JumpGroup.name)):
        groups[group_id] = name
    rows = session.scalars(select(JumpClient).where(JumpClient.revoked_at.is_(None)).order_by(JumpClient.id))
    return [
        {
            "id": c.id,
            "mode": c.mode,
            "name": c.name,
            "hostname": c.hostname,
            "group": groups.get(c.jump_group_id, "") if c.jump_group_id else f"personal:{c.personal_user_id}",
            "comments": c.comments,
            "tag": c.tag,
            "online": c.connected_node is not None,
            "last_seen": c.last_seen_at.isoformat() if c.last_seen_at else None,
            "platform": c.platform,
            "os": c.os,
            "public_ip": c.public_ip,
            "private_ip": c.private_ip,
            "client_version": c.client_version,
            "consent_required": c.consent_required,
        }
        for c in rows
    ]
