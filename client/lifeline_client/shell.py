"""A command shell on a pseudo-terminal, its output as numbered binary frames kept until the
appliance has recorded them (`shell_ack`), so a dropped connection loses nothing: after a
reconnect the frames after the sequence the welcome names are sent again. With
SHELL_WINDOW bytes unacknowledged the shell's output is no longer read, so the program
waits on its terminal instead of the client's memory filling up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from lifeline_protocol.binary import HEADER_SIZE, MAX_NUMBER, FrameKind, Header, pack
from lifeline_protocol.client import SHELL_WINDOW

log = logging.getLogger(__name__)

MAX_READ = 64 * 1024  # payload bytes of one frame (the contract's limit)
MAX_PENDING_INPUT = 1024 * 1024  # typed bytes waiting for the program to read them
HANGUP_GRACE = 3.0  # seconds between hanging up and killing a shell that ignores it
EXIT_WAIT = 5.0  # seconds to learn the exit code after the terminal closed


def default_command() -> list[str]:
    if sys.platform == "win32":
        return [os.environ.get("COMSPEC", "cmd.exe")]
    return [os.environ.get("SHELL") or "/bin/sh"]


class Shell:
    """One shell: `on_frame` gets each output frame as it is made, `on_exit` the exit code
    after the last frame. Frames stay in `unacked` until `ack` covers them."""

    def __init__(
        self,
        number: int,
        *,
        on_frame: Callable[[bytes], None],
        on_exit: Callable[[Shell], None],
        window: int = SHELL_WINDOW,
    ) -> None:
        self.number = number
        self.window = window
        self.unacked: deque[tuple[int, bytes]] = deque()  # (sequence, frame)
        self.unacked_bytes = 0
        self.sequence = 0  # the last frame's
        self.exit_code: int | None = None
        self.exited = False
        self._on_frame = on_frame
        self._on_exit = on_exit
        self._started = time.monotonic()
        self._paused = False
        self._input = bytearray()
        self._pty: Pty | None = None

    # --- life ---------------------------------------------------------------------------

    def start(self, cols: int, rows: int, command: list[str] | None = None) -> None:
        """Start the program on a new terminal; OSError when it cannot start."""
        self.run_on(_make_pty(command or default_command(), cols, rows))

    def run_on(self, pty: Pty) -> None:
        """Serve a terminal started elsewhere (a Jumpoint's SSH session) as this shell."""
        self._pty = pty
        pty.watch(asyncio.get_running_loop(), self._readable, self._eof)

    def forget(self) -> None:
        """Hang up a shell the appliance no longer has: what it still prints goes nowhere."""
        self._on_frame = lambda frame: None
        self._on_exit = lambda shell: None
        self.close()

    def close(self) -> None:
        """Hang up (the representative closed it, or the customer took the shell back)."""
        if self._pty is not None and not self.exited:
            self._pty.hangup()

    # --- output -------------------------------------------------------------------------

    def _readable(self, data: bytes) -> None:
        self.sequence += 1
        timestamp = int((time.monotonic() - self._started) * 1000) & MAX_NUMBER
        header = Header(FrameKind.SHELL, self.number, self.sequence & MAX_NUMBER, timestamp)
        frame = pack(header, data)
        self.unacked.append((self.sequence, frame))
        self.unacked_bytes += len(data)
        self._on_frame(frame)
        if self.unacked_bytes >= self.window and not self._paused and self._pty is not None:
            self._paused = True
            self._pty.pause()

    def _eof(self) -> None:
        asyncio.get_running_loop().create_task(self._finish())

    async def _finish(self) -> None:
        assert self._pty is not None
        self.exit_code = await self._pty.exit_code(EXIT_WAIT)
        self.exited = True
        self._pty.release()
        self._on_exit(self)

    def ack(self, sequence: int) -> None:
        """The appliance recorded every frame up to `sequence`: forget them; read on."""
        while self.unacked and self.unacked[0][0] <= sequence:
            _, frame = self.unacked.popleft()
            self.unacked_bytes -= len(frame) - HEADER_SIZE
        if self._paused and self.unacked_bytes < self.window and self._pty is not None and not self.exited:
            self._paused = False
            self._pty.resume()

    def frames_after(self, sequence: int) -> list[bytes]:
        """After a reconnect: what the appliance has not recorded, in order."""
        self.ack(sequence)
        return [frame for _, frame in self.unacked]

    @property
    def finished(self) -> bool:
        """Exited, and every frame recorded: nothing more to send."""
        return self.exited and not self.unacked

    # --- input --------------------------------------------------------------------------

    def write(self, text: str) -> None:
        data = text.encode("utf-8", errors="replace")
        if len(self._input) + len(data) > MAX_PENDING_INPUT:
            log.warning("shell %d: its program is not reading its input; %d bytes dropped", self.number, len(data))
            return
        if self._pty is not None and not self.exited:
            self._input += data
            self._pty.write(self._input)

    def resize(self, cols: int, rows: int) -> None:
        if self._pty is not None and not self.exited:
            self._pty.resize(cols, rows)


class Pty:
    """What a shell needs of its terminal, on POSIX (ptyprocess) or Windows (pywinpty), or
    an SSH session's (a Jumpoint's Shell Jump)."""

    def watch(
        self, loop: asyncio.AbstractEventLoop, on_data: Callable[[bytes], None], on_eof: Callable[[], None]
    ) -> None:
        raise NotImplementedError

    def pause(self) -> None:
        raise NotImplementedError

    def resume(self) -> None:
        raise NotImplementedError

    def write(self, pending: bytearray) -> None:
        """Write what the program will take now; the rest stays in `pending`."""
        raise NotImplementedError

    def resize(self, cols: int, rows: int) -> None:
        raise NotImplementedError

    def hangup(self) -> None:
        raise NotImplementedError

    async def exit_code(self, wait: float) -> int | None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


def _make_pty(command: list[str], cols: int, rows: int) -> Pty:
    if sys.platform == "win32":
        return _WindowsPty(command, cols, rows)
    return _PosixPty(command, cols, rows)


class _PosixPty(Pty):
    def __init__(self, command: list[str], cols: int, rows: int) -> None:
        from ptyprocess import PtyProcess  # POSIX only

        env = {**os.environ, "TERM": "xterm-256color"}
        self._process: Any = PtyProcess.spawn(command, env=env, dimensions=(rows, cols), cwd=os.path.expanduser("~"))
        self._process.delayafterclose = 0  # its close would sleep in the event loop
        self._fd: int = self._process.fd
        os.set_blocking(self._fd, False)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_data: Callable[[bytes], None] = lambda data: None
        self._on_eof: Callable[[], None] = lambda: None
        self._pending: bytearray | None = None
        self._closed = False

    def watch(
        self, loop: asyncio.AbstractEventLoop, on_data: Callable[[bytes], None], on_eof: Callable[[], None]
    ) -> None:
        self._loop, self._on_data, self._on_eof = loop, on_data, on_eof
        loop.add_reader(self._fd, self._read)

    def _read(self) -> None:
        try:
            data = os.read(self._fd, MAX_READ)
        except BlockingIOError:
            return
        except OSError:  # EIO: the program and everything else let go of the terminal
            data = b""
        if data:
            self._on_data(data)
            return
        self._stop_watching()
        self._on_eof()

    def _stop_watching(self) -> None:
        if self._loop is not None and not self._closed:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)

    def pause(self) -> None:
        if self._loop is not None and not self._closed:
            self._loop.remove_reader(self._fd)

    def resume(self) -> None:
        if self._loop is not None and not self._closed:
            self._loop.add_reader(self._fd, self._read)

    def write(self, pending: bytearray) -> None:
        self._pending = pending
        self._flush()

    def _flush(self) -> None:
        pending = self._pending
        if pending is None or self._closed or self._loop is None:
            return
        try:
            while pending:
                written = os.write(self._fd, pending)
                del pending[:written]
        except BlockingIOError:
            pass
        except OSError:
            pending.clear()
        if pending:
            self._loop.add_writer(self._fd, self._flush)
        else:
            self._loop.remove_writer(self._fd)

    def resize(self, cols: int, rows: int) -> None:
        try:
            self._process.setwinsize(rows, cols)
        except OSError as error:
            log.warning("could not resize a shell: %s", error)

    def hangup(self) -> None:
        try:
            self._process.kill(signal.SIGHUP)
        except OSError:
            return
        if self._loop is not None:
            self._loop.call_later(HANGUP_GRACE, self._kill)

    def _kill(self) -> None:
        if not self._closed and self._process.isalive():
            with contextlib.suppress(OSError):
                self._process.kill(signal.SIGKILL)

    async def exit_code(self, wait: float) -> int | None:
        deadline = time.monotonic() + wait
        while self._process.isalive():
            if time.monotonic() > deadline:
                self._kill()
                await asyncio.sleep(0.1)
                break
            await asyncio.sleep(0.02)
        if self._process.isalive():
            return None
        status: int | None = self._process.exitstatus
        if status is None and self._process.signalstatus is not None:
            status = 128 + int(self._process.signalstatus)
        return status

    def release(self) -> None:
        self._stop_watching()
        self._closed = True
        with contextlib.suppress(OSError):
            self._process.close(force=True)


class _WindowsPty(Pty):
    """pywinpty reads block: a thread reads and hands the bytes to the loop. (Not tested on
    this Linux machine.)"""

    def __init__(self, command: list[str], cols: int, rows: int) -> None:
        from winpty import PtyProcess  # type: ignore[import-not-found,unused-ignore]

        self._process: Any = PtyProcess.spawn(" ".join(command), dimensions=(rows, cols))
        self._reading = asyncio.Event()
        self._reading.set()

    def watch(
        self, loop: asyncio.AbstractEventLoop, on_data: Callable[[bytes], None], on_eof: Callable[[], None]
    ) -> None:
        async def pump() -> None:
            while True:
                await self._reading.wait()
                try:
                    text: str = await asyncio.to_thread(self._process.read, MAX_READ // 4)
                except EOFError:
                    break
                if text:
                    on_data(text.encode("utf-8", errors="replace"))
            on_eof()

        self._task = loop.create_task(pump())

    def pause(self) -> None:
        self._reading.clear()

    def resume(self) -> None:
        self._reading.set()

    def write(self, pending: bytearray) -> None:
        self._process.write(pending.decode("utf-8", errors="replace"))
        pending.clear()

    def resize(self, cols: int, rows: int) -> None:
        self._process.setwinsize(rows, cols)

    def hangup(self) -> None:
        self._process.terminate(force=True)

    async def exit_code(self, wait: float) -> int | None:
        deadline = time.monotonic() + wait
        while self._process.isalive() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        code: int | None = self._process.exitstatus
        return code

    def release(self) -> None:
        pass
