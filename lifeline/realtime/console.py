"""The representative console's socket: log in (or resume), then work sessions.

The protocol is in docs/realtime.md. Every request carries a `ref` the answer repeats; a
request resent after a reconnect under the same `ref` is not done twice.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from lifeline_protocol import VERSION, CloseCode, decode_console_hello, decode_console_request, encode
from lifeline_protocol import console as wire
from lifeline_protocol.common import HELLO_TIMEOUT, Ack, Gone, answer_values, event_records
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket

from lifeline.appliance.invitations import invitation
from lifeline.appliance.urls import public_base_url
from lifeline.clientscript import GenerateSessionKey, ScriptError, parse_script
from lifeline.directory.models import User
from lifeline.directory.queries import console_sign_in_in_force
from lifeline.http.auth import SignedIn, WebAuth
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientInfo
from lifeline.presence.queries import live_rep_connection
from lifeline.realtime.computers import COMPUTER_REQUESTS, Computers
from lifeline.realtime.follow import appliances
from lifeline.realtime.hub import ConsolePeer, Hub
from lifeline.realtime.jump_console import JumpConsole
from lifeline.realtime.presenter_screen import PresenterScreens
from lifeline.realtime.screens import SCREEN_REQUESTS, Screens
from lifeline.realtime.socket import (
    DONE,
    Done,
    ProtocolError,
    TypingThrottle,
    ack,
    receive_message,
    refuse_hello,
    run_peer,
    same_origin,
)
from lifeline.runtime import Runtime
from lifeline.sessions import actions as engine
from lifeline.sessions import activity, connections, presenting
from lifeline.sessions.attach import RESUME_REFUSED, Attached, attach_console
from lifeline.sessions.keys import IssuedKey, KeyRequest, SessionKeyError, generate_session_key, key_site
from lifeline.sessions.live import SomeoneTyping
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queries import session_by_lsid
from lifeline.sessions.queues import QueueError, rep_queue, resolve_queue
from lifeline.surveys import actions as surveys

SIGNED_OUT = "your sign-in has ended; sign in again"


def _attach_with_survey(session: Session, **how: Any) -> tuple[Attached | str, list[dict[str, Any]]]:
    """Log in or resume, and the representative exit survey the console shows, in one transaction."""
    return attach_console(session, **how), surveys.survey_form(session, surveys.SurveyKind.REPRESENTATIVE)


class ConsoleSocket:
    def __init__(
        self,
        runtime: Runtime,
        hub: Hub,
        auth: WebAuth,
        computers: Computers,
        screens: Screens,
        presenter: PresenterScreens,
    ) -> None:
        self.runtime = runtime
        self.hub = hub
        self.auth = auth
        self.computers = computers
        self.screens = screens
        self.presenter = presenter

    async def serve(self, websocket: WebSocket) -> None:
        if not same_origin(websocket):
            await websocket.close()  # refused at the handshake: another site's page
            return
        signed_in = await self.auth.signed_in(websocket)
        await websocket.accept()
        if signed_in is None or not signed_in.support or signed_in.password_change_due:
            await websocket.close(CloseCode.UNAUTHORIZED)  # the console goes to its sign-in page
            return
        try:
            hello = await receive_message(websocket, decode_console_hello, timeout=HELLO_TIMEOUT)
        except Exception:
            await refuse_hello(websocket)
            return
        resume_token = hello.resume_token or None
        last_event_ids = {lsid[:32]: last for lsid, last in list(hello.last_event_ids.items())[:500]}
        client = ClientInfo(
            hostname=hello.hostname[:255] or "browser",
            platform="web",
            os=websocket.headers.get("user-agent", "")[:255],
            public_ip=websocket.client.host if websocket.client else "",
            timezone_offset=hello.timezone_offset,
        )
        peer = ConsolePeer(0, signed_in.user_id, signed_in.sign_in_id)
        self.hub.add_console(peer)
        attached, survey = await self.runtime.db.write(
            _attach_with_survey,
            user_id=signed_in.user_id,
            node_id=self.runtime.node_id,
            resume_token=resume_token,
            last_event_ids=last_event_ids,
            client=client,
        )
        if isinstance(attached, str):
            self.hub.remove(peer, detached=False)
            refusal = Gone(error=attached) if attached == RESUME_REFUSED else wire.Refused(error=attached)
            await websocket.send_text(encode(refusal).decode())
            await websocket.close(CloseCode.GONE)
            return
        peer.gsnumber = attached.gsnumber
        peer.queues = attached.may_take
        # Read before the peer follows its sessions: from end_attach to the welcome nothing may
        # wait, or a shell frame or computer push for a session could go out before the welcome.
        reps = await self.runtime.logged_in_reps()
        self.hub.end_attach(peer, attached.history)
        waiting = self.hub.waiting.visible_to(peer)
        sessions = {s["lsid"]: s for s in waiting} | {s["lsid"]: s for s in attached.sessions}
        peer.known = set(sessions)
        for lsid, events in attached.history.items():
            peer.last_event_id[lsid] = max([e["id"] for e in events], default=last_event_ids.get(lsid, 0))
        peer.send(
            wire.Welcome(
                gsnumber=attached.gsnumber,
                resume_token=attached.resume_token,
                resumed=bool(resume_token),
                user=wire.User(id=signed_in.user_id, username=signed_in.username, display_name=signed_in.display_name),
                showing=attached.showing,
                queues=attached.queues,
                sessions=list(sessions.values()),
                history={lsid: event_records(events) for lsid, events in attached.history.items()},
                teams=attached.teams,
                reps=[wire.Rep(id=r.id, name=r.display_name, sessions=r.support_session_count) for r in reps],
                survey=survey,
                server_time=time.time(),
                appliances=appliances(self.runtime),
                version=VERSION,
            )
        )
        peer.release()
        self.hub.console_ready(peer)
        self.hub.followed(peer, attached.history)
        actions = ConsoleActions(self.runtime, peer, signed_in, self.hub, self.computers, self.screens, self.presenter)
        grace = (await self.runtime.settings())["console_reconnect_seconds"]
        outcome = "closed"
        try:
            # A presenting console sends its screen's frames (realtime.presenter_screen).
            frames = functools.partial(self.presenter.frame, peer)
            outcome = await run_peer(
                websocket, peer, decode_console_request, actions.handle, frames=frames, weight=_weight
            )
            if peer.signed_out:  # the rep is logged out at once, not kept for a reconnect
                await self.runtime.db.write(connections.disconnect_by_gsnumber, peer.gsnumber)
        finally:
            self.presenter.console_gone(peer)
            self.hub.remove(peer, detached=outcome != "done" and not peer.signed_out, grace=grace)


KEYS_PER_MESSAGE = 0.1  # a key typed into a shell counts a tenth: key repeat and fast typists pass


def _weight(request: Any) -> float:
    """What a request counts toward the socket's rate limit."""
    # Screen input has its own limit (screen.INPUT_EVENTS_PER_SECOND), checked per event.
    return KEYS_PER_MESSAGE if isinstance(request, wire.ShellType | wire.ShellSize | wire.ScreenInput) else 1.0


# The requests about one session (each names it by `lsid`).
InSession = (
    wire.Take
    | wire.Note
    | wire.ExternalKey
    | wire.Transfer
    | wire.Invite
    | wire.Leave
    | wire.End
    | wire.Survey
    | wire.PresentationEnd
)


class ConsoleActions:
    """What a representative can do from the console, one handler per message type."""

    def __init__(
        self,
        runtime: Runtime,
        peer: ConsolePeer,
        signed_in: SignedIn,
        hub: Hub,
        computers: Computers,
        screens: Screens,
        presenter: PresenterScreens,
    ) -> None:
        self.runtime = runtime
        self.peer = peer
        self.signed_in = signed_in
        self.hub = hub
        self.computers = computers
        self.screens = screens
        self.presenter = presenter
        self.typing_throttle = TypingThrottle()
        self.jumps = JumpConsole(runtime, peer, signed_in)
        self.handlers: dict[type[wire.ConsoleRequest], Callable[[Any], Awaitable[Ack | None]]] = {
            wire.Take: self.take,
            wire.Chat: self.chat,
            wire.StartTyping: self.typing,
            wire.Note: self.note,
            wire.ExternalKey: self.external_key,
            wire.Transfer: self.transfer,
            wire.Invite: self.invite,
            wire.Leave: self.leave,
            wire.End: self.end,
            wire.Survey: self.survey,
            wire.Showing: self.showing,
            wire.GenerateKey: self.generate_key,
            wire.PresentationStart: self.presentation_start,
            wire.PresentationEnd: self.presentation_end,
            wire.PresentationShare: self.presentation_share,
            wire.PresentationUnshare: self.presentation_unshare,
            wire.OpenScript: self.open_script,
            wire.JumpListRequest: self.jumps.jump_list,
            wire.JumpStart: self.jumps.jump,
            wire.JumpRemove: self.jumps.jump_remove,
            wire.ShellJumpStart: self.jumps.shell_jump,
            wire.PushStart: self.jumps.push_start,
        }

    async def handle(self, request: wire.ConsoleRequest) -> Ack | Done | None:
        if self.peer.signed_out:
            raise ProtocolError(SIGNED_OUT)
        if isinstance(request, wire.Logout):
            await self.runtime.db.write(connections.disconnect_by_gsnumber, self.peer.gsnumber)
            return DONE
        if isinstance(request, COMPUTER_REQUESTS):
            # Relayed to the process holding the customer's Lifeline client; answered from there.
            return self.computers.ask(self.peer, self.signed_in.display_name, request)
        if isinstance(request, SCREEN_REQUESTS):
            # Checked here, done by the process holding the share (or the client).
            return self.screens.ask(self.peer, self.signed_in.display_name, request)
        return await self.handlers[type(request)](request)

    async def _in_session(
        self, request: InSession, work: Callable[[Session, SupportSession, ClientConnection, User], Any]
    ) -> Ack:
        """Run `work` on the session named by `lsid` as this rep; engine refusals become error acks."""
        lsid = request.lsid
        gsnumber, user_id = self.peer.gsnumber, self.signed_in.user_id

        def run(session: Session) -> Any:
            self._check_signed_in(session)
            support_session = session_by_lsid(session, lsid, to_change=True)
            connection = session.get(ClientConnection, gsnumber)
            user = session.get(User, user_id)
            if support_session is None:
                raise ProtocolError("no such session")
            if connection is None or connection.disconnected_at is not None or user is None:
                raise ProtocolError("your console connection has ended; sign in again")
            try:
                return work(session, support_session, connection, user)
            except (engine.SessionError, surveys.SurveyError, QueueError) as error:
                raise ProtocolError(str(error)) from None

        return ack(request, await self.runtime.db.write(run))

    def _check_signed_in(self, session: Session) -> None:
        """Defence in depth, in the action's own transaction: the sign-in that opened this
        socket still holds (the hub closes sockets whose sign-in ended within half a second)."""
        if not console_sign_in_in_force(session, self.signed_in.sign_in_id):
            raise ProtocolError(SIGNED_OUT)

    async def take(self, request: wire.Take) -> Ack:
        return await self._in_session(request, lambda s, ss, c, u: engine.take_session(s, ss, c, u))

    async def chat(self, request: wire.Chat) -> Ack:
        body, lsid, ref = request.body, request.lsid, request.ref
        gsnumber, sign_in = self.peer.gsnumber, self.signed_in.sign_in_id

        try:
            event_id = await self.runtime.db.write(
                activity.chat, lsid=lsid, gsnumber=gsnumber, body=body, client_ref=ref, sign_in=sign_in
            )
        except activity.SignInEnded:
            raise ProtocolError(SIGNED_OUT) from None
        except engine.SessionError as error:
            raise ProtocolError(str(error)) from None
        return ack(request, event_id)

    async def typing(self, request: wire.StartTyping) -> None:
        """The rep is typing a chat line: the others in the session see it (no answer)."""
        lsid = request.lsid
        if not self.hub.follows(self.peer, lsid):
            raise ProtocolError("You are not in this session")
        if self.typing_throttle.due(lsid):
            self.runtime.bus.publish_local(
                SomeoneTyping(lsid, self.peer.gsnumber, "representative", self.signed_in.display_name)
            )

    async def note(self, request: wire.Note) -> Ack:
        text, ref = request.text, request.ref

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> int:
            return activity.add_note(s, ss, engine.rep_actor(c, u), text, client_ref=ref).id

        return await self._in_session(request, work)

    async def external_key(self, request: wire.ExternalKey) -> Ack:
        value = request.value

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> bool:
            engine.require_member(s, ss, c)
            return engine.set_attributes(s, ss, {"external_key": value}, engine.rep_actor(c, u))

        return await self._in_session(request, work)

    async def transfer(self, request: wire.Transfer) -> Ack:
        spec = request.queue

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            engine.require_owner(ss, c)
            engine.transfer_session(s, ss, resolve_queue(s, spec), engine.rep_actor(c, u))

        return await self._in_session(request, work)

    async def invite(self, request: wire.Invite) -> Ack:
        rep_id = request.rep_id

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            engine.require_member(s, ss, c)
            invited = s.get(User, rep_id)
            if invited is None:
                raise engine.SessionError("No such representative")
            their = live_rep_connection(s, invited.id)
            if their is None:
                raise engine.SessionError(f"{invited.display_name} is not logged in")
            engine.join_session(s, ss, their, invited, performed_by=engine.rep_actor(c, u))

        return await self._in_session(request, work)

    async def leave(self, request: wire.Leave) -> Ack:
        return await self._in_session(request, lambda s, ss, c, u: engine.leave_session(s, ss, c, u))

    async def end(self, request: wire.End) -> Ack:
        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            engine.require_owner(ss, c)
            engine.end_session(s, ss, engine.rep_actor(c, u), reason="ended by representative")

        return await self._in_session(request, work)

    async def survey(self, request: wire.Survey) -> Ack:
        answers = answer_values(request.answers)

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            surveys.submit_survey(s, ss, surveys.SurveyKind.REPRESENTATIVE, engine.rep_actor(c, u), answers)

        return await self._in_session(request, work)

    async def showing(self, request: wire.Showing) -> Ack:
        value = request.value
        gsnumber = self.peer.gsnumber

        def work(session: Session) -> None:
            self._check_signed_in(session)
            connection = session.get(ClientConnection, gsnumber)
            if connection is not None:
                presence.set_showing_on_rep_list(session, connection, value)

        await self.runtime.db.write(work)
        return Ack(ref=request.ref, ok=True, showing=value)

    async def generate_key(self, request: wire.GenerateKey) -> Ack:
        """The Generate Session Key dialog: a key for this rep's own queue."""
        external_key, hostname = request.external_key, request.hostname
        directory = await self.runtime.directory()
        site = key_site(directory, hostname)
        if site is None:
            raise ProtocolError("that is not a hostname of one of our public sites")
        settings = await self.runtime.settings()
        user_id = self.signed_in.user_id

        def generate(session: Session) -> IssuedKey:
            self._check_signed_in(session)
            user = session.get(User, user_id)
            if user is None:
                raise ProtocolError("your account is gone")
            try:
                request = KeyRequest(
                    queue=rep_queue(user),
                    external_key=external_key,
                    url_hostname=site.hostname,
                    public_site_id=site.id,
                    created_by_user_id=user.id,
                )
                return generate_session_key(session, request, max_ttl=settings["session_key_max_ttl"])
            except (QueueError, SessionKeyError) as error:
                raise ProtocolError(str(error)) from None

        key = await self.runtime.db.write(generate)
        site_url = public_base_url(site.hostname, self.runtime.https_port_for_urls(settings))
        mail = invitation(settings, site_url, key.short_key, key.url_key, key.expires_at)
        return ack(
            request,
            {
                "short_key": key.short_key,
                "key_url": mail.key_url,
                "mail_subject": mail.mail_subject,
                "mail_body": mail.mail_body,
                "expires": key.expires_at.timestamp(),
            },
        )

    async def presentation_start(self, request: wire.PresentationStart) -> Ack:
        """Present: a presentation this rep owns, and the key and link attendees join with."""
        directory = await self.runtime.directory()
        site = key_site(directory, request.hostname)
        if site is None:
            raise ProtocolError("that is not a hostname of one of our public sites")
        settings = await self.runtime.settings()
        gsnumber, user_id = self.peer.gsnumber, self.signed_in.user_id

        def start(session: Session) -> presenting.Presenting:
            self._check_signed_in(session)
            connection = session.get(ClientConnection, gsnumber)
            user = session.get(User, user_id)
            if connection is None or user is None:
                raise ProtocolError("your console connection has ended; sign in again")
            try:
                return presenting.start_presentation(
                    session,
                    connection,
                    user,
                    public_site_id=site.id,
                    url_hostname=site.hostname,
                    max_ttl=settings["session_key_max_ttl"],
                )
            except (engine.SessionError, QueueError, SessionKeyError) as error:
                raise ProtocolError(str(error)) from None

        started = await self.runtime.db.write(start)
        site_url = public_base_url(site.hostname, self.runtime.https_port_for_urls(settings))
        return ack(
            request,
            {
                "lsid": started.lsid,
                "short_key": started.key.short_key,
                "url": f"{site_url}/presentation/{started.key.url_key}",
            },
        )

    async def presentation_end(self, request: wire.PresentationEnd) -> Ack:
        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            engine.require_owner(ss, c)
            presenting.end_presentation(s, ss, engine.rep_actor(c, u), reason="ended by presenter")

        return await self._in_session(request, work)

    async def presentation_share(self, request: wire.PresentationShare) -> Ack:
        return ack(request, await self.presenter.share(self.peer, self.signed_in.display_name, request))

    async def presentation_unshare(self, request: wire.PresentationUnshare) -> Ack:
        self.presenter.unshare(self.peer, request.lsid)
        return ack(request)

    async def open_script(self, request: wire.OpenScript) -> Ack:
        """A client script file from the Client Scripting API, opened in the console."""
        try:
            script = parse_script(request.text)
        except ScriptError as error:
            raise ProtocolError(error.message) from None  # already worded for the rep
        directory = await self.runtime.directory()
        # The Jump commands look up what this rep may use; the others need nothing stored.
        jumps = await self.runtime.db.read(self.jumps.script_commands, list(script.commands))
        commands = [jumps.get(place) or _console_command(command) for place, command in enumerate(script.commands)]
        foreign = directory.site_for_hostname(script.login.hostname) is None
        return ack(
            request,
            {
                "commands": commands,
                "warning": f"This script was made by {script.login.hostname}, not by this appliance."
                if foreign
                else "",
            },
        )


def _console_command(command: Any) -> dict[str, Any]:
    """What the console does with one command of a client script."""
    if isinstance(command, GenerateSessionKey):
        return {
            "action": "generate_session_key",
            "external_key": command.external_key or "",
            "public_portal_hostname": command.public_portal_hostname or "",
        }
    return {"action": "unknown", "title": "Unknown command", "explanation": "This console cannot run that command."}
