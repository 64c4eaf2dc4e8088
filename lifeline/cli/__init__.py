"""The `lifeline` command: run the appliance and provision it without a browser.

Every subcommand takes --data-dir (or LIFELINE_DATA_DIR), exits non-zero with a one-line
reason on bad input, and prints JSON with --json where a script needs the result.

One module per resource adds its subcommands (`add_commands`) and the function that runs
them (`run`, set as the parser's default); `base` holds what they share.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from lifeline.appliance.settings import SettingError
from lifeline.bootstrap import NoAppliance
from lifeline.cli import api_accounts, attributes, backup, failover, jump, serve, settings, sites, surveys, teams, users
from lifeline.cli.base import CliError, Parser, fail
from lifeline.config import ConfigError
from lifeline.directory import actions as directory
from lifeline.surveys.actions import SurveyError

# In the order `lifeline --help` lists them.
RESOURCES = (serve, users, api_accounts, teams, sites, attributes, surveys, settings, backup, failover, jump)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lifeline", description="Lifeline remote support appliance")
    commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    for resource in RESOURCES:
        resource.add_commands(commands)
    return parser


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
        args.run(args)
        sys.stdout.flush()  # a reader that went away shows here, not at the interpreter's exit
    except (CliError, directory.DirectoryError, SettingError, ConfigError, SurveyError, NoAppliance) as error:
        fail(str(error))
    except BrokenPipeError:
        _reader_went_away()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except OSError as error:
        fail(_file_problem(error))
    except SQLAlchemyError as error:
        fail(_database_problem(error))
    except Exception as error:
        # Its text may hold what the command was given (a password): the kind only.
        fail(f"unexpected {type(error).__name__} (a bug: please report it with the command that caused it)")


if __name__ == "__main__":
    main()
