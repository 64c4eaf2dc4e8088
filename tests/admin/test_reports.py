"""Reports in /login: sessions found by date, rep, team, site and external key; a session's
summary, ordered event log, chat, files and surveys; team summaries with a chart; and each
user seeing no more than their perm_view_reports allows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from lifeline.directory.models import User
from lifeline.presence.models import ClientConnection
from lifeline.recordings.filestore import FileStore
from lifeline.sessions import actions as engine
from lifeline.sessions.activity import FileSent, record_file, send_chat
from lifeline.sessions.queries import session_by_lsid
from lifeline.surveys.actions import QuestionType, SurveyKind, add_question, submit_survey
from tests.admin.helpers import AdminClient, signed_in
from tests.support.appliance import RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas

FILE_BODY = b"paper jam in tray 2\n"


@dataclass(frozen=True)
class Desk:
    printer: str  # lsid: Team A, rep_a, INC-1001, chat, a file, surveys
    vpn: str  # lsid: Team B, rep_b, INC-2002


def run_session(
    appliance: RunningAppliance, node: ConsoleNode, rep: str, queue: str, customer: str, key: str, lines: list[str]
) -> str:
    gsnumber = node.log_in(rep)
    started = node.start_session(queue, customer_name=customer, external_key=key)
    node.take(started.lsid, gsnumber)
    stored = FileStore(appliance.data_dir / "files").put_bytes(FILE_BODY)

    def work(session: Session) -> None:
        support_session = session_by_lsid(session, started.lsid)
        connection = session.get(ClientConnection, gsnumber)
        assert support_session is not None and connection is not None and connection.user_id is not None
        user = session.get(User, connection.user_id)
        assert user is not None
        rep_actor = engine.rep_actor(connection, user)
        customer_actor = engine.customer_actor(session, support_session)
        for n, line in enumerate(lines):
            send_chat(session, support_session, rep_actor if n % 2 == 0 else customer_actor, line)
        record_file(session, support_session, customer_actor, FileSent("printer.log", stored.size, stored.sha256))
        engine.end_session(session, support_session, rep_actor)
        submit_survey(session, support_session, SurveyKind.CUSTOMER, customer_actor, {1: ["Great"]})

    appliance.call(work)
    node.log_out(gsnumber)
    return started.lsid


@pytest.fixture(scope="module")
def desk(appliance: RunningAppliance, personas: Personas, node: ConsoleNode) -> Desk:
    appliance.call(
        lambda session: add_question(
            session,
            SurveyKind.CUSTOMER,
            name="rating",
            label="How did we do?",
            question_type=QuestionType.RADIO,
            report_header="Rating",
            options=["Great", "Poor"],
        )
    )
    printer = run_session(
        appliance,
        node,
        "rep_a",
        f"team:{personas.team_a}",
        "Pat Printer",
        "INC-1001",
        ["Hello, how can I help?", "My printer prints <blank> pages & smiles", "Try this"],
    )
    vpn = run_session(appliance, node, "rep_b", f"team:{personas.team_b}", "Val VPN", "INC-2002", ["Hi", "VPN down"])
    return Desk(printer, vpn)


def found(page: str) -> list[str]:
    return re.findall(r'href="/login/reports/sessions/(\w{32})"', page)


def test_an_admin_finds_sessions_by_external_key_rep_team_and_site(
    admin: AdminClient, desk: Desk, personas: Personas
) -> None:
    everything = admin.get("/login/reports").text
    assert found(everything) == [desk.vpn, desk.printer]  # newest first
    assert "INC-1001" in everything
    assert found(admin.get("/login/reports", params={"external_key": "inc-100"}).text) == [desk.printer]
    assert found(admin.get("/login/reports", params={"external_key": "%"}).text) == []  # not a wildcard
    assert found(admin.get("/login/reports", params={"rep": str(personas.rep_b.id)}).text) == [desk.vpn]
    assert found(admin.get("/login/reports", params={"team": str(personas.team_a)}).text) == [desk.printer]
    assert found(admin.get("/login/reports", params={"site": "1"}).text) == [desk.vpn, desk.printer]
    assert found(admin.get("/login/reports", params={"site": "999"}).text) == []


def test_sessions_are_found_by_date(admin: AdminClient, desk: Desk) -> None:
    today = date.today()
    around = {"since": (today - timedelta(days=1)).isoformat(), "until": (today + timedelta(days=1)).isoformat()}
    assert len(found(admin.get("/login/reports", params=around).text)) == 2
    later = {"since": (today + timedelta(days=2)).isoformat(), "until": (today + timedelta(days=3)).isoformat()}
    assert found(admin.get("/login/reports", params=later).text) == []
    backwards = admin.get("/login/reports", params={"since": "2024-02-01", "until": "2024-01-01"})
    assert backwards.status_code == 400
    assert "The first day comes after the last one." in backwards.text
    assert "Dates are written YYYY-MM-DD." in admin.get("/login/reports", params={"since": "yesterday"}).text


def test_a_session_page_tells_the_whole_story(admin: AdminClient, desk: Desk) -> None:
    page = admin.get(f"/login/reports/sessions/{desk.printer}")
    assert page.status_code == 200
    text = page.text
    summary = text.split('id="summary"')[1].split("</section>")[0]
    assert "Pat Printer" in summary
    assert "Alice Rep" in summary
    assert "Team A" in summary
    assert '<dd class="external-key" id="external-key">INC-1001</dd>' in summary
    transcript = text.split('id="transcript"')[1].split("</section>")[0]
    assert transcript.index("Hello, how can I help?") < transcript.index("prints &lt;blank&gt; pages &amp; smiles")
    assert "printer.log" in transcript
    log = text.split('id="event-log"')[1]
    kinds = re.findall(r"<td>([A-Z][A-Za-z ]+)</td>\s*<td>", log)
    assert kinds[0] == "Session Start"
    assert kinds.index("Chat Message") < kinds.index("File Download") < kinds.index("Session End")
    assert kinds[-1] == "Customer Exit Survey"
    surveys = text.split('id="surveys"')[1].split("</section>")[0]
    assert "<dt>Rating</dt><dd>Great</dd>" in surveys
    file_link = re.search(r'href="(/login/reports/files/\d+)">printer.log<', text)
    assert file_link
    download = admin.get(file_link.group(1))
    assert download.content == FILE_BODY
    assert "attachment" in download.headers["content-disposition"]


def test_unknown_sessions_and_files_are_not_found(admin: AdminClient) -> None:
    assert admin.get("/login/reports/sessions/" + "f" * 32).status_code == 404
    assert admin.get("/login/reports/sessions/short").status_code == 404
    assert admin.get("/login/reports/files/99999").status_code == 404


def test_team_summaries_and_a_chart(admin: AdminClient, desk: Desk, personas: Personas) -> None:
    page = admin.get("/login/reports/teams").text
    rows = page.split('id="team-summaries"')[1]
    team_a = rows.split(">Team A</a>")[1].split("</tr>")[0]
    assert re.findall(r'class="num">([^<]*)<', team_a)[:2] == ["1", "1"]
    assert page.count("<rect ") == 30  # a bar per day of the last 30 days
    assert 'aria-label="Sessions per day: 2 in all"' in page
    activity = admin.get("/login/reports/teams", params={"team": str(personas.team_b)}).text
    table = activity.split('id="team-activity"')[1]
    assert "Val VPN" in table
    assert "VPN down" in table
    assert "Pat Printer" not in table


def test_reps_see_only_the_reports_their_permission_allows(
    appliance: RunningAppliance, desk: Desk, personas: Personas
) -> None:
    nora = signed_in(appliance, "no_api", personas.no_api.password)  # perm_view_reports none
    assert nora.get("/login/reports").status_code == 403
    assert 'href="/login/reports"' not in nora.get("/login/account").text
    nora.close()

    appliance.cli("user", "set", "rep_a", "--view-reports", "user_sessions")
    alice = signed_in(appliance, "rep_a", personas.rep_a.password)
    assert found(alice.get("/login/reports").text) == [desk.printer]
    assert alice.get(f"/login/reports/sessions/{desk.printer}").status_code == 200
    assert alice.get(f"/login/reports/sessions/{desk.vpn}").status_code == 404
    teams = alice.get("/login/reports/teams").text
    assert 'aria-label="Sessions per day: 1 in all"' in teams
    alice.close()

    appliance.cli(
        "user", "add", "rep_b2", "--password", "rep_b2-password", "--support", "--view-reports", "team_sessions"
    )
    appliance.cli("team", "set", "Team B", "--member", "rep_b2")
    teammate = signed_in(appliance, "rep_b2", "rep_b2-password")
    assert found(teammate.get("/login/reports").text) == [desk.vpn]
    options = teammate.get("/login/reports").text.split('name="team"')[1].split("</select>")[0]
    assert "Team B" in options
    assert "Team A" not in options
    teams_page = teammate.get("/login/reports/teams")
    assert teams_page.status_code == 200, teams_page.text[:300]
    assert 'aria-label="Sessions per day: 1 in all"' in teams_page.text
    team_b = teams_page.text.split('id="team-summaries"')[1].split(">Team B</a>")[1].split("</tr>")[0]
    assert re.findall(r'class="num">([^<]*)<', team_b)[:2] == ["1", "1"]
    activity = teammate.get("/login/reports/teams", params={"team": str(personas.team_b)})
    assert activity.status_code == 200
    assert "Val VPN" in activity.text.split('id="team-activity"')[1]
    teammate.close()
