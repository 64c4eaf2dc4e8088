"""`lifeline-client jump install|run|uninstall`: the Jump Client's three commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

JUMP_HELP = """\
A Jump Client is this program installed to stay on a computer nobody needs to sit at: it
keeps one light connection to its appliance, and a representative of its Jump Group can
start a session on the computer at any time (what the group allows is allowed at once;
anything else is asked here when someone is at the terminal, else refused)."""

JUMP_EPILOG = """\
commands:
  install URL --key KEY --dir DIR [--ca FILE] [--name NAME] [--service]
        register this computer with an installer key (lifeline jump-installer add
        prints one): makes its own key, writes DIR/jump.json, DIR/key.pem (0600) and
        DIR/appliance.pem (--ca FILE: the only certificate it will trust). --service
        also installs and starts the service (systemd; launchd on macOS; sc.exe on
        Windows); LIFELINE_CLIENT_SERVICE_DIR writes the service file there instead
        (nothing is started)
  run --dir DIR
        the foreground loop the service runs: connects, sends the statistics the admin
        chose, serves Jumps; reconnects after any drop; exits 0 once removed
  uninstall --dir DIR
        tells the appliance (best effort when it cannot be reached) and removes DIR's
        state and the service

examples:
  lifeline-client jump install https://support.example.com --key KEY --dir /var/lib/lifeline-jump --ca appliance.crt --service
  lifeline-client jump run --dir /var/lib/lifeline-jump
  lifeline-client jump uninstall --dir /var/lib/lifeline-jump"""


def add_parser(modes: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    jump = modes.add_parser(
        "jump",
        help="install, run or remove a Jump Client (unattended access)",
        description=JUMP_HELP,
        epilog=JUMP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = jump.add_subparsers(dest="jump_command", metavar="COMMAND", parser_class=parser_class)
    commands.required = True

    install = commands.add_parser("install", help="register this computer as a Jump Client")
    install.add_argument("url", metavar="URL", help="the appliance's site, https://SITE[:PORT]")
    install.add_argument("--key", required=True, help="the installer key")
    install.add_argument("--dir", required=True, type=Path, metavar="DIR", help="the installation's folder")
    install.add_argument(
        "--ca", type=Path, metavar="FILE", help="the appliance's certificate (PEM): the only one trusted"
    )
    install.add_argument("--pin", type=Path, metavar="FILE", help="the same as --ca (what the launchers call it)")
    install.add_argument("--name", default="", help="the name to list this computer under (default: its host name)")
    install.add_argument("--service", action="store_true", help="also install and start it as a service")
    install.add_argument("--verbose", action="store_true", help="say more")

    run = commands.add_parser("run", help="the Jump Client's loop, in the foreground")
    run.add_argument("--dir", required=True, type=Path, metavar="DIR", help="the installation's folder")
    run.add_argument("--quiet", action="store_true", help="only warnings and errors")

    uninstall = commands.add_parser("uninstall", help="remove the Jump Client installed in DIR")
    uninstall.add_argument("--dir", required=True, type=Path, metavar="DIR", help="the installation's folder")
    uninstall.add_argument("--verbose", action="store_true", help="say more")


def main(args: argparse.Namespace) -> str:
    """Run one jump command; its last word (a ClientError says why it failed)."""
    from lifeline_client.errors import ClientError
    from lifeline_client.jump import run, setup

    quiet = getattr(args, "quiet", False)
    verbose = getattr(args, "verbose", False) or (args.jump_command == "run" and not quiet)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="lifeline-client jump: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)  # frames hold tokens
    folder: Path = args.dir.expanduser()
    if args.jump_command == "install":
        if args.ca and args.pin:
            raise ClientError("use --ca or --pin, not both")
        return setup.install(
            args.url, args.key, folder, ca=args.ca, pin=args.pin, name=args.name, as_service=args.service
        )
    if args.jump_command == "uninstall":
        return setup.uninstall(folder)
    return asyncio.run(run.run(folder))
