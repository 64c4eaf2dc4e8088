"""`lifeline settings`: the appliance's settings (a secret is shown only as set or not)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lifeline.appliance.settings import SETTINGS, load_settings, set_setting
from lifeline.cli.base import Commands, data_dir_and_json, emit, with_db


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser("settings", help="appliance settings")
    parser.set_defaults(run=run)
    settings = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    set_ = settings.add_parser("set", help="change a setting")
    set_.add_argument("key", choices=sorted(SETTINGS), metavar="KEY")
    set_.add_argument("value", help="the new value; for a password, - reads it from standard input")
    get = settings.add_parser("get", help="show a setting")
    get.add_argument("key", choices=sorted(SETTINGS), metavar="KEY")
    listing = settings.add_parser("list", help="show every setting")
    data_dir_and_json(set_, get, listing)


def run(args: argparse.Namespace) -> None:
    if args.action == "set":
        raw = args.value
        if SETTINGS[args.key].secret and raw == "-":
            raw = sys.stdin.readline().rstrip("\r\n")  # a secret kept off the command line
        value = _shown_setting(args.key, with_db(args, lambda s: set_setting(s, args.key, raw)))
        emit(args, {args.key: value}, f"{args.key} = {_as_written(value)}")
        return
    values = with_db(args, load_settings)
    shown = {key: _shown_setting(key, values[key]) for key in sorted(SETTINGS)}
    if args.action == "get":
        emit(args, {args.key: shown[args.key]}, _as_written(shown[args.key]))
    else:
        emit(args, shown, "\n".join(f"{key} = {_as_written(value)}" for key, value in shown.items()))


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
