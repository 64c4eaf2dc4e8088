"""An open console lives only as long as its sign-in: disabling the rep, a new password, or
signing out closes it (code 4401, the console's sign-in page) and logs the rep out; every
action also checks the sign-in in its own transaction."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import delete, select

from lifeline.directory.models import SignIn
from lifeline.sessions.models import EventType, SessionEvent, SupportSession
from tests.admin.helpers import csrf_of
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import CommandApi
from tests.support.personas import Personas
from tests.support.sockets import Console, sign_in, start_by_issue

SIGNED_OUT = 4401
_names = itertools.count(1)


def new_rep(appliance: RunningAppliance) -> tuple[str, str]:
    """A rep of their own (Team A, so sessions can reach them), signed in: (username, cookie)."""
    username = f"leaver{next(_names)}"
    appliance.cli("user", "add", username, "--password", f"{username}-password", "--support")
    appliance.cli("team", "set", "Team A", "--member", username)
    return username, sign_in(appliance, username, f"{username}-password")


def listed(api: CommandApi, personas: Personas) -> set[str]:
    return {rep.get("id") or "" for rep in api.call("get_logged_in_reps", personas.admin.params)}


@pytest.mark.parametrize(
    "change", [("--no-enabled",), ("--password", "a-brand-new-password")], ids=["disabled", "new password"]
)
def test_a_change_made_with_the_command_closes_the_open_console(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, change: tuple[str, ...]
) -> None:
    username, cookie = new_rep(appliance)
    console = Console(appliance, cookie)
    rep_id = str(console.welcome["user"]["id"])
    eventually(lambda: _check(rep_id in listed(api, personas)))
    appliance.cli("user", "set", username, *change)
    assert console.close_code(timeout=5) == SIGNED_OUT
    eventually(lambda: _check(rep_id not in listed(api, personas)))  # logged out, not kept for a reconnect


def test_signing_out_closes_that_browsers_console(appliance: RunningAppliance) -> None:
    _, cookie = new_rep(appliance)
    console = Console(appliance, cookie)
    name, value = cookie.split("=", 1)
    with appliance.client(cookies={name: value}) as browser:
        signed_out = browser.post("/console/logout", data={"csrf": csrf_of(browser.get("/console"))})
        assert signed_out.status_code == 303
    assert console.close_code(timeout=5) == SIGNED_OUT


def test_every_action_checks_the_sign_in(appliance: RunningAppliance, personas: Personas) -> None:
    """Even if the socket were not closed (here: the sign-in is removed behind the
    appliance's back, with no change stamp or live event), nothing more is done through it."""
    _, cookie = new_rep(appliance)
    console = Console(appliance, cookie)
    directory_followed(appliance)
    start_by_issue(appliance, "Pat Waiting", id=str(personas.issue_started))
    lsid = console.until("session")["session"]["lsid"]
    appliance.db.call(lambda session: session.execute(delete(SignIn).where(SignIn.user_id == console_user(console))))
    for message in (
        {"type": "take", "lsid": lsid},
        {"type": "chat", "lsid": lsid, "body": "still here?"},
        {"type": "showing", "value": False},
    ):
        console.send({**message, "ref": message["type"]})
        refused = console.ack(message["type"])
        assert (refused["ok"], refused["error"]) == (False, "your sign-in has ended; sign in again")
    console.close()


def test_a_rep_in_the_session_is_refused_a_chat_line_once_the_sign_in_ends(
    appliance: RunningAppliance, personas: Personas
) -> None:
    """The chat line asks for the sender and the sign-in in one query: a rep who is in the
    session still cannot chat once the sign-in is gone, and the line is not logged."""
    _, cookie = new_rep(appliance)
    console = Console(appliance, cookie)
    directory_followed(appliance)
    start_by_issue(appliance, "Pat Talking", id=str(personas.issue_started))
    lsid = console.until("session")["session"]["lsid"]
    for message in ({"type": "take", "lsid": lsid}, {"type": "chat", "lsid": lsid, "body": "hello"}):
        console.send({**message, "ref": message["type"]})
        assert console.ack(message["type"])["ok"] is True
    appliance.db.call(lambda session: session.execute(delete(SignIn).where(SignIn.user_id == console_user(console))))
    console.send({"type": "chat", "lsid": lsid, "body": "still here?", "ref": "late"})
    refused = console.ack("late")
    assert (refused["ok"], refused["error"]) == (False, "your sign-in has ended; sign in again")
    lines = appliance.db.call(
        lambda session: list(
            session.scalars(
                select(SessionEvent.body)
                .join(SupportSession, SupportSession.id == SessionEvent.session_id)
                .where(SupportSession.lsid == lsid, SessionEvent.event_type == EventType.CHAT_MESSAGE.value)
            )
        )
    )
    assert lines == ["hello"]
    console.close()


def directory_followed(appliance: RunningAppliance) -> None:
    """Wait until the appliance has followed every user change made so far (the new rep's
    own included): a canary rep is disabled after them, and its console closing shows the
    change was seen. Otherwise a late look at an earlier change would close the console
    under test for the removed sign-in, before its actions could be refused one by one."""
    canary, cookie = new_rep(appliance)
    watcher = Console(appliance, cookie)
    appliance.cli("user", "set", canary, "--no-enabled")
    assert watcher.close_code(timeout=10) == SIGNED_OUT


def console_user(console: Console) -> int:
    user_id: int = console.welcome["user"]["id"]
    return user_id


def _check(condition: bool) -> None:
    assert condition
