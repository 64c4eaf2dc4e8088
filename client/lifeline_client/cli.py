"""`lifeline-client`: join a support session from a session key, a representative's link,
the issue form, or a chat URL (the launchers' way), then serve it until it ends."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path
from typing import NoReturn

from lifeline_protocol.computer import Capability

from lifeline_client import __version__
from lifeline_client.consent import parse_capabilities
from lifeline_client.errors import ClientError
from lifeline_client.start import (
    Target,
    issue_params,
    key_params,
    parse_chat_url,
    parse_site,
    rep_params,
    start_session,
)
from lifeline_client.tls import trust

DESCRIPTION = """\
The Lifeline client: lets the representatives of a support session see this computer's
system information, use a command shell and its files, see your screen and control your
mouse and keyboard, each only once you allow it.
You stay in charge: every capability is asked for (here, or in the browser chat page),
can be taken back (/revoke shell), and the session ends when you say so (/end, /quit)."""

EPILOG = """\
modes:
  connect URL KEY               join with the session key a representative gave you
  rep URL REP                   start a session with a representative (id or name)
  issue URL --issue ID          start a session through the site's issue form
  attach CHAT_URL               join the session of https://HOST/chat/TOKEN (launchers)
  jump install|run|uninstall    a Jump Client: installed to stay, for unattended access
                                (lifeline-client jump --help)

options of every mode (after the mode's arguments):
  --ca FILE        also trust this certificate (PEM), e.g. a self-signed appliance's own
  --pin FILE       trust only the certificate(s) in FILE (what the launchers pass)
  --allow CAPS     allow without asking: system_info, shell, files, screen, control
                   (comma list) or all
  --no-browser     chat in this terminal instead of opening the browser chat page
  --no-chat        the chat page is open in a browser already (launchers): no chat here
  --verbose        say more about connections and requests

in the terminal: answer a representative's question with y or n; type to chat (with
--no-browser); /revoke CAPABILITY takes one back, /end ends the session, /quit leaves.

trust: the system's certificate authorities plus --ca FILE; with --pin FILE only the
certificate(s) in FILE. Host names are always checked.

examples:
  lifeline-client connect https://support.example.com 1234567
  lifeline-client rep https://support.example.com 5 --name "Pat Smith"
  lifeline-client issue https://support.example.com --issue 2 --details "printer jams"
  lifeline-client attach https://support.example.com/chat/TOKEN --pin appliance.crt --allow all
  lifeline-client jump install https://support.example.com --key KEY --dir /var/lib/lifeline-jump --ca appliance.crt --service"""


class Parser(argparse.ArgumentParser):
    """Errors on one line and exit status 1, like every other error of the program."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    print(f"lifeline-client: {message}", file=sys.stderr)
    sys.exit(1)


def parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument(
        "--ca", type=Path, metavar="FILE", help="also trust this certificate (PEM): a self-signed appliance's own"
    )
    common.add_argument("--pin", type=Path, metavar="FILE", help="trust only the certificate(s) in FILE (PEM)")
    common.add_argument(
        "--allow",
        metavar="CAPS",
        default="",
        help="allow at start, without asking: a comma list of system_info, shell, files, screen, control, or all",
    )
    common.add_argument("--no-browser", action="store_true", help="chat here in the terminal; open no browser")
    common.add_argument(
        "--no-chat",
        action="store_true",
        help="the chat page is already open in a browser (the launchers open it): neither open it nor chat here",
    )
    common.add_argument("--verbose", action="store_true", help="say more about connections and requests")

    top = Parser(
        prog="lifeline-client",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"lifeline-client {__version__}")
    modes = top.add_subparsers(dest="mode", metavar="MODE", parser_class=Parser)
    modes.required = True

    connect = modes.add_parser("connect", parents=[common], help="join with a session key")
    connect.add_argument("url", metavar="URL", help="the support site, https://SITE")
    connect.add_argument("key", metavar="KEY", help="the session key")

    rep = modes.add_parser("rep", parents=[common], help="start a session with a representative (rep link)")
    rep.add_argument("url", metavar="URL", help="the support site, https://SITE")
    rep.add_argument("rep", metavar="REP_ID_OR_NAME", help="the representative's id or name")
    rep.add_argument("--name", default="", help="your name (default: your user name)")

    issue = modes.add_parser("issue", parents=[common], help="start a session through the issue form")
    issue.add_argument("url", metavar="URL", help="the support site, https://SITE")
    issue.add_argument("--issue", required=True, metavar="ID", help="the issue's id (0: the general queue)")
    issue.add_argument("--name", default="", help="your name (default: your user name)")
    issue.add_argument("--details", default="", help="what the problem is")

    attach = modes.add_parser("attach", parents=[common], help="join https://HOST/chat/TOKEN (launchers)")
    attach.add_argument("chat_url", metavar="CHAT_URL", help="the session's chat address")

    from lifeline_client.jump.cli import add_parser

    add_parser(modes, Parser)
    return top


def _name(given: str) -> str:
    if given.strip():
        return given.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "Customer"


async def _target(args: argparse.Namespace, context: object) -> Target:
    import ssl

    assert isinstance(context, ssl.SSLContext)
    if args.mode == "attach":
        return parse_chat_url(args.chat_url)
    site = parse_site(args.url)
    if args.mode == "connect":
        return await start_session(site, key_params(args.key), context)
    if args.mode == "rep":
        return await start_session(site, await rep_params(site, args.rep, _name(args.name), context), context)
    return await start_session(site, issue_params(args.issue, _name(args.name), args.details), context)


async def _main(args: argparse.Namespace, allowed: set[Capability]) -> str:
    from lifeline_client.app import run

    context = trust(ca=args.ca, pin=args.pin)
    target = await _target(args, context)
    chat = "none" if args.no_chat else "terminal" if args.no_browser else "browser"
    return await run(target, context, allowed, flag=bool(allowed), chat=chat)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.mode == "jump":
        _jump(args)
        return
    if args.ca and args.pin:
        fail("use --ca or --pin, not both")
    if args.no_chat and args.no_browser:
        fail("use --no-browser (chat here) or --no-chat (chat in the open browser page), not both")
    try:
        allowed = parse_capabilities(args.allow)
    except ValueError as error:
        fail(f"--allow: {error}")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="lifeline-client: %(message)s",
        stream=sys.stderr,
    )
    # websockets' debug lines would show frames, the hello's token among them.
    logging.getLogger("websockets").setLevel(logging.WARNING)
    try:
        word = asyncio.run(_main(args, allowed))
    except ClientError as error:
        fail(str(error))
    except KeyboardInterrupt:
        word = "Closed."
    print(word, flush=True)


def _jump(args: argparse.Namespace) -> None:
    from lifeline_client.jump.cli import main as jump_main

    try:
        word = jump_main(args)
    except ClientError as error:
        fail(str(error))
    except KeyboardInterrupt:
        word = "Stopped."
    print(word, flush=True)


if __name__ == "__main__":
    main()
