"""A shared screen across appliance processes (PostgreSQL and Redis shared): the Lifeline
client on one process, the watching console on the other gets its frames byte for byte and
controls it. Runs when DATABASE_URL and REDIS_URL point at real servers (as CI does)."""

from __future__ import annotations

from tests.support.appliance import RunningAppliance, needs_two_processes
from tests.support.client_socket import ProgramSocket
from tests.support.personas import Personas
from tests.support.screens import ScreenConsole, screen_frame, screen_frames, vp8_pictures
from tests.support.sockets import CustomerClient, sign_in, start_by_issue

pytestmark = needs_two_processes


def test_the_client_on_one_process_is_watched_and_controlled_from_the_other(
    pair: tuple[RunningAppliance, RunningAppliance], people: Personas
) -> None:
    first, second = pair
    alice = ScreenConsole(second, sign_in(second, "rep_a", people.rep_a.password))
    token = start_by_issue(first, "Pat Across", id=str(people.issue_started))
    customer = CustomerClient(first, token=token)
    lsid = customer.welcome["session"]["lsid"]
    alice.send({"type": "take", "ref": "take", "lsid": lsid})
    assert alice.ack("take")["ok"]
    client = ProgramSocket(first, token, allowed=["screen", "control"], flag=True)
    state = alice.until("computer")
    while state["allowed"] != ["screen", "control"]:
        state = alice.until("computer")

    alice.send({"type": "screen_watch", "ref": "watch", "lsid": lsid})
    assert alice.ack("watch")["ok"]
    alice.send({"type": "screen_start", "ref": "start", "lsid": lsid, "monitor": 1})
    start = client.until("start_screen")
    stream = start["stream"]
    client.send({"type": "screen_started", "stream": stream, "width": 64, "height": 48, "monitor": 1})
    client.send({"type": "done", "request": start["request"]})
    assert alice.ack("start")["ok"]
    alice.screen(lambda s: s["share"] is not None and s["share"]["stream"] == stream)
    assert client.until("key_frame")["stream"] == stream  # asked from the other process
    # Redis relays a stream to a process once it listens: keep sending until a key frame lands.
    pictures = vp8_pictures()
    sent: list[bytes] = []
    for round_ in range(20):
        for n, (payload, key) in enumerate(pictures):
            frame = screen_frame(stream, round_ * len(pictures) + n + 1, payload, key=key)
            client.socket.send_binary(frame)
            sent.append(frame)
        try:
            got = screen_frames(alice, stream, len(pictures), timeout=0.5)
            break
        except TimeoutError:
            continue
    else:
        raise AssertionError("no frames crossed to the other process")
    start_at = sent.index(got[0])
    assert got == sent[start_at : start_at + len(pictures)]
    assert binary_key(got[0])

    alice.send({"type": "screen_control", "ref": "take-control", "lsid": lsid})
    assert alice.ack("take-control")["ok"]
    alice.screen(lambda s: s["controller"] is not None)
    alice.send({"type": "screen_input", "lsid": lsid, "events": [{"kind": "move", "x": 1, "y": 2}]})
    assert client.until("screen_input")["events"] == [{"kind": "move", "x": 1, "y": 2}]
    # The client comes back through the other process: its share ends; the rep starts it again.
    moved = ProgramSocket(second, token, allowed=["screen", "control"], flag=True)
    ended = alice.screen(lambda s: s["share"] is None)
    assert ended["error"] == "The customer's Lifeline client disconnected"
    assert client.close_code() == 4409
    moved.close()
    alice.send({"type": "end", "ref": "end", "lsid": lsid})
    alice.ack("end")
    alice.close()
    customer.close()


def binary_key(frame: bytes) -> bool:
    from lifeline_protocol import binary

    return binary.unpack_header(frame).key
