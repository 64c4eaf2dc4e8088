"""`lifeline site`: public sites and their host names."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.cli.base import CliError, Commands, data_dir_and_json, emit, with_db
from lifeline.directory import actions as directory
from lifeline.directory.models import PublicSite


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser("site", help="public sites")
    parser.set_defaults(run=run)
    site = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
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
    data_dir_and_json(add, change, listing)


def run(args: argparse.Namespace) -> None:
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

        record = with_db(args, add)
        emit(args, record, f"Public site {record['name']} (id {record['id']}): {', '.join(record['hostnames'])}")
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

        record = with_db(args, change)
        emit(args, record, f"Changed public site {record['name']} (id {record['id']})")
    else:
        records = with_db(
            args, lambda s: [_site_record(x) for x in s.scalars(select(PublicSite).order_by(PublicSite.id))]
        )
        emit(args, records, "\n".join(f"{r['id']:>5}  {r['name']:<24} {', '.join(r['hostnames'])}" for r in records))


def _site_record(site: PublicSite) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "hostnames": [h.hostname for h in sorted(site.hostnames, key=lambda h: (not h.is_primary, h.id))],
        "general_queue_open": site.general_queue_open,
        "show_rep_list": site.show_rep_list,
        "show_reps_in_issue_menu": site.show_reps_in_issue_menu,
    }
