"""join_session, transfer_session, terminate_session: an admin steering live sessions."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.sessions.models import SessionEvent
from lifeline.sessions.queries import session_by_lsid
from tests.support.appliance import RunningAppliance
from tests.support.command import CommandApi, error_of, local
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas

UNKNOWN_LSID = "c69a8e10bea9428f816cfababe9815fe"


def event_log(appliance: RunningAppliance, lsid: str) -> list[SessionEvent]:
    def read(session: Session) -> list[SessionEvent]:
        support_session = session_by_lsid(session, lsid)
        assert support_session is not None
        return list(
            session.scalars(
                select(SessionEvent).where(SessionEvent.session_id == support_session.id).order_by(SessionEvent.id)
            )
        )

    return appliance.with_session(read)


@pytest.fixture
def rep_b_online(node: ConsoleNode) -> Iterator[int]:
    gsnumber = node.log_in("rep_b")
    yield gsnumber
    node.log_out(gsnumber)


# --- join_session ---------------------------------------------------------------------


def test_an_admin_adds_a_logged_in_rep_to_a_session(
    api: CommandApi, personas: Personas, node: ConsoleNode, appliance: RunningAppliance, rep_b_online: int
) -> None:
    started = node.start_session()
    root = api.call("join_session", personas.admin.params, ns=True, lsid=started.lsid, rep_id=personas.rep_b.id)
    assert (local(root), root.text) == ("success", "Representative successfully added")
    log = event_log(appliance, started.lsid)
    added = next(e for e in log if e.event_type == "Conference Member Added")
    assert (added.destination_type, added.destination_gsnumber) == ("representative", rep_b_online)
    assert (added.performed_by_type, added.performed_by_name) == ("system", "API (admin)")
    assert dict(added.data)["username"] == "rep_b"
    assert node.session(started.lsid).owner_gsnumber == rep_b_online  # nobody owned it: now rep_b does


def test_join_session_takes_the_later_user_id_name_too(
    api: CommandApi, personas: Personas, node: ConsoleNode, rep_b_online: int
) -> None:
    started = node.start_session()
    root = api.call("join_session", personas.admin.params, lsid=started.lsid, user_id=personas.rep_b.id)
    assert root.text == "Representative successfully added"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lsid": UNKNOWN_LSID, "rep_id": "2"}, "No session with the given lsid exists"),
        ({"lsid": "not-an-lsid", "rep_id": "2"}, "The parameter lsid must be a 32-character hexadecimal session ID."),
        ({"rep_id": "2"}, "The required parameter lsid is missing."),
        ({"lsid": UNKNOWN_LSID}, "The required parameter rep_id is missing."),
        ({"lsid": UNKNOWN_LSID, "rep_id": "two"}, "The parameter rep_id must be an integer."),
    ],
)
def test_join_session_explains_bad_parameters(
    api: CommandApi, personas: Personas, params: dict[str, str], message: str
) -> None:
    assert error_of(api.call("join_session", personas.admin.params, **params)) == message


def test_a_rep_who_is_not_logged_in_cannot_be_added(api: CommandApi, personas: Personas, node: ConsoleNode) -> None:
    started = node.start_session()
    root = api.call("join_session", personas.admin.params, lsid=started.lsid, rep_id=personas.rep_a.id)
    assert error_of(root) == "The representative is not logged in"


def test_a_rep_already_in_the_session_is_not_added_twice(
    api: CommandApi, personas: Personas, node: ConsoleNode, rep_b_online: int
) -> None:
    started = node.start_session()
    api.call("join_session", personas.admin.params, lsid=started.lsid, rep_id=personas.rep_b.id)
    root = api.call("join_session", personas.admin.params, lsid=started.lsid, rep_id=personas.rep_b.id)
    assert error_of(root) == "The representative is already in this session"


# --- transfer_session -------------------------------------------------------------------


def test_an_admin_transfers_a_session_to_a_team_and_its_owner_leaves(
    api: CommandApi, personas: Personas, node: ConsoleNode, appliance: RunningAppliance
) -> None:
    gsnumber = node.log_in("rep_a")
    try:
        started = node.start_session(f"team:{personas.team_a}")
        node.take(started.lsid, gsnumber)
        root = api.call(
            "transfer_session", personas.admin.params, ns=True, lsid=started.lsid, queue_id=f"team:{personas.team_b}"
        )
        assert (local(root), root.text) == ("success", "Successfully transferred")
        moved = node.session(started.lsid)
        assert (moved.status, moved.queue_kind, moved.queue_ref_id, moved.owner_gsnumber) == (
            "waiting",
            "team",
            personas.team_b,
            None,
        )
        log = [e.event_type for e in event_log(appliance, started.lsid)]
        assert log[-2:] == ["Conference Member Departed", "Session Transferred to Queue"]
    finally:
        node.log_out(gsnumber)


@pytest.mark.parametrize("queue", ["general", "rep:{rep_b}", "rep_username:rep_b", "embassy:{embassy}"])
def test_a_session_can_be_transferred_to_any_queue_form(
    api: CommandApi, personas: Personas, node: ConsoleNode, queue: str
) -> None:
    started = node.start_session()
    queue_id = queue.format(rep_b=personas.rep_b.id, embassy=personas.embassy)
    root = api.call("transfer_session", personas.admin.params, lsid=started.lsid, queue_id=queue_id)
    assert root.text == "Successfully transferred"


def test_a_transfer_to_a_queue_that_does_not_exist_changes_nothing(
    api: CommandApi, personas: Personas, node: ConsoleNode
) -> None:
    started = node.start_session(f"team:{personas.team_a}")
    root = api.call("transfer_session", personas.admin.params, lsid=started.lsid, queue_id="team:424242")
    assert error_of(root) == "No support team has the ID 424242"
    assert node.session(started.lsid).queue_ref_id == personas.team_a


# --- terminate_session ------------------------------------------------------------------


def test_an_admin_terminates_a_session_once(
    api: CommandApi, personas: Personas, node: ConsoleNode, appliance: RunningAppliance
) -> None:
    started = node.start_session()
    root = api.call("terminate_session", personas.admin.params, lsid=started.lsid)
    assert (local(root), root.text) == ("success", "Successfully terminated")
    ended = node.session(started.lsid)
    assert ended.status == "ended"
    assert ended.end_time is not None
    last = event_log(appliance, started.lsid)[-1]
    assert (last.event_type, last.data) == ("Session End", [["reason", "terminated"]])
    assert error_of(api.call("terminate_session", personas.admin.params, lsid=started.lsid)) == (
        "The session has already ended"
    )


# --- who may -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["join_session", "transfer_session", "terminate_session"])
def test_only_admins_and_full_api_accounts_steer_sessions(
    api: CommandApi, personas: Personas, node: ConsoleNode, client: httpx.Client, action: str
) -> None:
    started = node.start_session()
    params = {"lsid": started.lsid, "rep_id": str(personas.rep_b.id), "queue_id": "general"}
    assert (
        error_of(api.call(action, personas.api_user.params, **params))
        == "This action requires administrator permission"
    )
    assert error_of(api.call(action, personas.rep_a.params, **params)) == (
        "This user does not have permission to use the command API"
    )
    assert error_of(api.call(action, personas.readonly.token(client), **params)) == (
        "This API account has read-only access to the command API"
    )
    assert node.session(started.lsid).status == "waiting"
    if action != "join_session":
        assert local(api.call(action, personas.integration.token(client), **params)) == "success"
