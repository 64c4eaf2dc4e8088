"""The Lifeline client's socket (`/ws/client`): the program on the customer's computer says
hello with the customer's token, and serves the session's representatives through
`realtime.computers` for as long as it stays. One client socket per session: a newer one
replaces the older (4409), on whichever process each is."""

from __future__ import annotations

import logging
import time

from lifeline_protocol import VERSION, CloseCode, ProtocolError, binary, decode_client_hello, decode_from_client, encode
from lifeline_protocol import client as wire
from lifeline_protocol.common import HELLO_TIMEOUT, Ack, Gone
from starlette.websockets import WebSocket

from lifeline.clients import actions as clients
from lifeline.clients.shells import RecordedShell, take_up
from lifeline.presence.tokens import resume_token_sha256
from lifeline.realtime.computer_events import ClientReplaced
from lifeline.realtime.computer_link import SHELL_LOCK_SECONDS, ClientPeer, Link
from lifeline.realtime.computers import Computers
from lifeline.realtime.follow import appliances
from lifeline.realtime.screens import Screens
from lifeline.realtime.socket import DONE, Done, receive_message, refuse_hello, run_peer
from lifeline.recordings.store import RecordingStore
from lifeline.runtime import Runtime

log = logging.getLogger("lifeline.realtime")

GONE = "This support session is over."
DISCONNECTED = "The customer's Lifeline client disconnected"


class ClientSocket:
    def __init__(self, runtime: Runtime, computers: Computers, screens: Screens) -> None:
        self.runtime = runtime
        self.computers = computers
        self.screens = screens

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            hello = await receive_message(websocket, decode_client_hello, timeout=HELLO_TIMEOUT)
        except Exception:
            await refuse_hello(websocket)
            return
        address = websocket.client.host if websocket.client else ""
        joined = await self.runtime.db.write(
            clients.client_hello, resume_token_sha256(hello.token), hello.computer, address
        )
        if joined is None:
            await websocket.send_text(encode(Gone(error=GONE)).decode())
            await websocket.close(CloseCode.GONE)
            return
        how = "flag" if hello.flag else "asked"
        for capability in dict.fromkeys(hello.allowed):
            if not joined.consent.get(capability):
                await self.runtime.db.write(
                    clients.record_consent, joined.session_id, joined.gsnumber, capability, True, how
                )
        peer = ClientPeer(joined.gsnumber)
        link = Link(self.runtime, peer, joined, hello.computer, set(hello.allowed))
        older = self.computers.links.get(joined.lsid)
        if older is not None:
            self.computers.replace(older)  # lets go of its shells at once
        self.runtime.bus.publish_local(ClientReplaced(joined.lsid, link.id))
        shells = await self._take_up(joined)
        if shells is None:
            await websocket.close(CloseCode.RESTART, "the shells are still held; reconnect")
            return
        link.shells = {shell.shell: shell for shell in shells}
        self.computers.links[joined.lsid] = link
        settings = await self.runtime.settings()
        peer.send(
            wire.Welcome(
                lsid=joined.lsid,
                company=settings["company_name"],
                shells={str(shell.shell): shell.sequence for shell in shells},
                system_info=joined.system_info_wanted,
                server_time=time.time(),
                appliances=appliances(self.runtime),
                version=VERSION,
            )
        )
        link.announce()

        async def handle(message: wire.FromClient) -> Ack | Done | None:
            if isinstance(message, wire.Bye):
                return DONE
            try:
                await self.computers.from_client(link, message)
            except ProtocolError as error:
                log.warning(
                    "session %s: the Lifeline client's %s was refused: %s", link.lsid, type(message).__name__, error
                )
                raise
            return None

        def frame(header: binary.Header, data: bytes) -> None:
            if header.kind is binary.FrameKind.SCREEN:
                self.screens.shares.client_frame(link, header, data)
            else:
                link.frame(header, data)

        try:
            await run_peer(websocket, peer, decode_from_client, handle, frames=frame)
        finally:
            self._let_go(link)

    async def _take_up(self, joined: clients.ClientJoined) -> list[RecordedShell] | None:
        """The session's open shells' recordings, each once the socket before let go of it."""
        store = RecordingStore(self.runtime.config.recordings_dir)
        taken: list[RecordedShell] = []
        for shell in joined.shells:
            recorded = await take_up(store, shell.shell, shell.storage_name, shell.started_at, wait=SHELL_LOCK_SECONDS)
            if recorded is None:
                for done in taken:
                    done.close()
                return None
            taken.append(recorded)
        return taken

    def _let_go(self, link: Link) -> None:
        link.gone = True
        self.screens.shares.link_gone(link)
        if link.worker is not None:
            link.worker.cancel()
        link.release_shells()
        for pending in link.requests.values():
            link.answer(pending.gsnumber, pending.ref, error=DISCONNECTED)
        link.requests.clear()
        if link.replaced:
            return
        if self.computers.links.get(link.lsid) is link:
            del self.computers.links[link.lsid]
        link.announce(connected=False)
