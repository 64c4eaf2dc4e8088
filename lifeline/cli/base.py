"""What every `lifeline` subcommand shares: its failures, its common options, opening the
appliance's database around one unit of work, and printing a result as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

from sqlalchemy.orm import Session

from lifeline.bootstrap import ensure_appliance, open_appliance
from lifeline.config import Config
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.models import User

# What each resource's module adds its subcommands to.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CliError(Exception):
    """Printed as one line, exit status 1."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and status 1 like every other failure."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)")


def fail(message: str) -> NoReturn:
    print(f"lifeline: error: {message}", file=sys.stderr)
    raise SystemExit(1)


# --- options -----------------------------------------------------------------------------


def data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help="data directory (default: $LIFELINE_DATA_DIR or ~/.local/share/lifeline)"
    )


def json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def data_dir_and_json(*parsers: argparse.ArgumentParser) -> None:
    for parser in parsers:
        data_dir_option(parser)
        json_option(parser)


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number")
    return value


# --- the work ----------------------------------------------------------------------------


def config_of(args: argparse.Namespace) -> Config:
    return Config.from_env(args.data_dir)


def with_db(args: argparse.Namespace, work: Callable[[Session], Any]) -> Any:
    db: Database = open_appliance(config_of(args))
    try:
        first = db.call(ensure_appliance, None)
        if first.admin_password:
            print(f"Created the admin account: admin / {first.admin_password} (shown only once)", file=sys.stderr)
        return db.call(work)
    finally:
        db.close()


def user_named(session: Session, username: str) -> User:
    user = directory.find_user(session, username)
    if user is None:
        raise CliError(f"no user named {username!r}")
    return user


def emit(args: argparse.Namespace, record: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(record, indent=2, sort_keys=True, default=str))
    else:
        print(text)
