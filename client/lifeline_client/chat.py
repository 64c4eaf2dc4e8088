"""The customer's chat in the terminal (`--no-browser`, or no browser to open): the
customer protocol on `/ws/customer`, the second socket, which holds the customer's place
in the session. It prints chat and events, sends typed lines, `/end` ends the session."""

from __future__ import annotations

import asyncio
import datetime
import logging
import ssl
from collections.abc import Callable

from lifeline_protocol import VERSION, ProtocolError, decode_to_customer, encode
from lifeline_protocol import customer as wire
from lifeline_protocol.close import CloseCode
from lifeline_protocol.common import HELLO_TIMEOUT, MAX_CHAT, Ack, Event, EventRecord, Gone
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from lifeline_client.reconnect import Backoff, received_close
from lifeline_client.start import Target

log = logging.getLogger(__name__)

OPEN_TIMEOUT = 20.0
MAX_WELCOME = 16 * 1024 * 1024  # a welcome carries the chat so far; the appliance is pinned


class Chat:
    def __init__(self, target: Target, context: ssl.SSLContext, say: Callable[[str], None]) -> None:
        self.target = target
        self.context = context
        self._say = say
        self._ws: ClientConnection | None = None
        self._last_event: int | None = None
        self._refs = 0
        self._stopping = False

    @property
    def url(self) -> str:
        return f"wss://{self.target.site.host}:{self.target.site.port}/ws/customer"

    async def run(self) -> str:
        """Stay in the session (reconnecting) until it is over; returns why it ended."""
        backoff = Backoff()
        while not self._stopping:
            try:
                async with connect(
                    self.url,
                    ssl=self.context,
                    server_hostname=self.target.site.server_hostname,
                    open_timeout=OPEN_TIMEOUT,
                    max_size=MAX_WELCOME,
                    user_agent_header="lifeline-client",
                ) as ws:
                    self._ws = ws
                    hello = wire.Hello(token=self.target.token, last_event_id=self._last_event, version=VERSION)
                    await ws.send(encode(hello).decode())
                    first = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT)
                    if self._show(first) is False:
                        return "The support session is over."
                    backoff.reset()
                    async for raw in ws:
                        if self._show(raw) is False:
                            return "The support session is over."
                    if received_close(ws)[0] in (CloseCode.GONE, CloseCode.REPLACED):
                        return "The support session is over."
            except ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code in (CloseCode.GONE, CloseCode.REPLACED):
                    return "The support session is over."
            except (OSError, InvalidHandshake, TimeoutError) as error:
                log.info("chat connection lost: %s", error or type(error).__name__)
            finally:
                self._ws = None
            await asyncio.sleep(backoff.next())
        return "Closed."

    def _show(self, raw: str | bytes) -> bool | None:
        """Print what the appliance said; False when the session is over."""
        try:
            message = decode_to_customer(raw)
        except ProtocolError as error:
            log.error("refused a chat message from the appliance: %s", error)
            return None
        match message:
            case wire.Welcome(company=company, history=history, session=session):
                if self._last_event is None:
                    self._say(f"Chat with {company or 'support'} (type /help for commands).")
                for event in history:
                    self._event(event)
                if session.status == "ended":
                    return False
            case Event(event=event):
                self._event(event)
                if event.type == "Session End":
                    return False
            case Gone(error=why):
                self._say(why or "The support session is over.")
                return False
            case wire.Position(position=position):
                self._say(f"You are number {position} in the queue.")
            case wire.Duty(on_duty=on_duty):
                if not on_duty:
                    self._say("Nobody is on duty right now.")
            case Ack(ok=False, error=why):
                self._say(f"(not sent: {why})")
        return None

    def _event(self, event: EventRecord) -> None:
        self._last_event = max(self._last_event or 0, event.id)
        at = datetime.datetime.fromtimestamp(event.at).strftime("%H:%M")
        who = event.performed_by.name if event.performed_by and event.performed_by.name else ""
        if event.type == "Chat Message" and event.body is not None:
            self._say(f"[{at}] {who or 'You'}: {event.body}")
        elif event.filename:
            self._say(f"[{at}] {event.type}: {event.filename}")
        else:
            self._say(f"[{at}] {event.type}{f' ({who})' if who else ''}")

    async def send_line(self, line: str) -> None:
        if len(line) > MAX_CHAT:
            self._say(f"(not sent: at most {MAX_CHAT} characters)")
            return
        self._refs += 1
        await self._send(wire.Chat(body=line, ref=f"t{self._refs}"))

    async def end(self) -> None:
        await self._send(wire.End(ref="end"))

    async def leave(self) -> None:
        self._stopping = True
        await self._send(wire.Bye())
        if self._ws is not None:
            await self._ws.close()

    async def _send(self, message: wire.Chat | wire.End | wire.Bye) -> None:
        if self._ws is None:
            self._say("(not connected; try again in a moment)")
            return
        try:
            await self._ws.send(encode(message).decode())
        except ConnectionClosed:
            self._say("(not connected; try again in a moment)")
