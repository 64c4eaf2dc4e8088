"""The representative exit survey belongs to the representative who ended the session: not
to a member they invited, and never to a rep of another team who names the session's lsid."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.sessions.models import SupportSession
from lifeline.surveys.models import SurveyResponse
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, sign_in, start_by_issue

FOR_THE_ENDING_REP = "the representative exit survey is for the representative who ended the session"


@pytest.fixture(scope="module")
def question_id(appliance: RunningAppliance, personas: Personas) -> int:
    added = appliance.cli_json(
        "survey",
        "add",
        "representative",
        "--name",
        "resolved",
        "--label",
        "Resolved?",
        "--type",
        "select",
        "--option",
        "Yes",
        "--option",
        "No",
    )
    return int(added["id"])


def console_of(appliance: RunningAppliance, username: str, password: str) -> Console:
    return Console(appliance, sign_in(appliance, username, password))


def survey(console: Console, lsid: str, question_id: int, ref: str) -> dict[str, object]:
    console.send({"type": "survey", "ref": ref, "lsid": lsid, "answers": {str(question_id): ["Yes"]}})
    return console.ack(ref)


def answers_stored(appliance: RunningAppliance, lsid: str) -> int:
    def count(session: Session) -> int:
        return int(
            session.scalar(
                select(func.count(SurveyResponse.id))
                .join(SupportSession, SupportSession.id == SurveyResponse.session_id)
                .where(SupportSession.lsid == lsid, SurveyResponse.survey == "representative")
            )
        )

    return appliance.with_session(count)


def test_only_the_rep_who_ended_the_session_files_its_exit_survey(
    appliance: RunningAppliance, personas: Personas, question_id: int
) -> None:
    alice = console_of(appliance, "rep_a", personas.rep_a.password)
    bob = console_of(appliance, "rep_b", personas.rep_b.password)
    erin = console_of(appliance, "embassy_rep", personas.embassy_rep.password)
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Sam", id=str(personas.issue_started)))
    lsid = customer.welcome["session"]["lsid"]
    alice.send({"type": "take", "ref": "take", "lsid": lsid})
    assert alice.ack("take")["ok"]
    alice.send({"type": "invite", "ref": "invite", "lsid": lsid, "rep_id": personas.rep_b.id})
    assert alice.ack("invite")["ok"]
    alice.send({"type": "end", "ref": "end", "lsid": lsid})
    assert alice.ack("end")["ok"]

    invited = survey(bob, lsid, question_id, "bob")
    assert (invited["ok"], invited["error"]) == (False, FOR_THE_ENDING_REP)
    stranger = survey(erin, lsid, question_id, "erin")  # another team's rep, never in the session
    assert (stranger["ok"], stranger["error"]) == (False, FOR_THE_ENDING_REP)
    assert survey(alice, lsid, question_id, "alice")["ok"] is True
    assert answers_stored(appliance, lsid) == 1
    for console in (alice, bob, erin):
        console.send({"type": "logout"})
        console.close()
    customer.close()
