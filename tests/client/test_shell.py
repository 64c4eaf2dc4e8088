"""Shells on a real pseudo-terminal: numbered frames kept until acknowledged, reading paused
with a window's worth unacknowledged, resent exactly after a reconnect, the exit after the
last frame."""

from __future__ import annotations

import asyncio

from lifeline_client.shell import Shell
from lifeline_protocol.binary import FrameKind, unpack


class Seen:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.exited = asyncio.Event()

    def frame(self, frame: bytes) -> None:
        self.frames.append(frame)

    def exit(self, shell: Shell) -> None:
        self.exited.set()

    def output(self) -> bytes:
        return b"".join(unpack(frame).payload for frame in self.frames)


async def until(check: object, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_output_is_numbered_frames_and_the_exit_comes_after_them() -> None:
    async def scenario() -> None:
        seen = Seen()
        shell = Shell(5, on_frame=seen.frame, on_exit=seen.exit)
        shell.start(80, 24, ["/bin/sh", "-c", "printf 'hello\\n'; stty size; exit 3"])
        await asyncio.wait_for(seen.exited.wait(), 10)
        headers = [unpack(frame).header for frame in seen.frames]
        assert [h.sequence for h in headers] == list(range(1, len(headers) + 1))
        assert {h.kind for h in headers} == {FrameKind.SHELL} and {h.stream for h in headers} == {5}
        assert b"hello" in seen.output() and b"24 80" in seen.output()
        assert shell.exit_code == 3 and shell.exited and not shell.finished
        shell.ack(shell.sequence)
        assert shell.finished

    asyncio.run(scenario())


def test_input_resize_and_hangup() -> None:
    async def scenario() -> None:
        seen = Seen()
        shell = Shell(1, on_frame=seen.frame, on_exit=seen.exit)
        shell.start(80, 24, ["/bin/sh"])
        shell.write("echo $((40+2))\r")
        await until(lambda: b"42" in seen.output())
        shell.resize(132, 50)
        shell.write("stty size\r")
        await until(lambda: b"50 132" in seen.output())
        shell.close()
        await asyncio.wait_for(seen.exited.wait(), 10)

    asyncio.run(scenario())


def test_a_full_window_stops_reading_until_acknowledged() -> None:
    async def scenario() -> None:
        seen = Seen()
        window = 256 * 1024
        shell = Shell(2, on_frame=seen.frame, on_exit=seen.exit, window=window)
        shell.start(80, 24, ["/bin/sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x"])
        await until(lambda: shell.unacked_bytes >= window)
        await asyncio.sleep(0.3)  # the program keeps writing; nobody reads
        held = shell.unacked_bytes
        assert window <= held < window + 64 * 1024 + 1
        assert held == sum(len(unpack(f).payload) for f in seen.frames)
        # A reconnect: the appliance recorded up to frame 3, the rest is sent again exactly.
        resent = shell.frames_after(3)
        assert [unpack(f).header.sequence for f in resent] == list(range(4, len(seen.frames) + 1))
        assert resent == seen.frames[3:]
        while not seen.exited.is_set():  # acknowledged as it comes: everything arrives
            shell.ack(shell.sequence)
            await asyncio.sleep(0.005)
        assert seen.output() == b"x" * 3_000_000

    asyncio.run(scenario())
