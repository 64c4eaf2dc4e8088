"""The console's Jump requests: the Jump list, jumping to a Jump Client, a Shell Jump or a
local push through a Jumpoint, and removing one.

A Jump starts the session here, then tells the Jump Client (through whichever process holds
its socket: `JumpCommand` on the bus) and waits for its `started` (`JumpAnswered`). The
wait runs beside the socket's reading, so the console keeps working meanwhile; the ack
comes when the client answers, or after JUMP_ANSWER_SECONDS with the session ended.
Passwords and private keys go to the Jumpoint in that one message and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from lifeline_protocol import console as wire
from lifeline_protocol import encode
from lifeline_protocol.common import Ack
from lifeline_protocol.computer import CAPABILITIES
from lifeline_protocol.jump import PushClient, ShellJump, StartSession
from sqlalchemy.orm import Session

from lifeline.appliance.urls import public_base_url
from lifeline.bus.base import Bus
from lifeline.clientscript import PushAndStartLocal, StartPinnedClientSession
from lifeline.directory.models import User
from lifeline.directory.queries import console_sign_in_in_force
from lifeline.http.auth import SignedIn
from lifeline.jump import actions as jump_actions
from lifeline.jump import queries
from lifeline.jump import sessions as jump_sessions
from lifeline.jump.live import JumpAnswered, JumpCommand
from lifeline.jump.models import JumpClient
from lifeline.presence.models import ClientConnection
from lifeline.realtime.hub import ConsolePeer
from lifeline.realtime.socket import ProtocolError, ack
from lifeline.runtime import Runtime
from lifeline.sessions import actions as engine
from lifeline.sessions.queues import QueueError

log = logging.getLogger("lifeline.jump")

JUMP_ANSWER_SECONDS = 15.0  # how long a Jump waits for the Jump Client's `started`
NOT_YOURS = "You may not jump to that computer."
NOT_YOUR_JUMPOINT = "You may not use that Jumpoint."
SIGNED_OUT = "your sign-in has ended; sign in again"
HOST = re.compile(r"[A-Za-z0-9._:\-\[\]%]{1,255}")  # lifeline_protocol.jump.Host


def offline_text(client: JumpClient) -> str:
    name = jump_sessions.computer_name(client)
    seen = client.last_seen_at
    when = f"last seen {seen:%Y-%m-%d %H:%M} UTC" if seen else "never connected"
    return f"{name} is offline ({when})."


@dataclass(frozen=True)
class Begun:
    """A Jump session started, its client not yet told."""

    lsid: str
    gsnumber: int
    token: str
    jump_client_id: int
    name: str  # the computer (or target host), for the words of a failure
    consent_required: bool
    public_site_id: int


class AnswerWaiter:
    """Waits on the bus for the `started` of one command (by its request id)."""

    def __init__(self, bus: Bus, request: str) -> None:
        self.request = request
        self.answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._unsubscribe: Callable[[], None] = bus.subscribe(self._heard)

    def _heard(self, event: Any) -> None:
        if isinstance(event, JumpAnswered) and event.request == self.request and not self.answer.done():
            self.answer.set_result(event.error)

    async def wait(self, timeout: float) -> str | None:
        """The client's error ("" when started), or None if it did not answer in time."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.answer), timeout)
        except TimeoutError:
            return None
        finally:
            self._unsubscribe()


class JumpConsole:
    """One console socket's Jump requests."""

    def __init__(self, runtime: Runtime, peer: ConsolePeer, signed_in: SignedIn) -> None:
        self.runtime = runtime
        self.peer = peer
        self.signed_in = signed_in
        self._waits: set[asyncio.Task[None]] = set()

    def _check_signed_in(self, session: Session) -> None:
        if not console_sign_in_in_force(session, self.signed_in.sign_in_id):
            raise ProtocolError(SIGNED_OUT)

    async def jump_list(self, request: wire.JumpListRequest) -> Ack:
        user_id = self.signed_in.user_id
        found = await self.runtime.db.read(queries.search, user_id, request)
        return ack(request, msgspec.to_builtins(found))

    # --- starting -------------------------------------------------------------------------

    def _begin(
        self,
        session: Session,
        jump_client_id: int,
        *,
        jumpoint: bool,
        external_key: str,
        target_host: str = "",
        start_method: str = "",
    ) -> Begun:
        """Check this rep may use it and it is online, then start its session (one transaction)."""
        self._check_signed_in(session)
        user = session.get(User, self.signed_in.user_id)
        connection = session.get(ClientConnection, self.peer.gsnumber)
        if user is None or connection is None or connection.disconnected_at is not None:
            raise ProtocolError("your console connection has ended; sign in again")
        client = queries.may_use(session, user.id, jump_client_id)
        if client is None or jump_sessions.is_jumpoint(client) != jumpoint:
            raise ProtocolError(NOT_YOUR_JUMPOINT if jumpoint else NOT_YOURS)
        if client.connected_node is None:
            raise ProtocolError(offline_text(client))
        try:
            started = jump_sessions.start_jump_session(
                session,
                jump_client=client,
                user=user,
                rep_connection=connection,
                node_id=self.runtime.node_id,
                external_key=external_key,
                jumpoint=client if jumpoint else None,
                target_host=target_host,
                start_method=start_method,
            )
        except (engine.SessionError, QueueError) as error:
            raise ProtocolError(str(error)) from None
        return Begun(
            lsid=started.lsid,
            gsnumber=started.gsnumber,
            token=started.token,
            jump_client_id=client.id,
            name=target_host or jump_sessions.computer_name(client),
            consent_required=client.consent_required,
            public_site_id=client.public_site_id or 1,
        )

    def _allowed(self, begun: Begun) -> list[Any]:
        return [] if begun.consent_required else list(CAPABILITIES)

    def _tell(self, request: Any, begun: Begun, message: Any) -> None:
        """Send the command to the Jump Client and answer the console once it answers."""
        waiter = AnswerWaiter(self.runtime.bus, message.request)
        self.runtime.bus.publish_local(JumpCommand(begun.jump_client_id, encode(message).decode()))
        task = asyncio.create_task(self._answer(request, begun, waiter))
        self._waits.add(task)
        task.add_done_callback(self._waits.discard)

    async def _answer(self, request: Any, begun: Begun, waiter: AnswerWaiter) -> None:
        error = await waiter.wait(JUMP_ANSWER_SECONDS)
        if error == "":
            self.peer.send(ack(request, {"lsid": begun.lsid}))
            return
        if error is None:
            reason = f"{begun.name} did not answer within {JUMP_ANSWER_SECONDS:.0f} seconds."
        else:
            reason = f"{begun.name} could not start the session: {error}"
        try:
            await self.runtime.db.write(jump_sessions.abandon, begun.lsid, begun.gsnumber, reason[:1000])
        except Exception:  # the refusal still reaches the console
            log.exception("ending the Jump session %s failed", begun.lsid)
        self.peer.send(Ack.failed(request.ref, reason))

    async def jump(self, request: wire.JumpStart) -> None:
        begun = await self.runtime.db.write(
            self._begin, request.jump_client, jumpoint=False, external_key=request.external_key
        )
        message = StartSession(
            request=uuid.uuid4().hex,
            lsid=begun.lsid,
            token=begun.token,
            allowed=self._allowed(begun),
            rep=self.signed_in.display_name,
        )
        self._tell(request, begun, message)

    @staticmethod
    def _check_target(request: wire.ShellJumpStart | wire.PushStart) -> None:
        if not HOST.fullmatch(request.host):
            raise ProtocolError("That is not a host name or IP address.")
        if not request.password and not request.private_key:
            raise ProtocolError("Give a password or a private key for the SSH login.")

    async def shell_jump(self, request: wire.ShellJumpStart) -> None:
        self._check_target(request)
        begun = await self.runtime.db.write(
            self._begin, request.jumpoint, jumpoint=True, external_key=request.external_key, target_host=request.host
        )
        message = ShellJump(
            request=uuid.uuid4().hex,
            lsid=begun.lsid,
            token=begun.token,
            host=request.host,
            port=request.port,
            username=request.username,
            password=request.password,
            private_key=request.private_key,
            rep=self.signed_in.display_name,
        )
        self._tell(request, begun, message)

    async def push_start(self, request: wire.PushStart) -> None:
        self._check_target(request)
        begun = await self.runtime.db.write(
            self._begin,
            request.jumpoint,
            jumpoint=True,
            external_key=request.external_key,
            target_host=request.host,
            start_method=jump_sessions.LOCAL_PUSH,
        )
        settings = await self.runtime.settings()
        directory = await self.runtime.directory()
        site = next((s for s in directory.sites if s.id == begun.public_site_id), directory.default_site)
        site_url = public_base_url(site.primary_hostname, self.runtime.https_port_for_urls(settings))
        message = PushClient(
            request=uuid.uuid4().hex,
            lsid=begun.lsid,
            chat_url=f"{site_url}/chat/{begun.token}",
            host=request.host,
            port=request.port,
            username=request.username,
            password=request.password,
            private_key=request.private_key,
            allowed=self._allowed(begun),
            rep=self.signed_in.display_name,
        )
        self._tell(request, begun, message)

    # --- removing -------------------------------------------------------------------------

    async def jump_remove(self, request: wire.JumpRemove) -> Ack:
        jump_client_id, user_id = request.jump_client, self.signed_in.user_id

        def remove(session: Session) -> None:
            self._check_signed_in(session)
            user = session.get(User, user_id)
            client = queries.may_use(session, user_id, jump_client_id)
            if client is None and user is not None and user.perm_admin:
                client = session.get(JumpClient, jump_client_id)
                client = client if client is not None and client.revoked_at is None else None
            if client is None or user is None:
                raise ProtocolError("You may not remove that Jump Client.")
            jump_actions.revoke(session, client.id, user.id)  # JumpRevoked goes out on commit

        await self.runtime.db.write(remove)
        return ack(request)

    # --- client scripts -------------------------------------------------------------------

    def script_commands(self, session: Session, commands: list[Any]) -> dict[int, dict[str, Any]]:
        """What the console does with a script's Jump commands, by their place in the script."""
        user_id = self.signed_in.user_id
        done: dict[int, dict[str, Any]] = {}
        for place, command in enumerate(commands):
            if isinstance(command, StartPinnedClientSession):
                done[place] = pinned_client_command(session, user_id, command)
            elif isinstance(command, PushAndStartLocal):
                done[place] = push_command(session, user_id, command)
        return done


def _items(found: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = msgspec.to_builtins(found)
    return items


def pinned_client_command(session: Session, user_id: int, command: StartPinnedClientSession) -> dict[str, Any]:
    wanted = command.search()
    found = queries.matching_items(session, user_id, wanted)
    said = ", ".join(f"{name} {value!r}" for name, value in wanted.items())
    if not found.items:
        explanation = f"No Jump Client you may use matches {said}."
    elif len(found.items) == 1:
        explanation = f"Jumping to {found.items[0].name}."
    else:
        explanation = f"{found.total} Jump Clients match {said}: choose one."
    return {
        "action": "start_pinned_client_session",
        "title": "Start a session with a Jump Client",
        "explanation": explanation,
        "search": wanted,
        "external_key": command.external_key or "",
        "jump_clients": _items(found.items),
        "total": found.total,
    }


def push_command(session: Session, user_id: int, command: PushAndStartLocal) -> dict[str, Any]:
    jumpoints = queries.online_jumpoints(session, user_id)
    if jumpoints:
        explanation = (
            f"Choose the Jumpoint on {command.hostname}'s network, and give an SSH login with "
            "administrator rights on that computer."
        )
    else:
        explanation = (
            f"Pushing the customer client to {command.hostname} needs a Jumpoint on that computer's "
            "network, and none you may use is online. Start the session another way: generate a session "
            "key and give it to the person at that computer."
        )
    return {
        "action": "push_and_start_local",
        "title": f"Push and start a session on {command.hostname}",
        "explanation": explanation,
        "hostname": command.hostname,
        "external_key": command.external_key or "",
        "jumpoints": _items(jumpoints),
    }
