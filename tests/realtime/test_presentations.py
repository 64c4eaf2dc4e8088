"""Presentations: a rep presents from the console, attendees join with the presentation's
key (or its link) on /ws/attendee, everyone chats, and it ends when the rep ends it or logs
out. The Command API counts and lists them; the support-session reports leave them out."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lifeline_protocol import binary
from lifeline_protocol import console as wire

from tests.realtime.test_bad_frames import ANSWERED, answered_and_alive
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_LATER, CommandApi, local
from tests.support.personas import Personas
from tests.support.reporting import Reporters, ReportingApi, children, provision_reporters
from tests.support.sockets import BROWSER, Attendee, Console, Socket, sign_in
from tests.support.xmlcheck import q, text_of


@pytest.fixture(scope="module")
def cookie(appliance: RunningAppliance, personas: Personas) -> str:
    return sign_in(appliance, "rep_a", personas.rep_a.password)


@pytest.fixture
def console(appliance: RunningAppliance, cookie: str) -> Iterator[Console]:
    opened = Console(appliance, cookie)
    yield opened
    with contextlib.suppress(Exception):  # the test may have logged out already
        opened.send({"type": "logout"})
        opened.close()


def present(console: Console, ref: str = "present-1") -> dict[str, Any]:
    console.send(wire.PresentationStart(ref=ref))
    answer = console.ack(ref)
    assert answer["ok"], answer
    return dict(answer["result"])


def rep_counts(api: CommandApi, personas: Personas) -> tuple[str, str]:
    root = api.call("get_logged_in_reps", personas.admin.params)
    [rep] = [r for r in root if r.get("id") == str(personas.rep_a.id)]
    return text_of(rep, NS_LATER, "presentation_count"), text_of(rep, NS_LATER, "support_session_count")


def attendee_count(api: CommandApi, personas: Personas) -> str:
    root = api.call("get_connected_client_list", personas.api_user.params, summary_only="1")
    counts = {c.get("type"): c.text for c in root.iter(q(NS_LATER, "count"))}
    return counts["presentation_attendee"]


def test_attendees_join_chat_with_the_presenter_and_each_other_and_are_told_it_ended(
    appliance: RunningAppliance, console: Console, api: CommandApi, personas: Personas
) -> None:
    started = present(console)
    lsid, short_key = started["lsid"], started["short_key"]
    assert re.fullmatch(r"\d{7}", short_key)
    link = re.fullmatch(r"https://support\.example\.com(?::\d+)?/presentation/([0-9a-f]{32})", started["url"])
    assert link is not None, started["url"]

    ann = Attendee(appliance, key=short_key, name="Ann Attendee", timezone_offset=3600)
    assert ann.welcome["type"] == "welcome", ann.welcome
    assert ann.welcome["presentation"]["presenter"] == "Alice Rep"
    assert [a["name"] for a in ann.welcome["presentation"]["attendees"]] == ["Ann Attendee"]
    bob = Attendee(appliance, key=link.group(1), name="  Bob   Viewer ")
    assert bob.welcome["name"] == "Bob Viewer"
    while [a["name"] for a in ann.until("state")["presentation"]["attendees"]] != ["Ann Attendee", "Bob Viewer"]:
        pass  # Ann may be told the presentation again first, as she joined

    def console_sees_both() -> None:
        state = console.until("session")["session"]
        assert (state["session_type"], state["lsid"], state["status"]) == ("presentation", lsid, "active")
        names = [a["name"] for a in state["presentation"]["attendees"]]
        assert names == ["Ann Attendee", "Bob Viewer"], names

    eventually(console_sees_both)

    bob.send({"type": "chat", "ref": "b1", "body": "Hello everyone"})
    assert bob.ack("b1")["ok"]
    line = ann.event("Chat Message")["event"]
    assert (line["body"], line["performed_by"]["name"]) == ("Hello everyone", "Bob Viewer")
    assert console.event("Chat Message")["event"]["body"] == "Hello everyone"
    console.send(wire.Chat(ref="c1", lsid=lsid, body="Welcome, both of you"))
    assert console.ack("c1")["ok"]
    assert bob.event("Chat Message")["event"]["performed_by"]["name"] == "Alice Rep"

    assert eventually(lambda: _equal(rep_counts(api, personas), ("1", "0")))
    assert eventually(lambda: _equal(attendee_count(api, personas), "2"))
    root = api.call(
        "get_connected_clients", personas.api_user.params, type="presentation_attendee", include_connections="1"
    )
    by_id = {c.get("id"): c for c in root}
    ann_client = by_id[str(ann.welcome["gsnumber"])]
    assert local(ann_client) == "connected_presentation_attendee"
    assert [local(c) for c in ann_client] == [
        "hostname",
        "platform",
        "timezone_offset",
        "connected_since",
        "connections",
    ]
    assert text_of(ann_client, NS_LATER, "platform") == "web"
    assert text_of(ann_client, NS_LATER, "timezone_offset") == "3600"
    since = ann_client.find(q(NS_LATER, "connected_since"))
    assert since is not None and abs(int(since.get("ts") or 0) - time.time()) < 60
    [connection] = ann_client.findall(q(NS_LATER, "connections/connection"))
    assert (connection.get("type"), connection.get("lsid"), connection.get("role")) == (
        "presentation",
        lsid,
        "attendee",
    )
    rep = api.call(
        "get_connected_clients", personas.api_user.params, id=str(console.welcome["gsnumber"]), include_connections="1"
    )
    [presenter] = rep.findall(q(NS_LATER, "connected_representative/connections/connection"))
    assert (presenter.get("type"), presenter.get("role")) == ("presentation", "presenter")

    console.send(wire.PresentationEnd(ref="end-1", lsid=lsid))
    assert console.ack("end-1")["ok"]
    assert ann.event("Session End")["event"]["type"] == "Session End"
    assert ann.until("state")["presentation"]["status"] == "ended"
    assert ann.close_code() == 4410
    assert bob.close_code() == 4410
    assert eventually(lambda: _equal(rep_counts(api, personas), ("0", "0")))
    assert eventually(lambda: _equal(attendee_count(api, personas), "0"))
    late = Attendee(appliance, key=short_key, name="Late Larry")
    assert late.welcome == {"type": "gone", "error": "This presentation is over."}


def test_a_presentation_ends_when_its_presenter_logs_out(
    appliance: RunningAppliance, console: Console, api: CommandApi, personas: Personas
) -> None:
    started = present(console, "present-2")
    ann = Attendee(appliance, key=started["short_key"], name="Ann")
    console.send({"type": "logout", "ref": "bye"})
    assert ann.event("Session End")["event"]["data"] == [["reason", "presenter logged out"]]
    assert ann.close_code() == 4410


def test_one_presentation_at_a_time_and_only_its_presenter_ends_it(
    appliance: RunningAppliance, console: Console, personas: Personas
) -> None:
    started = present(console, "present-3")
    console.send(wire.PresentationStart(ref="again"))
    assert console.ack("again")["error"] == "You are already presenting; end that presentation first"
    bob_cookie = sign_in(appliance, "rep_b", personas.rep_b.password)
    other = Console(appliance, bob_cookie)
    try:
        other.send(wire.PresentationEnd(ref="not-mine", lsid=started["lsid"]))
        assert other.ack("not-mine")["error"] == "Only the session's owner can do that"
        # A presentation is no support session: nobody is invited in, it is not transferred or left.
        console.send(wire.Invite(ref="invite", lsid=started["lsid"], rep_id=personas.rep_b.id))
        assert console.ack("invite")["error"] == "A presentation has one presenter: nobody else joins it"
        console.send(wire.Transfer(ref="transfer", lsid=started["lsid"], queue="general"))
        assert console.ack("transfer")["error"] == "A presentation is not in a queue: it cannot be transferred"
        console.send(wire.Leave(ref="leave", lsid=started["lsid"]))
        assert console.ack("leave")["error"] == "A presenter does not leave a presentation: end it instead"
    finally:
        other.send({"type": "logout"})
        other.close()
    console.send(wire.PresentationEnd(ref="end-3", lsid=started["lsid"]))
    assert console.ack("end-3")["ok"]


def test_a_wrong_key_or_a_support_key_joins_nothing(appliance: RunningAppliance, console: Console) -> None:
    unknown = Attendee(appliance, key="1234567", name="Guesser")
    assert unknown.welcome["type"] == "gone"
    assert "no presentation with that key" in unknown.welcome["error"]
    console.send(wire.GenerateKey(ref="k"))
    support_key = console.ack("k")["result"]["short_key"]
    wrong_kind = Attendee(appliance, key=support_key, name="Guesser")
    assert wrong_kind.welcome["type"] == "gone"


def test_an_attendee_must_give_a_name_fit_for_the_log(appliance: RunningAppliance, console: Console) -> None:
    started = present(console, "present-6")
    blank = Attendee(appliance, key=started["short_key"], name="   ")
    assert blank.welcome == {"type": "gone", "error": "Please give your name"}
    control = Attendee(appliance, key=started["short_key"], name="Eve\x07")
    assert control.welcome == {"type": "gone", "error": "Your name contains characters that are not allowed"}
    console.send(wire.PresentationEnd(ref="end-6", lsid=started["lsid"]))
    assert console.ack("end-6")["ok"]


def test_the_public_key_form_and_the_link_open_the_attendee_page(appliance: RunningAppliance, console: Console) -> None:
    started = present(console, "present-4")
    url_key = started["url"].rsplit("/", 1)[1]
    with appliance.client(follow_redirects=False, headers=BROWSER) as client:
        typed = client.get("/api/start_session", params={"short_key": started["short_key"]})
        assert (typed.status_code, typed.headers["location"]) == (303, f"/presentation/{started['short_key']}")
        linked = client.get("/", params={"ak": url_key})
        assert (linked.status_code, linked.headers["location"]) == (303, f"/presentation/{url_key}")
        page = client.get(f"/presentation/{url_key}")
        assert page.status_code == 200
        assert f'data-key="{url_key}"' in page.text
        assert client.get("/presentation/..%2Fetc").status_code == 404
        # An integration's API call with the key starts no support session.
        api_start = client.get(
            "/api/start_session", params={"short_key": started["short_key"]}, headers={"Accept": "*/*"}
        )
        assert api_start.status_code == 409
    console.send(wire.PresentationEnd(ref="end-4", lsid=started["lsid"]))
    assert console.ack("end-4")["ok"]


def test_presentations_are_not_support_sessions_in_the_reports(
    appliance: RunningAppliance, console: Console, client: Any, personas: Personas
) -> None:
    reporters: Reporters = provision_reporters(appliance, personas.rep_b, personas.integration)
    reporting = ReportingApi(client)
    started = present(console, "present-5")
    console.send(wire.PresentationEnd(ref="end-5", lsid=started["lsid"]))
    assert console.ack("end-5")["ok"]
    window = {"start_date": "2000-01-01", "duration": "0"}
    listing = reporting.call("SupportSessionListing", reporters.everything.params, **window)
    assert started["lsid"] not in {s.get("lsid") for s in children(listing, "session_summary")}
    one = reporting.call("SupportSession", reporters.everything.params, lsid=started["lsid"])
    assert children(one, "session") == []
    summary = reporting.call("SupportSessionSummary", reporters.everything.params, **window)
    assert summary is not None


def _equal(got: Any, expected: Any) -> bool:
    assert got == expected, got
    return True


@pytest.mark.parametrize(("name", "send"), ANSWERED, ids=[name for name, _ in ANSWERED])
def test_an_attendee_socket_answers_a_bad_frame_and_stays(
    appliance: RunningAppliance, console: Console, name: str, send: Callable[[Socket], None]
) -> None:
    started = present(console, f"present-bad-{name}")
    ann = Attendee(appliance, key=started["short_key"], name="Ann")
    send(ann)
    answered_and_alive(ann, name)
    ann.send({"type": "key_frame", "ref": "k"})  # nothing is shown yet
    assert ann.ack("k")["error"] == "The presenter is not showing their screen"
    console.send(wire.PresentationEnd(ref=f"end-bad-{name}", lsid=started["lsid"]))
    assert console.ack(f"end-bad-{name}")["ok"]


def test_only_the_presenter_shares_and_a_stray_frame_is_dropped(appliance: RunningAppliance, console: Console) -> None:
    started = present(console, "present-7")
    console.send(wire.PresentationShare(ref="too-big", lsid=started["lsid"], width=8000, height=8000))
    assert "larger than the appliance allows" in console.ack("too-big")["error"]
    console.send(wire.PresentationShare(ref="not-one", lsid="0" * 32, width=64, height=48))
    assert console.ack("not-one")["error"] == "no such presentation"
    console.send(wire.PresentationUnshare(ref="nothing", lsid=started["lsid"]))
    assert console.ack("nothing")["error"] == "You are not presenting that presentation"
    # A frame of a stream this console does not send is dropped (and logged); the socket stays.
    console.socket.send_binary(binary.pack(binary.Header(binary.FrameKind.SCREEN, 12345, 1, key=True), b"vp8"))
    console.send({"type": "ping"})
    assert console.until("pong")["type"] == "pong"
    console.send(wire.PresentationEnd(ref="end-7", lsid=started["lsid"]))
    assert console.ack("end-7")["ok"]
