"""Running a session's life through the engine, as the consoles and clients will: chat,
notes, files, system information, transfers, conferences, surveys, command shells and
screen recordings. Everything is done by engine actions in the appliance's database and
data directory, so the reports read what a real session leaves behind."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.directory.models import User
from lifeline.presence.models import ClientConnection
from lifeline.recordings.actions import RecordingKind
from lifeline.recordings.filestore import FileStore
from lifeline.recordings.recorder import record_command_shell, record_screen
from lifeline.recordings.store import RecordingStore
from lifeline.sessions import actions as engine
from lifeline.sessions import activity
from lifeline.sessions.events import SYSTEM, Actor
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queries import session_by_lsid
from lifeline.sessions.queues import resolve_queue
from lifeline.surveys.actions import QuestionType, SurveyKind, add_question, submit_survey
from lifeline.surveys.models import SurveyQuestion
from tests.support.engine import ConsoleNode, Started

# A tiny but well-formed WebM: the EBML header with DocType "webm", as MediaRecorder starts one.
WEBM_HEADER = (
    bytes.fromhex("1a45dfa3")
    + bytes([0x9F])
    + (bytes.fromhex("4286810142f7810142f2810442f381084282847765626d4287810442858102"))
)


class SessionDriver:
    """One session, driven step by step. `customer` is the customer's gsnumber; reps are
    named by the gsnumber of their console connection."""

    def __init__(self, node: ConsoleNode, started: Started, data_dir: Path) -> None:
        self.node = node
        self.db = node.db
        self.lsid = started.lsid
        self.customer = started.customer_gsnumber
        self.files = FileStore(data_dir / "files")
        self.recordings = RecordingStore(data_dir / "recordings")

    # --- plumbing --------------------------------------------------------------------------

    def _session(self, session: Session) -> SupportSession:
        found = session_by_lsid(session, self.lsid)
        assert found is not None
        return found

    def _actor(self, session: Session, who: int | None) -> Actor:
        """The customer (None) or the rep on connection `who`."""
        support_session = self._session(session)
        if who is None:
            return engine.customer_actor(session, support_session)
        connection = session.get(ClientConnection, who)
        assert connection is not None and connection.user_id is not None
        user = session.get(User, connection.user_id)
        assert user is not None
        return engine.rep_actor(connection, user)

    def actor(self, who: int | None) -> Actor:
        return self.db.call(lambda s: self._actor(s, who))

    # --- the session's life ----------------------------------------------------------------

    def take(self, rep: int) -> SessionDriver:
        self.node.take(self.lsid, rep)
        return self

    def join(self, rep: int) -> SessionDriver:
        def work(session: Session) -> None:
            connection = session.get(ClientConnection, rep)
            assert connection is not None and connection.user_id is not None
            user = session.get(User, connection.user_id)
            assert user is not None
            engine.join_session(session, self._session(session), connection, user)

        self.db.call(work)
        return self

    def leave(self, rep: int) -> SessionDriver:
        def work(session: Session) -> None:
            connection = session.get(ClientConnection, rep)
            assert connection is not None and connection.user_id is not None
            user = session.get(User, connection.user_id)
            assert user is not None
            engine.leave_session(session, self._session(session), connection, user)

        self.db.call(work)
        return self

    def transfer(self, queue_spec: str, by: int) -> SessionDriver:
        self.db.call(
            lambda s: engine.transfer_session(s, self._session(s), resolve_queue(s, queue_spec), self._actor(s, by))
        )
        return self

    def chat(self, body: str, *, by: int | None = None, to: int | str | None = "") -> SessionDriver:
        """A chat line from the customer (by=None) or a rep; `to` names a destination."""

        def work(session: Session) -> None:
            destination = None if to == "" else self._actor(session, to if isinstance(to, int) else None)
            activity.send_chat(session, self._session(session), self._actor(session, by), body, destination=destination)

        self.db.call(work)
        return self

    def note(self, text: str, *, by: int) -> SessionDriver:
        self.db.call(lambda s: activity.add_note(s, self._session(s), self._actor(s, by), text))
        return self

    def send_file(self, name: str, content: bytes, *, by: int | None, to: int | str | None = "") -> SessionDriver:
        stored = self.files.put_bytes(content)

        def work(session: Session) -> None:
            destination = None if to == "" else self._actor(session, to if isinstance(to, int) else None)
            activity.record_file(
                session,
                self._session(session),
                self._actor(session, by),
                activity.FileSent(name, stored.size, stored.sha256),
                destination=destination,
            )

        self.db.call(work)
        return self

    def system_information(self, categories: Sequence[activity.InfoCategory]) -> SessionDriver:
        self.db.call(
            lambda s: activity.record_system_information(s, self._session(s), self._actor(s, None), categories)
        )
        return self

    def customer_details(self, details: engine.CustomerDetails, *, username: str = "") -> SessionDriver:
        self.db.call(lambda s: activity.update_customer_details(s, self._session(s), details, username=username))
        return self

    def attributes(self, changes: dict[str, str | None], *, by: int) -> SessionDriver:
        self.db.call(lambda s: engine.set_attributes(s, self._session(s), changes, self._actor(s, by)))
        return self

    def shell(self, *, by: int, output: Sequence[str]) -> int:
        """A recorded command shell; returns its instance number."""
        with record_command_shell(self.db, self.recordings, self.lsid, self.actor(by)) as shell:
            for at, text in enumerate(output):
                shell.input("ls\r", at=at)
                shell.output(text, at=at + 0.5)
            return shell.instance

    def screen(self, kind: RecordingKind = RecordingKind.SCREEN, body: bytes = b"\x00" * 2048) -> bytes:
        """A screen (or presentation) recording; returns the bytes stored."""
        with record_screen(self.db, self.recordings, self.lsid, kind) as recording:
            recording.write(WEBM_HEADER)
            recording.write(body)
        return WEBM_HEADER + body

    def end(self, *, by: int | None = None, reason: str = "", system: bool = False) -> SessionDriver:
        """Ended by the customer (by=None), a rep, or the system."""
        self.db.call(
            lambda s: engine.end_session(s, self._session(s), SYSTEM if system else self._actor(s, by), reason=reason)
        )
        return self

    def survey(self, kind: SurveyKind, answers: dict[str, list[str]], *, by: int | None = None) -> SessionDriver:
        """Answers keyed by question name."""

        def work(session: Session) -> None:
            ids = {
                q.name: q.id for q in session.scalars(select(SurveyQuestion).where(SurveyQuestion.survey == kind.value))
            }
            submit_survey(
                session,
                self._session(session),
                kind,
                self._actor(session, by),
                {ids[name]: values for name, values in answers.items()},
            )

        self.db.call(work)
        return self


def survey_questions(node: ConsoleNode) -> dict[str, Any]:
    """The exit surveys an admin configured: three customer questions, two rep questions."""

    def work(session: Session) -> dict[str, Any]:
        made = [
            add_question(
                session,
                SurveyKind.CUSTOMER,
                name="rating",
                label="How did we do?",
                question_type=QuestionType.RADIO,
                report_header="Rating",
                options=["Good", "Bad"],
            ),
            add_question(
                session,
                SurveyKind.CUSTOMER,
                name="topics",
                label="What was it about?",
                question_type=QuestionType.CHECKBOX,
                options=["Printer", "Email", "VPN"],
            ),
            add_question(
                session, SurveyKind.CUSTOMER, name="comments", label="Comments", question_type=QuestionType.TEXTAREA
            ),
            add_question(
                session,
                SurveyKind.REPRESENTATIVE,
                name="resolved",
                label="Was it resolved?",
                question_type=QuestionType.SELECT,
                options=["Yes", "No"],
            ),
            add_question(
                session, SurveyKind.REPRESENTATIVE, name="summary", label="Summary", question_type=QuestionType.TEXT
            ),
        ]
        return {q.name: q.id for q in made}

    return node.db.call(work)
