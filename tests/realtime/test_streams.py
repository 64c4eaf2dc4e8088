"""Binary streams through the hub's relay, with real Peers on a real bus: a viewer that
never drains holds at most its bound and starts again at the next key frame once it has
caught up, the sender's call never waits, a fast viewer gets every frame, and text keeps
its order and its guarantee beside the frames."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import lifeline_protocol.binary as binary
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifeline_protocol.binary import FrameKind, Header

from lifeline.bus import InProcessBus
from lifeline.realtime.hub import Hub, Peer
from lifeline.realtime.streams import KEY_REQUEST_SECONDS, LANE_FRAMES, VIEWER_BYTES, KeyFrameWanted, StreamRelay
from lifeline.runtime import Runtime

STREAM = 7


class Sender:
    """A screen sender: numbered frames of one stream, a key frame when asked."""

    def __init__(self, relay: StreamRelay, stream: int = STREAM, size: int = 1000) -> None:
        self.relay = relay
        self.stream = stream
        self.size = size
        self.sequence = 0

    def frame(self, *, key: bool = False) -> bytes:
        self.sequence += 1
        header = Header(FrameKind.SCREEN, self.stream, self.sequence, key=key)
        payload = self.sequence.to_bytes(4, "big") * (self.size // 4)
        data = binary.pack(header, payload)
        self.relay.send(header, data)
        return data


def sequence_of(frame: bytes) -> int:
    return binary.unpack_header(frame).sequence


def one_viewer(bus: InProcessBus, size: int = 1000) -> tuple[StreamRelay, Sender, Peer]:
    """A relay, a sender of STREAM and a viewer watching it."""
    relay = StreamRelay(bus)
    viewer = Peer(1)
    relay.watch(viewer, STREAM)
    return relay, Sender(relay, size=size), viewer


def drain(peer: Peer, most: int | None = None) -> list[bytes]:
    taken: list[bytes] = []
    while len(taken) != most and (frame := peer.frames.take()) is not None:
        taken.append(frame)
    return taken


@pytest.fixture
def bus() -> InProcessBus:
    return InProcessBus()


@pytest.fixture
def key_requests(bus: InProcessBus) -> list[int]:
    asked: list[int] = []
    bus.subscribe(lambda event: asked.append(event.stream) if isinstance(event, KeyFrameWanted) else None)
    return asked


def test_a_viewer_starts_at_a_key_frame_and_asks_for_one(bus: InProcessBus, key_requests: list[int]) -> None:
    relay = StreamRelay(bus)
    sender = Sender(relay)
    sender.frame(key=True)
    sender.frame()
    viewer = Peer(1)
    relay.watch(viewer, STREAM)
    assert key_requests == [STREAM]
    sender.frame()  # a delta frame: useless without the key frame before it
    assert drain(viewer) == []
    key = sender.frame(key=True)
    after = sender.frame()
    assert drain(viewer) == [key, after]


def test_a_viewer_that_never_drains_holds_at_most_its_bound_and_resumes_at_the_next_key_frame(
    bus: InProcessBus, key_requests: list[int]
) -> None:
    _, sender, stalled = one_viewer(bus, size=200_000)
    sender.frame(key=True)
    for n in range(550):  # the last key frame 50 frames ago: its lane filled up since
        sender.frame(key=n % 100 == 99)
        assert stalled.frames.held <= VIEWER_BYTES
    assert stalled.frames.dropped > 450
    # Still behind a while later: its relay asks the sender for a key frame again.
    time.sleep(KEY_REQUEST_SECONDS)
    key_requests.clear()
    sender.frame()
    assert key_requests == [STREAM]
    # What it holds is a run that decodes: a key frame and the frames right after it.
    held = drain(stalled)
    assert binary.unpack_header(held[0]).key
    assert [sequence_of(f) for f in held] == list(range(sequence_of(held[0]), sequence_of(held[0]) + len(held)))
    # Caught up: it skips to the next key frame.
    sender.frame()
    assert drain(stalled) == []
    key = sender.frame(key=True)
    assert drain(stalled) == [key]


def test_a_viewer_of_small_frames_is_never_more_than_a_lane_behind(bus: InProcessBus) -> None:
    _, sender, stalled = one_viewer(bus, size=100)
    for n in range(1000):
        sender.frame(key=n % 60 == 0)
    held = drain(stalled)
    assert 0 < len(held) <= LANE_FRAMES
    # The last key frame replaced what was waiting before it.
    assert sequence_of(held[0]) == 961


def test_the_sender_never_waits_and_a_fast_viewer_gets_every_frame(bus: InProcessBus) -> None:
    relay = StreamRelay(bus)
    sender = Sender(relay, size=50_000)
    fast, stalled = Peer(1), Peer(2)
    relay.watch(fast, STREAM)
    relay.watch(stalled, STREAM)
    got: list[int] = []

    async def watch() -> None:
        while len(got) < 2000:
            frame = await fast.next_out()
            assert isinstance(frame, bytes)
            got.append(sequence_of(frame))

    async def send() -> float:
        slowest = 0.0
        for n in range(2000):
            started = time.perf_counter()
            sender.frame(key=n % 300 == 0)
            slowest = max(slowest, time.perf_counter() - started)
            await asyncio.sleep(0)  # the fast viewer's writer runs between frames
        return slowest

    async def both() -> float:
        watcher = asyncio.create_task(watch())
        slowest = await send()
        await asyncio.wait_for(watcher, 5)
        return slowest

    slowest = asyncio.run(both())
    assert got == list(range(1, 2001))
    assert stalled.frames.held <= VIEWER_BYTES
    assert slowest < 0.05, f"one send took {slowest * 1000:.1f} ms"


def test_text_keeps_its_order_and_goes_before_frames(bus: InProcessBus) -> None:
    _, sender, viewer = one_viewer(bus)
    sender.frame(key=True)
    viewer.send_text("first")
    sender.frame()
    viewer.send_bytes(b"\x00control")
    viewer.send_text("second")

    async def take(n: int) -> list[str | bytes | None]:
        return [await viewer.next_out() for _ in range(n)]

    out = asyncio.run(take(5))
    assert out[:3] == ["first", b"\x00control", "second"]
    assert [sequence_of(f) for f in out[3:] if isinstance(f, bytes)] == [1, 2]


def test_streams_of_one_viewer_take_turns(bus: InProcessBus) -> None:
    relay = StreamRelay(bus)
    one, two = Sender(relay, 1), Sender(relay, 2)
    viewer = Peer(1)
    relay.watch(viewer, 1)
    relay.watch(viewer, 2)
    for _ in range(3):
        one.frame(key=True)
    for _ in range(3):
        two.frame(key=True)
    assert [binary.unpack_header(f).stream for f in drain(viewer)] == [1, 2, 1, 2, 1, 2]


def test_frames_lost_on_the_way_make_every_viewer_wait_for_a_key_frame(bus: InProcessBus) -> None:
    _, sender, viewer = one_viewer(bus)
    sender.frame(key=True)
    sender.sequence += 1  # the bus between processes dropped this one
    sender.frame()
    assert [sequence_of(f) for f in drain(viewer)] == [1]
    sender.frame()
    assert drain(viewer) == []
    sender.frame(key=True)
    assert [sequence_of(f) for f in drain(viewer)] == [5]


def test_viewers_starting_together_share_one_request_and_a_later_one_asks_again(
    bus: InProcessBus, key_requests: list[int]
) -> None:
    relay, sender, first = one_viewer(bus)
    second, later = Peer(2), Peer(3)
    relay.watch(second, STREAM)
    assert key_requests == [STREAM]  # the key frame the first asked for serves both
    key = sender.frame(key=True)
    assert drain(first) == drain(second) == [key]
    relay.watch(later, STREAM)
    assert key_requests == [STREAM, STREAM]
    sender.frame()
    assert drain(later) == []
    key = sender.frame(key=True)
    assert drain(later) == [key]


def test_key_frame_requests_are_spaced_out(bus: InProcessBus, key_requests: list[int]) -> None:
    _, sender, _ = one_viewer(bus)
    for _ in range(100):
        sender.frame()
    assert key_requests == [STREAM]


def test_a_viewer_let_go_holds_nothing_and_its_stream_is_no_longer_followed(bus: InProcessBus) -> None:
    relay = StreamRelay(bus)
    sender = Sender(relay)
    viewer, other = Peer(1), Peer(2)
    relay.watch(viewer, STREAM)
    relay.watch(other, STREAM)
    sender.frame(key=True)
    relay.forget(viewer)
    assert viewer.frames.held == 0
    assert drain(viewer) == []
    assert STREAM in relay.viewers
    relay.unwatch(other, STREAM)
    assert relay.viewers == {}
    sender.frame(key=True)
    assert drain(other) == []


def test_invalid_frames_from_the_bus_are_dropped(bus: InProcessBus) -> None:
    _, _, viewer = one_viewer(bus)
    bus.publish_frame(STREAM, b"\x09not a frame at all")
    header = Header(FrameKind.SCREEN, STREAM + 1, 1, key=True)
    bus.publish_frame(STREAM, binary.pack(header, b"another stream's"))
    assert drain(viewer) == []


def test_the_hub_lets_go_of_a_closed_sockets_streams(runtime: Runtime) -> None:
    hub = Hub(runtime)
    sender = Sender(hub.streams)
    viewer = Peer(1)
    hub.streams.watch(viewer, STREAM)
    sender.frame(key=True)
    hub.remove(viewer, detached=False)
    assert hub.streams.viewers == {}
    assert viewer.frames.held == 0


# Any mix of frames, sizes, key frames, draining and skips: the bound holds, what is held
# is what is counted, and what a viewer gets of a stream decodes (every jump lands on a key frame).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("frame"), st.integers(1, 3), st.integers(0, 600_000), st.booleans()),
        st.tuples(st.just("take"), st.integers(1, 40)),
        st.tuples(st.just("lost"), st.integers(1, 3)),
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_any_traffic_keeps_the_bound_and_every_viewer_decodes(steps: list[tuple[Any, ...]]) -> None:
    relay = StreamRelay(InProcessBus())
    senders = {stream: Sender(relay, stream) for stream in (1, 2, 3)}
    viewer = Peer(1)
    for stream in senders:
        relay.watch(viewer, stream)
    got: dict[int, list[tuple[int, bool]]] = {stream: [] for stream in senders}
    for step in steps:
        if step[0] == "frame":
            sender = senders[step[1]]
            sender.size = step[2]
            sender.frame(key=step[3])
        elif step[0] == "take":
            for frame in drain(viewer, step[1]):
                header = binary.unpack_header(frame)
                got[header.stream].append((header.sequence, header.key))
        else:
            senders[step[1]].sequence += 1  # lost on the way
        assert viewer.frames.held <= VIEWER_BYTES
    for frame in drain(viewer):
        header = binary.unpack_header(frame)
        got[header.stream].append((header.sequence, header.key))
    assert viewer.frames.held == 0
    for frames in got.values():
        if frames:
            assert frames[0][1]
        for (before, _), (after, key) in itertools.pairwise(frames):
            assert after == before + 1 or key, frames


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_on_a_watched_stream_never_break_the_relay(data: bytes) -> None:
    bus = InProcessBus()
    _, _, viewer = one_viewer(bus)
    bus.publish_frame(STREAM, data)
    for frame in drain(viewer):
        assert binary.unpack_header(frame).key
