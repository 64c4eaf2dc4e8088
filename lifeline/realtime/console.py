"""The representative console's socket: log in (or resume), then work sessions.

The protocol is in docs/realtime.md. Every request carries a `ref` the answer repeats; a
request resent after a reconnect under the same `ref` is not done twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.websockets import WebSocket

from lifeline.appliance.invitations import invitation
from lifeline.appliance.urls import public_base_url
from lifeline.clientscript import (
    GenerateSessionKey,
    PushAndStartLocal,
    ScriptError,
    StartPinnedClientSession,
    parse_script,
)
from lifeline.directory.models import User
from lifeline.directory.queries import console_sign_ins_in_force
from lifeline.http.auth import SignedIn, WebAuth
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientInfo
from lifeline.presence.queries import live_rep_connection
from lifeline.realtime.hub import ConsolePeer, Hub
from lifeline.realtime.socket import (
    CLOSE_BAD_HELLO,
    CLOSE_GONE,
    CLOSE_UNAUTHORIZED,
    ProtocolError,
    TypingThrottle,
    ack,
    id_field,
    receive_message,
    ref_of,
    run_peer,
    same_origin,
    survey_answers,
    text_field,
)
from lifeline.runtime import Runtime
from lifeline.sessions import actions as engine
from lifeline.sessions import activity, connections
from lifeline.sessions.attach import RESUME_REFUSED, Attached, attach_console
from lifeline.sessions.keys import IssuedKey, KeyRequest, SessionKeyError, generate_session_key, key_site
from lifeline.sessions.live import SomeoneTyping
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queries import session_by_lsid
from lifeline.sessions.queues import QueueError, rep_queue, resolve_queue
from lifeline.surveys import actions as surveys

MAX_CHAT = activity.MAX_CHAT_LENGTH
SIGNED_OUT = "your sign-in has ended; sign in again"


def _attach_with_survey(session: Session, **how: Any) -> tuple[Attached | str, list[dict[str, Any]]]:
    """Log in or resume, and the representative exit survey the console shows, in one transaction."""
    return attach_console(session, **how), surveys.survey_form(session, surveys.SurveyKind.REPRESENTATIVE)


class ConsoleSocket:
    def __init__(self, runtime: Runtime, hub: Hub, auth: WebAuth) -> None:
        self.runtime = runtime
        self.hub = hub
        self.auth = auth

    async def serve(self, websocket: WebSocket) -> None:
        if not same_origin(websocket):
            await websocket.close()  # refused at the handshake: another site's page
            return
        signed_in = await self.auth.signed_in(websocket)
        await websocket.accept()
        if signed_in is None or not signed_in.support or signed_in.password_change_due:
            await websocket.close(CLOSE_UNAUTHORIZED)  # the console goes to its sign-in page
            return
        try:
            hello = await receive_message(websocket, timeout=15)
            if hello["type"] != "hello":
                raise ProtocolError("the first message is hello")
        except Exception:
            await websocket.close(CLOSE_BAD_HELLO)
            return
        resume_token = hello.get("resume_token") if isinstance(hello.get("resume_token"), str) else None
        last_ids = hello.get("last_event_ids")
        last_event_ids = (
            {str(k)[:32]: v for k, v in list(last_ids.items())[:500] if isinstance(v, int)}
            if isinstance(last_ids, dict)
            else {}
        )
        client = ClientInfo(
            hostname=str(hello.get("hostname", ""))[:255] or "browser",
            platform="web",
            os=websocket.headers.get("user-agent", "")[:255],
            public_ip=websocket.client.host if websocket.client else "",
            timezone_offset=int(hello.get("timezone_offset", 0))
            if isinstance(hello.get("timezone_offset"), int)
            else 0,
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
            await websocket.send_json({"type": "gone" if attached == RESUME_REFUSED else "refused", "error": attached})
            await websocket.close(CLOSE_GONE)
            return
        peer.gsnumber = attached.gsnumber
        peer.queues = attached.may_take
        self.hub.end_attach(peer, attached.history)
        waiting = self.hub.waiting.visible_to(peer)
        sessions = {s["lsid"]: s for s in waiting} | {s["lsid"]: s for s in attached.sessions}
        peer.known = set(sessions)
        for lsid, events in attached.history.items():
            peer.last_event_id[lsid] = max([e["id"] for e in events], default=last_event_ids.get(lsid, 0))
        reps = await self.runtime.logged_in_reps()
        peer.send(
            {
                "type": "welcome",
                "gsnumber": attached.gsnumber,
                "resume_token": attached.resume_token,
                "resumed": bool(resume_token),
                "user": {
                    "id": signed_in.user_id,
                    "username": signed_in.username,
                    "display_name": signed_in.display_name,
                },
                "showing": attached.showing,
                "queues": attached.queues,
                "sessions": list(sessions.values()),
                "history": attached.history,
                "teams": attached.teams,
                "reps": [{"id": r.id, "name": r.display_name, "sessions": r.support_session_count} for r in reps],
                "survey": survey,
                "server_time": time.time(),
            }
        )
        peer.release()
        self.hub.console_ready(peer)
        actions = ConsoleActions(self.runtime, peer, signed_in, self.hub)
        grace = (await self.runtime.settings())["console_reconnect_seconds"]
        outcome = "closed"
        try:
            outcome = await run_peer(websocket, peer, actions.handle)
            if peer.signed_out:  # the rep is logged out at once, not kept for a reconnect
                await self.runtime.db.write(connections.disconnect_by_gsnumber, peer.gsnumber)
        finally:
            self.hub.remove(peer, detached=outcome != "done" and not peer.signed_out, grace=grace)


class ConsoleActions:
    """What a representative can do from the console, one handler per message type."""

    def __init__(self, runtime: Runtime, peer: ConsolePeer, signed_in: SignedIn, hub: Hub) -> None:
        self.runtime = runtime
        self.peer = peer
        self.signed_in = signed_in
        self.hub = hub
        self.typing_throttle = TypingThrottle()
        self.handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "take": self.take,
            "chat": self.chat,
            "typing": self.typing,
            "note": self.note,
            "external_key": self.external_key,
            "transfer": self.transfer,
            "invite": self.invite,
            "leave": self.leave,
            "end": self.end,
            "survey": self.survey,
            "showing": self.showing,
            "generate_key": self.generate_key,
            "open_script": self.open_script,
            "logout": self.logout,
        }

    async def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        handler = self.handlers.get(message["type"])
        if handler is None:
            raise ProtocolError(f"unknown message type {message['type'][:40]!r}")
        if self.peer.signed_out:
            raise ProtocolError(SIGNED_OUT)
        result: dict[str, Any] | None = await handler(message)
        return result

    async def _in_session(
        self, message: dict[str, Any], work: Callable[[Session, SupportSession, ClientConnection, User], Any]
    ) -> dict[str, Any]:
        """Run `work` on the session named by `lsid` as this rep; engine refusals become error acks."""
        lsid = text_field(message, "lsid", 32)
        gsnumber, user_id = self.peer.gsnumber, self.signed_in.user_id

        def run(session: Session) -> Any:
            self._check_signed_in(session)
            support_session = session_by_lsid(session, lsid)
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

        return ack(message, result=await self.runtime.db.write(run))

    def _check_signed_in(self, session: Session) -> None:
        """Defence in depth, in the action's own transaction: the sign-in that opened this
        socket still holds (the hub closes sockets whose sign-in ended within half a second)."""
        if not console_sign_ins_in_force(session, [self.signed_in.sign_in_id]):
            raise ProtocolError(SIGNED_OUT)

    async def take(self, message: dict[str, Any]) -> dict[str, Any]:
        return await self._in_session(message, lambda s, ss, c, u: engine.take_session(s, ss, c, u))

    async def chat(self, message: dict[str, Any]) -> dict[str, Any]:
        body = text_field(message, "body", MAX_CHAT)
        lsid = text_field(message, "lsid", 32)
        ref = ref_of(message)
        gsnumber = self.peer.gsnumber

        def send(session: Session) -> int:
            self._check_signed_in(session)
            return activity.chat(session, lsid=lsid, gsnumber=gsnumber, body=body, client_ref=ref)

        try:
            event_id = await self.runtime.db.write(send)
        except engine.SessionError as error:
            raise ProtocolError(str(error)) from None
        return ack(message, result=event_id)

    async def typing(self, message: dict[str, Any]) -> None:
        """The rep is typing a chat line: the others in the session see it (no answer)."""
        lsid = text_field(message, "lsid", 32)
        if not self.hub.follows(self.peer, lsid):
            raise ProtocolError("You are not in this session")
        if self.typing_throttle.due(lsid):
            self.runtime.bus.publish_local(
                SomeoneTyping(lsid, self.peer.gsnumber, "representative", self.signed_in.display_name)
            )

    async def note(self, message: dict[str, Any]) -> dict[str, Any]:
        text = text_field(message, "text", activity.MAX_NOTE_LENGTH)
        ref = ref_of(message)

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> int:
            return activity.add_note(s, ss, engine.rep_actor(c, u), text, client_ref=ref).id

        return await self._in_session(message, work)

    async def external_key(self, message: dict[str, Any]) -> dict[str, Any]:
        value = text_field(message, "value", 1024, required=False)

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> bool:
            engine.require_member(s, ss, c)
            return engine.set_attributes(s, ss, {"external_key": value}, engine.rep_actor(c, u))

        return await self._in_session(message, work)

    async def transfer(self, message: dict[str, Any]) -> dict[str, Any]:
        spec = text_field(message, "queue", 300)

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            engine.require_owner(ss, c)
            engine.transfer_session(s, ss, resolve_queue(s, spec), engine.rep_actor(c, u))

        return await self._in_session(message, work)

    async def invite(self, message: dict[str, Any]) -> dict[str, Any]:
        rep_id = id_field(message, "rep_id")

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            engine.require_member(s, ss, c)
            invited = s.get(User, rep_id)
            if invited is None:
                raise engine.SessionError("No such representative")
            their = live_rep_connection(s, invited.id)
            if their is None:
                raise engine.SessionError(f"{invited.display_name} is not logged in")
            engine.join_session(s, ss, their, invited, performed_by=engine.rep_actor(c, u))

        return await self._in_session(message, work)

    async def leave(self, message: dict[str, Any]) -> dict[str, Any]:
        return await self._in_session(message, lambda s, ss, c, u: engine.leave_session(s, ss, c, u))

    async def end(self, message: dict[str, Any]) -> dict[str, Any]:
        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            engine.require_owner(ss, c)
            engine.end_session(s, ss, engine.rep_actor(c, u), reason="ended by representative")

        return await self._in_session(message, work)

    async def survey(self, message: dict[str, Any]) -> dict[str, Any]:
        answers = survey_answers(message)

        def work(s: Session, ss: SupportSession, c: ClientConnection, u: User) -> None:
            surveys.submit_survey(s, ss, surveys.SurveyKind.REPRESENTATIVE, engine.rep_actor(c, u), answers)

        return await self._in_session(message, work)

    async def showing(self, message: dict[str, Any]) -> dict[str, Any]:
        value = message.get("value")
        if not isinstance(value, bool):
            raise ProtocolError("value must be true or false")
        gsnumber = self.peer.gsnumber

        def work(session: Session) -> None:
            self._check_signed_in(session)
            connection = session.get(ClientConnection, gsnumber)
            if connection is not None:
                presence.set_showing_on_rep_list(session, connection, value)

        await self.runtime.db.write(work)
        return ack(message, showing=value)

    async def generate_key(self, message: dict[str, Any]) -> dict[str, Any]:
        """The Generate Session Key dialog: a key for this rep's own queue."""
        external_key = text_field(message, "external_key", 1024, required=False)
        hostname = text_field(message, "hostname", 255, required=False)
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
            message,
            result={
                "short_key": key.short_key,
                "key_url": mail.key_url,
                "mail_subject": mail.mail_subject,
                "mail_body": mail.mail_body,
                "expires": key.expires_at.timestamp(),
            },
        )

    async def open_script(self, message: dict[str, Any]) -> dict[str, Any]:
        """A client script file from the Client Scripting API, opened in the console."""
        text = text_field(message, "text", 64 * 1024)
        try:
            script = parse_script(text)
        except ScriptError as error:
            raise ProtocolError(error.message) from None  # already worded for the rep
        directory = await self.runtime.directory()
        commands = [_console_command(command) for command in script.commands]
        foreign = directory.site_for_hostname(script.login.hostname) is None
        return ack(
            message,
            result={
                "commands": commands,
                "warning": f"This script was made by {script.login.hostname}, not by this appliance."
                if foreign
                else "",
            },
        )

    async def logout(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.runtime.db.write(connections.disconnect_by_gsnumber, self.peer.gsnumber)
        return {"type": "done"}


def _console_command(command: Any) -> dict[str, Any]:
    """What the console does with one command of a client script."""
    if isinstance(command, GenerateSessionKey):
        return {
            "action": "generate_session_key",
            "external_key": command.external_key or "",
            "public_portal_hostname": command.public_portal_hostname or "",
        }
    if isinstance(command, StartPinnedClientSession):
        wanted = ", ".join(f"{name} {value!r}" for name, value in command.search().items())
        return {
            "action": "start_pinned_client_session",
            "title": "Start a session with a Jump Client",
            "explanation": f"Looked for Jump Clients matching {wanted}. This appliance has no Jump Clients yet: "
            "they come with the Jump Client release, and then this script will start their sessions.",
            "jump_clients": [],
        }
    if isinstance(command, PushAndStartLocal):
        return {
            "action": "push_and_start_local",
            "title": f"Push and start a session on {command.hostname}",
            "explanation": f"Pushing the customer client to {command.hostname} needs a Jumpoint on that computer's "
            "network and administrator rights on it. This appliance has no Jumpoints yet, so start the session "
            "another way: generate a session key and give it to the person at that computer.",
        }
    return {"action": "unknown", "title": "Unknown command", "explanation": "This console cannot run that command."}
