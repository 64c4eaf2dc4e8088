"""A help desk's history, made by really running sessions through the engine.

- full: Pat (Acme) waits in Team A's queue; rep_a takes it; chat (one line with bytes XML
  cannot carry), rep_b joins and leaves, a note, files both ways, system information, a
  custom attribute, three recorded command shells and a screen recording; rep_a ends it;
  both exit surveys.
- transferred: the admin takes it from the general queue and transfers it to Team B,
  where rep_b takes it; the customer ends it and answers the survey.
- embassy: embassy_rep takes it from the Partner Embassy's queue; the system ends it.
- other_site: on a second public site; the admin takes and ends it.
- presentation: the admin records a presentation in it, then ends it; both surveys.
- waiting: still waiting in the general queue.
- active: owned by rep_b, still in progress.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifeline.recordings.actions import RecordingKind
from lifeline.sessions import actions as engine
from lifeline.sessions.activity import InfoCategory
from lifeline.surveys.actions import SurveyKind
from tests.support.activity import SessionDriver, survey_questions
from tests.support.appliance import RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas

BINARY_CHAT = "bin \x00\x07 data \ufffe"
SYSTEM_INFO = [
    InfoCategory(
        "Drives",
        [("drive", "Drive"), ("type", "Type"), ("used", "Percent Used")],
        [["C:\\", "Local Disk", "60%"], ["D:\\", "DVD", "0%"]],
    ),
    InfoCategory("Operating System", [("name", "Name"), ("version", "Version")], [["Windows 11", "23H2"]]),
]
SHELL_OUTPUT = ["\x1b[1mreadme.txt\x1b[0m  notes.md\r\n", "printer.log\r\n", "done\r\n"]


@dataclass(frozen=True)
class Logins:
    admin: int
    rep_a: int
    rep_b: int
    embassy_rep: int


@dataclass(frozen=True)
class History:
    full: str
    transferred: str
    embassy: str
    other_site: str
    presentation: str
    waiting: str
    active: str
    logins: Logins
    screen_bytes: bytes
    shells: tuple[int, ...]
    questions: dict[str, int]
    other_site_id: int

    @property
    def ended(self) -> list[str]:
        return [self.full, self.transferred, self.embassy, self.other_site, self.presentation]

    @property
    def all(self) -> list[str]:
        return [*self.ended, self.waiting, self.active]


def make_history(appliance: RunningAppliance, personas: Personas, node: ConsoleNode) -> History:
    data_dir = appliance.data_dir
    site = appliance.cli_json("site", "add", "remote.example.com")
    appliance.cli("custom-attribute", "add", "ticket_system", "Ticket System")
    questions = survey_questions(node)
    logins = Logins(
        admin=node.log_in("admin"),
        rep_a=node.log_in("rep_a"),
        rep_b=node.log_in("rep_b", hostname="bob-pc"),
        embassy_rep=node.log_in("embassy_rep", hostname="partner-pc"),
    )

    def drive(queue: str, **kwargs: object) -> SessionDriver:
        return SessionDriver(node, node.start_session(queue, **kwargs), data_dir)  # type: ignore[arg-type]

    full = drive(f"team:{personas.team_a}", customer_name="Pat Customer", external_key="INC-100")
    full.customer_details(
        engine.CustomerDetails(
            name="Pat Customer", company="Acme", company_code="AC-1", issue="printing", details="The printer jams"
        ),
        username="pat",
    )
    full.system_information(SYSTEM_INFO)
    full.take(logins.rep_a)
    full.chat("Hello, my printer is jammed", to=logins.rep_a)
    full.chat("Let me have a look", by=logins.rep_a, to=None)
    full.chat(BINARY_CHAT)
    full.join(logins.rep_b).chat("I can help with the driver", by=logins.rep_b).leave(logins.rep_b)
    full.note("Cleared the paper path.", by=logins.rep_a)
    full.send_file("fix.ps1", b"Restart-Service Spooler\n", by=logins.rep_a, to=None)
    full.send_file("error.log", b"E42 paper jam\n" * 10, by=None, to=logins.rep_a)
    full.attributes({"ticket_system": "servicenow"}, by=logins.rep_a)
    shells = tuple(full.shell(by=logins.rep_a, output=SHELL_OUTPUT) for _ in range(3))
    screen_bytes = full.screen()
    full.end(by=logins.rep_a)
    full.survey(
        SurveyKind.CUSTOMER, {"rating": ["Good"], "topics": ["Printer", "VPN"], "comments": ["Quick & kind <3"]}
    )
    full.survey(SurveyKind.REPRESENTATIVE, {"resolved": ["Yes"], "summary": ["Cleared the jam"]}, by=logins.rep_a)

    transferred = drive("general", customer_name="Quinn")
    transferred.take(logins.admin).chat("Passing you to Team B", by=logins.admin)
    transferred.transfer(f"team:{personas.team_b}", by=logins.admin)
    transferred.take(logins.rep_b).chat("Hi Quinn", by=logins.rep_b).end()
    transferred.survey(SurveyKind.CUSTOMER, {"rating": ["Bad"]})

    embassy = drive(f"embassy:{personas.embassy}", customer_name="Riley")
    embassy.take(logins.embassy_rep).chat("Partner here", by=logins.embassy_rep)
    embassy.end(system=True, reason="terminated")

    other_site = drive("general", customer_name="Sam", site_id=site["id"])
    other_site.take(logins.admin).end(by=logins.admin)
    other_site.survey(SurveyKind.CUSTOMER, {"rating": ["Good"]})

    presentation = drive("general", customer_name="Terry")
    presentation.take(logins.admin)
    presentation.screen(RecordingKind.PRESENTATION)
    presentation.end(by=logins.admin)
    presentation.survey(SurveyKind.CUSTOMER, {"rating": ["Good"]})
    presentation.survey(SurveyKind.REPRESENTATIVE, {"resolved": ["No"]}, by=logins.admin)

    waiting = drive("general", customer_name="Uma")
    active = drive(f"team:{personas.team_b}", customer_name="Vic")
    active.take(logins.rep_b).chat("Working on it", by=logins.rep_b)

    return History(
        full=full.lsid,
        transferred=transferred.lsid,
        embassy=embassy.lsid,
        other_site=other_site.lsid,
        presentation=presentation.lsid,
        waiting=waiting.lsid,
        active=active.lsid,
        logins=logins,
        screen_bytes=screen_bytes,
        shells=shells,
        questions=questions,
        other_site_id=site["id"],
    )
