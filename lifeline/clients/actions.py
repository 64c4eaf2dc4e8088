"""Every write about the Lifeline client: its hello (the computer's details on the customer's
connection and participant), the customer's consent, the automatic system information,
command shells and file transfers. Each step that the spec names is an event in the log."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lifeline_protocol.computer import Capability, Computer, InfoCategory
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.clients.live import TransferMoved
from lifeline.clients.models import ClientTransfer, Direction, TransferStatus
from lifeline.db.base import utcnow
from lifeline.db.engine import on_commit
from lifeline.directory.models import User
from lifeline.presence.models import ClientConnection, ClientKind
from lifeline.recordings import actions as recordings
from lifeline.recordings.actions import RecordingKind
from lifeline.recordings.models import Recording
from lifeline.sessions import activity
from lifeline.sessions.actions import rep_actor
from lifeline.sessions.events import Actor, ActorType, lock_session_log, log_event
from lifeline.sessions.models import (
    EventType,
    SessionError,
    SessionEvent,
    SessionFile,
    SessionParticipant,
    SupportSession,
)
from lifeline.sessions.queries import joined_now, session_by_lsid
from lifeline.text import xml_safe

IDLE_TRANSFER = timedelta(minutes=10)  # a transfer nothing moved for this long is dropped


@dataclass(frozen=True)
class OpenShell:
    """A shell the session still has open: its recording, to be taken up again."""

    shell: int  # the recording's id: unique appliance-wide
    storage_name: str
    started_at: datetime


@dataclass(frozen=True)
class ClientJoined:
    lsid: str
    session_id: int
    gsnumber: int  # the customer's connection
    customer_name: str
    system_info_wanted: bool  # the automatic pull at session start is not logged yet
    shells: list[OpenShell]
    consent: dict[str, bool]  # capability -> the customer's last logged answer


def client_hello(session: Session, token_sha256: str, computer: Computer, public_ip: str) -> ClientJoined | None:
    """The Lifeline client of a customer said hello with their token: what it says of the
    computer goes on their connection and on the session's customer. None: no live session."""
    connection = session.scalars(
        select(ClientConnection).where(
            ClientConnection.resume_token_sha256 == token_sha256,
            ClientConnection.kind == ClientKind.SUPPORT_CUSTOMER.value,
            ClientConnection.disconnected_at.is_(None),
        )
    ).first()
    if connection is None or connection.session_id is None:
        return None
    support_session = session.get(SupportSession, connection.session_id)
    if support_session is None or support_session.ended:
        return None
    computer = Computer(
        hostname=xml_safe(computer.hostname),
        os=xml_safe(computer.os),
        platform=computer.platform,
        username=xml_safe(computer.username),
        private_ip=xml_safe(computer.private_ip),
        timezone_offset=computer.timezone_offset,
        client_version=xml_safe(computer.client_version),
    )  # the Command and Reporting APIs print them in XML
    connection.hostname = computer.hostname[:255]
    connection.platform = computer.platform
    connection.os = computer.os[:255]
    connection.private_ip = computer.private_ip[:64]
    connection.public_ip = public_ip[:64]
    connection.timezone_offset = computer.timezone_offset
    participant = _customer(session, support_session, connection.gsnumber)
    if participant is not None:
        participant.hostname = computer.hostname[:255]
        participant.os = computer.os[:255]
        participant.private_ip = computer.private_ip[:64]
        participant.public_ip = public_ip[:64]
        participant.username = computer.username[:100]
    logged = session.scalar(
        select(SessionEvent.id).where(
            SessionEvent.session_id == support_session.id,
            SessionEvent.event_type == EventType.SYSTEM_INFORMATION_RETRIEVED.value,
        )
    )
    return ClientJoined(
        lsid=support_session.lsid,
        session_id=support_session.id,
        gsnumber=connection.gsnumber,
        customer_name=participant.display_name if participant else support_session.customer_name,
        system_info_wanted=logged is None,
        shells=open_shells(session, support_session.id),
        consent=logged_consent(session, support_session.id),
    )


def logged_consent(session: Session, session_id: int) -> dict[str, bool]:
    """The customer's last answer per capability, as the log has it."""
    answers: dict[str, bool] = {}
    for data in session.scalars(
        select(SessionEvent.data)
        .where(
            SessionEvent.session_id == session_id,
            SessionEvent.event_type == EventType.SERVICE_ACCESS_ALLOWED.value,
        )
        .order_by(SessionEvent.id)
    ):
        values = dict(data)
        if "capability" in values:
            answers[values["capability"]] = values.get("allowed") == "1"
    return answers


def open_shells(session: Session, session_id: int) -> list[OpenShell]:
    rows = session.scalars(
        select(Recording).where(
            Recording.session_id == session_id,
            Recording.kind == RecordingKind.COMMAND_SHELL.value,
            Recording.ended_at.is_(None),
        )
    ).all()
    return [OpenShell(r.id, r.storage_name, r.started_at) for r in rows]


def _customer(session: Session, support_session: SupportSession, gsnumber: int) -> SessionParticipant | None:
    return session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.session_id == support_session.id,
            SessionParticipant.role == "customer",
            SessionParticipant.gsnumber == gsnumber,
        )
    ).first()


def _live_session(session: Session, session_id: int) -> SupportSession:
    support_session = session.get(SupportSession, session_id)
    if support_session is None or support_session.ended:
        raise SessionError("The session has already ended")
    return support_session


def _customer_actor(session: Session, support_session: SupportSession, gsnumber: int) -> Actor:
    participant = _customer(session, support_session, gsnumber)
    name = participant.display_name if participant else (support_session.customer_name or "Customer")
    return Actor(ActorType.CUSTOMER, gsnumber, name)


def record_consent(
    session: Session, session_id: int, gsnumber: int, capability: Capability, allowed: bool, how: str
) -> None:
    """The customer allowed or denied a capability (or took it back): "Service Access
    Allowed" with the capability, 1 or 0, and how (`asked`, or `flag` when allowed beforehand)."""
    support_session = _live_session(session, session_id)
    log_event(
        session,
        support_session,
        EventType.SERVICE_ACCESS_ALLOWED,
        _customer_actor(session, support_session, gsnumber),
        data=[("capability", capability), ("allowed", "1" if allowed else "0"), ("how", how)],
    )


def record_automatic_info(session: Session, session_id: int, gsnumber: int, categories: Sequence[InfoCategory]) -> bool:
    """The pull at session start, logged once ("System Information Retrieved"); False when
    it was logged already (a client that reconnected sends it again)."""
    support_session = _live_session(session, session_id)
    lock_session_log(session, support_session.id)
    if session.scalar(
        select(SessionEvent.id).where(
            SessionEvent.session_id == support_session.id,
            SessionEvent.event_type == EventType.SYSTEM_INFORMATION_RETRIEVED.value,
        )
    ):
        return False
    activity.record_system_information(
        session,
        support_session,
        _customer_actor(session, support_session, gsnumber),
        [
            # Reports are XML: a cell of a program's description may hold what XML cannot carry.
            activity.InfoCategory(
                name=xml_safe(c.name),
                fields=[(xml_safe(f.id), xml_safe(f.name)) for f in c.fields],
                rows=[[xml_safe(cell) for cell in row] for row in c.rows],
            )
            for c in categories
        ],
    )
    return True


@dataclass(frozen=True)
class RepInSession:
    gsnumber: int
    name: str
    user_id: int | None


def rep_in_session(session: Session, lsid: str, gsnumber: int) -> RepInSession:
    """The representative of connection `gsnumber`, who must be in the session now."""
    support_session = session_by_lsid(session, lsid)
    if support_session is None or support_session.ended:
        raise SessionError("The session has already ended")
    if not joined_now(session, support_session, "representative", gsnumber):
        raise SessionError("You are not in this session")
    connection = session.get(ClientConnection, gsnumber)
    user = session.get(User, connection.user_id) if connection and connection.user_id else None
    if connection is None or user is None:
        raise SessionError("You are not in this session")
    actor = rep_actor(connection, user)
    return RepInSession(actor.gsnumber, actor.name, actor.user_id)


@dataclass(frozen=True)
class ShellStarted:
    shell: int
    instance: int
    storage_name: str
    started_at: datetime


def start_shell(session: Session, lsid: str, gsnumber: int) -> ShellStarted:
    """A representative opens a command shell: "Command Shell Session Started" and its
    recording (numbered from 0 in the session, its id unique appliance-wide)."""
    rep = rep_in_session(session, lsid, gsnumber)
    support_session = session_by_lsid(session, lsid)
    assert support_session is not None
    actor = Actor(ActorType.REPRESENTATIVE, rep.gsnumber, rep.name, rep.user_id)
    recording = recordings.start_command_shell(session, support_session, actor, recorded=True)
    assert recording is not None
    return ShellStarted(recording.id, recording.instance, recording.storage_name, recording.started_at)


def finish_shell(session: Session, shell: int, size: int) -> None:
    recording = session.get(Recording, shell)
    if recording is not None and recording.ended_at is None:
        recordings.finish_recording(session, shell, size)


# --- transfers ---------------------------------------------------------------------------------


def transfer_state(row: ClientTransfer) -> dict[str, object]:
    """The fields of lifeline_protocol.computer.TransferState."""
    return {
        "id": row.id,
        "direction": row.direction,
        "name": row.name,
        "path": row.path,
        "size": row.size,
        "done": row.received,
        "state": row.status,
        "error": row.error,
        "file_id": row.file_id,
    }


def _moved(session: Session, row: ClientTransfer, lsid: str) -> None:
    on_commit(session, TransferMoved(lsid, transfer_state(row)))


def new_download(session: Session, lsid: str, gsnumber: int, path: str) -> dict[str, object]:
    """A representative asks for a file (or a folder, zipped) of the customer's computer."""
    rep_in_session(session, lsid, gsnumber)
    support_session = session_by_lsid(session, lsid)
    assert support_session is not None
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or "file"
    row = ClientTransfer(
        id=secrets.token_hex(16),
        session_id=support_session.id,
        direction=Direction.DOWNLOAD.value,
        rep_gsnumber=gsnumber,
        name=name[:255],
        path=path,
    )
    session.add(row)
    session.flush()
    _moved(session, row, lsid)
    return transfer_state(row)


def new_upload(
    session: Session, lsid: str, gsnumber: int, file_id: int, path: str, folders: str = ""
) -> dict[str, object]:
    """A representative sends a file of the session's file store to the customer's computer,
    into the folder `path` or into `folders` under it (a folder uploaded file by file). The
    transfer's path stays `path`, the folder the rep looks at; where the file was written is
    the client's answer, logged with the File Upload."""
    if folders and not plain_folders(folders):
        raise SessionError("Not a valid folder name")
    rep_in_session(session, lsid, gsnumber)
    support_session = session_by_lsid(session, lsid)
    assert support_session is not None
    sent = session.get(SessionFile, file_id)
    if sent is None or sent.session_id != support_session.id:
        raise SessionError("No such file in this session")
    row = ClientTransfer(
        id=secrets.token_hex(16),
        session_id=support_session.id,
        direction=Direction.UPLOAD.value,
        rep_gsnumber=gsnumber,
        name=sent.name,
        path=path,
        size=sent.size,
        sha256=sent.sha256,
        file_id=sent.id,
    )
    session.add(row)
    session.flush()
    _moved(session, row, lsid)
    return transfer_state(row)


def plain_folders(folders: str) -> bool:
    """Folders such as `a/b`: names only, nothing that climbs out or is absolute (the client
    checks again, with its own system's rules)."""
    return all(part not in ("", ".", "..") and "\0" not in part and "\\" not in part for part in folders.split("/"))


@dataclass(frozen=True)
class TransferFound:
    id: str
    lsid: str
    session_id: int
    direction: str
    status: str
    size: int
    received: int
    sha256: str
    name: str


def transfer_for_client(session: Session, transfer_id: str, token_sha256: str) -> TransferFound | None:
    """The transfer, if the token is that of the live customer of its session."""
    row = session.get(ClientTransfer, transfer_id)
    if row is None:
        return None
    connection = session.scalars(
        select(ClientConnection).where(
            ClientConnection.resume_token_sha256 == token_sha256,
            ClientConnection.kind == ClientKind.SUPPORT_CUSTOMER.value,
            ClientConnection.disconnected_at.is_(None),
            ClientConnection.session_id == row.session_id,
        )
    ).first()
    support_session = session.get(SupportSession, row.session_id)
    if connection is None or support_session is None or support_session.ended:
        return None
    return TransferFound(
        row.id,
        support_session.lsid,
        row.session_id,
        row.direction,
        row.status,
        row.size,
        row.received,
        row.sha256,
        row.name,
    )


def transfer_progress(session: Session, transfer_id: str, total: int, received: int, *, tell: bool) -> None:
    row = session.get(ClientTransfer, transfer_id)
    if row is None or row.status != TransferStatus.MOVING.value:
        return
    row.size, row.received, row.updated_at = total, received, utcnow()
    if tell:
        support_session = session.get(SupportSession, row.session_id)
        if support_session is not None:
            _moved(session, row, support_session.lsid)


def finish_download(session: Session, transfer_id: str, sha256: str, size: int, *, zipped: bool = False) -> int:
    """Every byte arrived and the file is in the store: "File Download" by the customer (the
    representative's download), once however often the last chunk is sent. `zipped`: the
    bytes are a ZIP archive; a folder's name (no extension) gets ".zip"."""
    row = session.get(ClientTransfer, transfer_id)
    if row is None:
        raise SessionError("No such transfer")
    if row.status == TransferStatus.DONE.value and row.file_id is not None:
        return row.file_id
    if zipped and "." not in row.name.lstrip("."):
        row.name = f"{row.name[:250]}.zip"
    support_session = _live_session(session, row.session_id)
    customer = session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.session_id == support_session.id,
            SessionParticipant.role == "customer",
            SessionParticipant.primary_cust.is_(True),
        )
    ).first()
    sender = Actor(
        ActorType.CUSTOMER, customer.gsnumber if customer else 0, customer.display_name if customer else "Customer"
    )
    rep = session.get(ClientConnection, row.rep_gsnumber)
    user = session.get(User, rep.user_id) if rep and rep.user_id else None
    sent = activity.record_file(
        session,
        support_session,
        sender,
        activity.FileSent(row.name, size, sha256),
        destination=rep_actor(rep, user) if rep and user else None,
        client_ref=f"transfer:{row.id}"[:64],
    )
    row.status, row.received, row.size, row.file_id = TransferStatus.DONE.value, size, size, sent.id
    row.updated_at = utcnow()
    _moved(session, row, support_session.lsid)
    return sent.id


def finish_upload(session: Session, transfer_id: str, where: str) -> None:
    """The client wrote the file on the customer's computer: "File Upload" by the representative."""
    row = session.get(ClientTransfer, transfer_id)
    if row is None or row.status != TransferStatus.MOVING.value:
        return
    support_session = _live_session(session, row.session_id)
    rep = session.get(ClientConnection, row.rep_gsnumber)
    user = session.get(User, rep.user_id) if rep and rep.user_id else None
    performer = rep_actor(rep, user) if rep and user else Actor(ActorType.REPRESENTATIVE, row.rep_gsnumber, "")
    customer = session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.session_id == support_session.id, SessionParticipant.primary_cust.is_(True)
        )
    ).first()
    event = log_event(
        session,
        support_session,
        EventType.FILE_UPLOAD,
        performer,
        destination=Actor(ActorType.CUSTOMER, customer.gsnumber, customer.display_name) if customer else None,
        filename=row.name,
        filesize=row.size,
        files=[{"name": row.name, "size": row.size}],
        data=[("path", where[:1024])],
        file_id=row.file_id,
    )
    sent = session.get(SessionFile, row.file_id) if row.file_id else None
    if sent is not None and sent.event_id is None:  # staged for the computer: this is its log entry
        sent.event_id = event.id
        support_session.file_transfer_count += 1
    row.status, row.received, row.updated_at = TransferStatus.DONE.value, row.size, utcnow()
    _moved(session, row, support_session.lsid)


def fail_transfer(session: Session, transfer_id: str, error: str) -> None:
    row = session.get(ClientTransfer, transfer_id)
    if row is None or row.status != TransferStatus.MOVING.value:
        return
    row.status, row.error, row.updated_at = TransferStatus.FAILED.value, error[:1024], utcnow()
    support_session = session.get(SupportSession, row.session_id)
    if support_session is not None:
        _moved(session, row, support_session.lsid)


def expire_idle_transfers(session: Session, now: datetime | None = None) -> list[str]:
    """Transfers nothing moved for IDLE_TRANSFER fail; returns their ids (their partial files go)."""
    cutoff = (now or utcnow()) - IDLE_TRANSFER
    rows = session.scalars(
        select(ClientTransfer)
        .where(ClientTransfer.status == TransferStatus.MOVING.value, ClientTransfer.updated_at < cutoff)
        .limit(500)
    ).all()
    for row in rows:
        fail_transfer(session, row.id, "The transfer stopped moving for 10 minutes")
    return [row.id for row in rows]
