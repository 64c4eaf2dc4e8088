"""The customer's text clipboard on X11 (python-xlib): the controlling representative's text
put on it (this program owns the CLIPBOARD selection and answers those who paste), and what
the customer copies read back. Elsewhere there is no clipboard yet (`open_clipboard` gives
None)."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import threading
import time
from typing import Any

from lifeline_protocol.screen import MAX_CLIPBOARD

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.5  # seconds for the selection's owner to answer
MAX_BYTES = MAX_CLIPBOARD * 4  # UTF-8 of MAX_CLIPBOARD characters at most


class Clipboard:
    """Two connections to the display: one owns the selection and answers requests on its
    own thread, the other reads the selection (asked from the polling thread)."""

    def __init__(self) -> None:
        from Xlib import X, Xatom, display, error

        if not os.environ.get("DISPLAY"):
            raise OSError("no X display ($DISPLAY is not set)")
        try:
            self._owner = display.Display()
            self._reader = display.Display()
        except (error.DisplayError, error.ConnectionClosedError, OSError) as problem:
            raise OSError(f"cannot open the X display: {problem}") from None
        self._X = X
        self._text = ""
        self._owned = False
        self._closed = False
        atom = self._owner.intern_atom
        self._clipboard = atom("CLIPBOARD")
        self._utf8 = atom("UTF8_STRING")
        self._targets = atom("TARGETS")
        self._text_atoms = {self._utf8, Xatom.STRING, atom("TEXT"), atom("text/plain;charset=utf-8")}
        self._window = self._owner.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
        self._read_window = self._reader.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
        self._property = self._reader.intern_atom("LIFELINE_CLIPBOARD")
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True, name="clipboard").start()

    def set(self, text: str) -> None:
        with self._lock:
            self._text = text
            self._window.set_selection_owner(self._clipboard, self._X.CurrentTime)
            self._owner.flush()
            self._owned = True

    def get(self) -> str | None:
        """The clipboard's text, or None when there is none (or no text)."""
        with self._lock:
            if self._owned:
                return self._text
        X = self._X
        if self._reader.get_selection_owner(self._clipboard) == X.NONE:
            return None
        self._read_window.convert_selection(self._clipboard, self._utf8, self._property, X.CurrentTime)
        self._reader.flush()
        deadline = time.monotonic() + READ_TIMEOUT
        while time.monotonic() < deadline:
            while self._reader.pending_events():
                event = self._reader.next_event()
                if event.type == X.SelectionNotify and event.requestor == self._read_window:
                    if event.property == X.NONE:
                        return None
                    found = self._read_window.get_full_property(self._property, X.AnyPropertyType, MAX_BYTES // 4)
                    self._read_window.delete_property(self._property)
                    if found is None or found.format != 8 or isinstance(found.value, str):
                        return None
                    return bytes(found.value).decode("utf-8", "replace")[:MAX_CLIPBOARD]
            time.sleep(0.01)
        return None

    def close(self) -> None:
        self._closed = True
        for connection in (self._owner, self._reader):
            with contextlib.suppress(Exception):  # a display that went away
                connection.close()

    def _serve(self) -> None:
        """Answer the programs that paste our text; give up the selection when another takes it."""
        X = self._X
        while not self._closed:
            try:
                event = self._owner.next_event()
            except Exception:  # the display closed
                return
            if event.type == X.SelectionClear:
                with self._lock:
                    self._owned = False
            elif event.type == X.SelectionRequest:
                with self._lock:
                    self._answer(event)

    def _answer(self, request: Any) -> None:
        from Xlib import Xatom
        from Xlib.protocol import event as events

        X = self._X
        target, prop = request.target, request.property or request.target
        if not self._owned:
            prop = X.NONE
        elif target == self._targets:
            request.requestor.change_property(prop, Xatom.ATOM, 32, [self._targets, *self._text_atoms])
        elif target in self._text_atoms:
            request.requestor.change_property(prop, target, 8, self._text.encode("utf-8"))
        else:
            prop = X.NONE
        notify = events.SelectionNotify(
            time=request.time, requestor=request.requestor, selection=request.selection, target=target, property=prop
        )
        request.requestor.send_event(notify)
        self._owner.flush()


def open_clipboard() -> Clipboard | None:
    """The clipboard of this computer, or None where this client has none (not X11)."""
    if platform.system() != "Linux":
        return None
    try:
        return Clipboard()
    except OSError as problem:
        log.warning("no clipboard: %s", problem)
        return None
