"""The customer's terminal: questions from representatives (only on a real terminal), and
typed lines: chat, or commands (`/revoke CAP`, `/end`, `/quit`, `/help`). Lines are read by
a thread, since reading standard input cannot wait in the event loop on every system."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable

from lifeline_protocol.computer import Capability

from lifeline_client.consent import ASKS_TO

MAX_LINE = 16 * 1024
HELP = """Type a line to chat. Commands:
  /revoke CAPABILITY   take back system_info, shell, files, screen,
                       control (or all)
  /end                 end the support session
  /quit                close this program (the session goes on in the browser, if open)"""


class Terminal:
    def __init__(self, *, interactive: bool | None = None) -> None:
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self._questions: list[tuple[Capability, str]] = []
        self.on_answer: Callable[[Capability, bool], None] = lambda capability, allowed: None
        self.on_line: Callable[[str], Awaitable[None]] | None = None

    def say(self, text: str) -> None:
        print(text, flush=True)

    # --- questions ------------------------------------------------------------------------

    def ask(self, capability: Capability, rep: str) -> None:
        if not self.interactive:  # nobody could answer here: the browser page asks
            self.say(f"{rep} (representative) asks to {ASKS_TO[capability]}: answer in the browser chat page.")
            return
        self._questions.append((capability, rep))
        if len(self._questions) == 1:
            self._show()

    def withdraw(self, capability: Capability) -> None:
        """The question was answered elsewhere (the browser page)."""
        first = self._questions[0][0] if self._questions else None
        self._questions = [q for q in self._questions if q[0] != capability]
        if first == capability:
            self.say("(answered in the browser)")
            if self._questions:
                self._show()

    def _show(self) -> None:
        capability, rep = self._questions[0]
        self.say(f"{rep} (representative) asks to {ASKS_TO[capability]}. Allow? [y/N]")

    # --- lines ----------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        threading.Thread(target=self._read, args=(loop,), daemon=True, name="stdin").start()

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                line = sys.stdin.readline(MAX_LINE)
            except (OSError, ValueError):
                return
            if not line:
                return  # end of input: nothing more will be typed
            try:
                asyncio.run_coroutine_threadsafe(self._typed(line.rstrip("\r\n")), loop)
            except RuntimeError:  # the loop is closed: the program is ending
                return

    async def _typed(self, line: str) -> None:
        if self._questions:
            capability, _ = self._questions.pop(0)
            self.on_answer(capability, line.strip().lower() in ("y", "yes"))
            if self._questions:
                self._show()
            return
        if line.strip() == "/help":
            self.say(HELP)
            return
        if self.on_line is not None and line.strip():
            await self.on_line(line)
