"""One Jumpoint handler in its own process, as `lifeline-client jump run` runs it on a
message from the appliance (until the jump run's dispatch is merged in): argv is the site,
the pinned certificate, the Jumpoint's folder; stdin one `shell_jump` or `push_client`
message as JSON. Prints the `started` answer as JSON, then serves until the session ends."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import msgspec
from lifeline_client.jumpoint.push import push_client
from lifeline_client.jumpoint.shell_jump import shell_jump
from lifeline_client.start import parse_site
from lifeline_client.tls import trust
from lifeline_protocol.jump import PushClient, ShellJump, Started


def say(started: Started) -> None:
    print(msgspec.json.encode(started).decode(), flush=True)


async def main() -> None:
    site, pin, folder = parse_site(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    context = trust(pin=pin)
    message = msgspec.json.decode(sys.stdin.readline(), type=ShellJump | PushClient)
    if isinstance(message, ShellJump):
        print(await shell_jump(message, site, context, folder, say), flush=True)
    else:
        say(Started(request=message.request, error=await push_client(message, site, context, folder)))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="jumpoint: %(message)s")
    asyncio.run(main())
