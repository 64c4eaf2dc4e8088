"""`lifeline serve` and `lifeline init`: run the appliance, or make its data directory and first admin."""

from __future__ import annotations

import argparse

from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.cli.base import Commands, config_of, data_dir_option, port_number


def add_commands(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the appliance (creates everything on first start)")
    serve.set_defaults(run=run_serve)
    data_dir_option(serve)
    serve.add_argument("--hostname", help="public site hostname (default: the one set before, else localhost)")
    serve.add_argument("--https-port", type=port_number, default=8443, help="HTTPS port (default 8443)")
    serve.add_argument("--http-port", type=port_number, default=8080, help="HTTP port, 0 for none (default 8080)")
    serve.add_argument("--bind", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--access-log", action="store_true", help="log every request")

    init = commands.add_parser("init", help="create the data directory, database and admin account, then exit")
    init.set_defaults(run=run_init)
    data_dir_option(init)
    init.add_argument("--hostname")


def run_serve(args: argparse.Namespace) -> None:
    from lifeline.server import ServeOptions, serve

    serve(
        config_of(args),
        ServeOptions(
            hostname=args.hostname,
            https_port=args.https_port,
            http_port=args.http_port,
            bind=args.bind,
            access_log=args.access_log,
        ),
    )


def run_init(args: argparse.Namespace) -> None:
    db = open_database(config_of(args))
    try:
        first = db.call(ensure_appliance, args.hostname)
    finally:
        db.close()
    if first.admin_password:
        print(f"Created the admin account: admin / {first.admin_password} (shown only once)")
    print(f"The appliance's data is in {config_of(args).data_dir}")
