"""`lifeline custom-attribute`: the session.custom.* attributes sessions may carry."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.cli.base import CliError, Commands, data_dir_and_json, emit, with_db
from lifeline.directory import actions as directory
from lifeline.directory.models import CustomAttribute


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser("custom-attribute", help="session.custom.* attributes")
    parser.set_defaults(run=run)
    attribute = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = attribute.add_parser("add", help="define a custom session attribute")
    add.add_argument("code_name")
    add.add_argument("display_name")
    change = attribute.add_parser("set", help="change a custom attribute's display name")
    change.add_argument("code_name")
    change.add_argument("display_name")
    remove = attribute.add_parser("remove", help="stop accepting a custom attribute (sessions keep their values)")
    remove.add_argument("code_name")
    listing = attribute.add_parser("list", help="list custom attributes")
    data_dir_and_json(add, change, remove, listing)


def run(args: argparse.Namespace) -> None:
    def record(attribute: CustomAttribute) -> dict[str, Any]:
        return {"id": attribute.id, "code_name": attribute.code_name, "display_name": attribute.display_name}

    def find(session: Session) -> CustomAttribute:
        found = session.scalars(select(CustomAttribute).where(CustomAttribute.code_name == args.code_name)).first()
        if found is None:
            raise CliError(f"no custom attribute {args.code_name!r}")
        return found

    if args.action == "add":
        added = with_db(args, lambda s: record(directory.add_custom_attribute(s, args.code_name, args.display_name)))
        emit(args, added, f"Defined session.custom.{added['code_name']} ({added['display_name']})")
    elif args.action == "set":
        changed = with_db(args, lambda s: record(directory.update_custom_attribute(s, find(s), args.display_name)))
        emit(args, changed, f"Renamed session.custom.{changed['code_name']} ({changed['display_name']})")
    elif args.action == "remove":
        with_db(args, lambda s: directory.remove_custom_attribute(s, find(s)))
        emit(args, {"code_name": args.code_name}, f"Removed session.custom.{args.code_name}")
    else:
        listed = with_db(
            args, lambda s: [record(a) for a in s.scalars(select(CustomAttribute).order_by(CustomAttribute.id))]
        )
        emit(args, listed, "\n".join(f"{a['code_name']:<24} {a['display_name']}" for a in listed))
