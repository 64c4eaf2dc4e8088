"""The representative's mouse and keyboard on the customer's computer: XTest (python-xlib)
on X11, pynput elsewhere. Events come in the shared picture's pixels and are mapped to the
desktop's; each is checked again here (known keys, inside the picture) and a bad one is
dropped with a logged error."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
from typing import Any, Protocol

from lifeline_protocol import screen
from lifeline_protocol.screen import InputEvent

from lifeline_client.screen import Geometry

log = logging.getLogger(__name__)

# KeyboardEvent.key names -> X keysym names.
X_KEYS: dict[str, str] = {
    "Alt": "Alt_L",
    "AltGraph": "ISO_Level3_Shift",
    "ArrowDown": "Down",
    "ArrowLeft": "Left",
    "ArrowRight": "Right",
    "ArrowUp": "Up",
    "Backspace": "BackSpace",
    "CapsLock": "Caps_Lock",
    "ContextMenu": "Menu",
    "Control": "Control_L",
    "Delete": "Delete",
    "End": "End",
    "Enter": "Return",
    "Escape": "Escape",
    "Home": "Home",
    "Insert": "Insert",
    "Meta": "Super_L",
    "NumLock": "Num_Lock",
    "PageDown": "Next",
    "PageUp": "Prior",
    "Pause": "Pause",
    "PrintScreen": "Print",
    "ScrollLock": "Scroll_Lock",
    "Shift": "Shift_L",
    "Tab": "Tab",
    **{f"F{n}": f"F{n}" for n in range(1, 13)},
}
BUTTONS = {"left": 1, "middle": 2, "right": 3}
TYPED_NAMES = {"\n": "Enter", "\r": "Enter", "\t": "Tab"}  # characters of `text` that are keys


def to_desktop(geometry: Geometry, x: int, y: int) -> tuple[int, int]:
    """A point of the encoded picture on the monitor's desktop pixels."""
    monitor = geometry.monitor
    dx = min(monitor.width - 1, x * monitor.width // geometry.width)
    dy = min(monitor.height - 1, y * monitor.height // geometry.height)
    return monitor.x + dx, monitor.y + dy


def valid(event: InputEvent, geometry: Geometry) -> bool:
    if screen.outside(event, geometry.width, geometry.height):
        log.error("dropped a %s event outside the shared picture", type(event).__name__)
        return False
    if isinstance(event, screen.Key) and not screen.known_key(event.key):
        log.error("dropped a key event: unknown key %r", event.key)
        return False
    return True


class Injector(Protocol):
    def inject(self, events: list[InputEvent], geometry: Geometry) -> None: ...

    def close(self) -> None: ...


def injector() -> Injector:
    """The platform's injector; OSError when there is nothing to inject into."""
    if platform.system() == "Linux":  # not sys.platform: mypy would call the other branch unreachable
        return XInjector()
    return PynputInjector()  # pragma: no cover - macOS and Windows, untested here


class XInjector:
    """XTest on the X display of $DISPLAY."""

    def __init__(self) -> None:
        from Xlib import XK, X, display, error
        from Xlib.ext import xtest

        if not os.environ.get("DISPLAY"):
            raise OSError("no X display ($DISPLAY is not set)")
        try:
            self._display = display.Display()
        except (error.DisplayError, error.ConnectionClosedError, OSError) as problem:
            raise OSError(f"cannot open the X display: {problem}") from None
        if not self._display.has_extension("XTEST"):
            self._display.close()
            raise OSError("the X display has no XTEST extension")
        self._X = X
        self._XK = XK
        self._fake = xtest.fake_input
        self._spare: int | None = None  # a keycode without keysyms, borrowed for unmapped characters
        self._shift = self._keycode_of(XK.string_to_keysym("Shift_L"))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a display that went away
            self._display.close()

    def inject(self, events: list[InputEvent], geometry: Geometry) -> None:
        for event in events:
            if valid(event, geometry):
                self._one(event, geometry)
        self._display.sync()

    def _one(self, event: InputEvent, geometry: Geometry) -> None:
        X = self._X
        match event:
            case screen.PointerMove(x=x, y=y):
                self._move(geometry, x, y)
            case screen.PointerButton(x=x, y=y, button=button, down=down):
                self._move(geometry, x, y)
                self._fake(self._display, X.ButtonPress if down else X.ButtonRelease, BUTTONS[button])
            case screen.Wheel(x=x, y=y, dx=dx, dy=dy):
                self._move(geometry, x, y)
                for steps, forward, backward in ((dy, 5, 4), (dx, 7, 6)):
                    for _ in range(abs(steps)):
                        self._click(forward if steps > 0 else backward)
            case screen.Key(key=key, down=down):
                self._key(key, down)
            case screen.TypeText(text=text):
                for character in text:
                    name = TYPED_NAMES.get(character, character)
                    if screen.known_key(name):
                        self._key(name, True)
                        self._key(name, False)
            case screen.SecureAttention():
                for name in ("Control", "Alt", "Delete"):
                    self._key(name, True)
                for name in ("Delete", "Alt", "Control"):
                    self._key(name, False)

    def _move(self, geometry: Geometry, x: int, y: int) -> None:
        dx, dy = to_desktop(geometry, x, y)
        self._fake(self._display, self._X.MotionNotify, x=dx, y=dy)

    def _click(self, button: int) -> None:
        self._fake(self._display, self._X.ButtonPress, button)
        self._fake(self._display, self._X.ButtonRelease, button)

    def _keysym(self, key: str) -> int:
        if key in X_KEYS:
            return int(self._XK.string_to_keysym(X_KEYS[key]))
        code = ord(key)
        # X's keysyms: Latin-1 characters are their own code, the rest of Unicode is offset.
        return code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x01000000 + code

    def _keycode_of(self, keysym: int) -> int:
        codes = self._display.keysym_to_keycodes(keysym)
        return next((code for code, _ in codes), 0)

    def _key(self, key: str, down: bool) -> None:
        keysym = self._keysym(key)
        found = [(code, index) for code, index in self._display.keysym_to_keycodes(keysym) if index in (0, 1)]
        if found:
            code, index = min(found, key=lambda pair: pair[1])
        else:
            code, index = self._borrow(keysym), 0
            if not code:
                log.error("dropped a key event: no key for %r on this keyboard", key)
                return
        shifted = index == 1 and len(key) == 1 and bool(self._shift)
        event = self._X.KeyPress if down else self._X.KeyRelease
        if shifted and down:
            self._fake(self._display, self._X.KeyPress, self._shift)
        self._fake(self._display, event, code)
        if shifted and down:
            self._fake(self._display, self._X.KeyRelease, self._shift)

    def _borrow(self, keysym: int) -> int:
        """Map the keysym on a keycode that has none (as xdotool does), for characters the
        keyboard layout lacks."""
        if self._spare is None:
            first = self._display.display.info.min_keycode
            count = self._display.display.info.max_keycode - first + 1
            mapping = self._display.get_keyboard_mapping(first, count)
            self._spare = next(
                (first + i for i in range(count - 1, -1, -1) if not any(mapping[i])),
                0,
            )
        if self._spare:
            self._display.change_keyboard_mapping(self._spare, [(keysym, keysym)])
            self._display.sync()
        return self._spare


class PynputInjector:  # pragma: no cover - macOS and Windows, untested here
    """pynput's mouse and keyboard controllers."""

    def __init__(self) -> None:
        try:
            from pynput import keyboard, mouse
        except ImportError as problem:
            raise OSError(f"no input injection on this system: {problem}") from None
        self._keyboard: Any = keyboard.Controller()
        self._mouse: Any = mouse.Controller()
        self._keys: Any = keyboard.Key
        self._buttons: Any = mouse.Button

    def close(self) -> None:
        pass

    def _of(self, key: str) -> Any:
        if len(key) == 1:
            return key
        names = {"Alt": "alt", "AltGraph": "alt_gr", "ArrowDown": "down", "ArrowLeft": "left", "ArrowRight": "right",
                 "ArrowUp": "up", "Backspace": "backspace", "CapsLock": "caps_lock", "ContextMenu": "menu",
                 "Control": "ctrl", "Delete": "delete", "End": "end", "Enter": "enter", "Escape": "esc",
                 "Home": "home", "Insert": "insert", "Meta": "cmd", "NumLock": "num_lock", "PageDown": "page_down",
                 "PageUp": "page_up", "Pause": "pause", "PrintScreen": "print_screen", "ScrollLock": "scroll_lock",
                 "Shift": "shift", "Tab": "tab"}  # fmt: skip
        return getattr(self._keys, names.get(key, key.lower()), None)

    def inject(self, events: list[InputEvent], geometry: Geometry) -> None:
        for event in events:
            if not valid(event, geometry):
                continue
            match event:
                case screen.PointerMove(x=x, y=y):
                    self._mouse.position = to_desktop(geometry, x, y)
                case screen.PointerButton(x=x, y=y, button=button, down=down):
                    self._mouse.position = to_desktop(geometry, x, y)
                    (self._mouse.press if down else self._mouse.release)(getattr(self._buttons, button))
                case screen.Wheel(x=x, y=y, dx=dx, dy=dy):
                    self._mouse.position = to_desktop(geometry, x, y)
                    self._mouse.scroll(dx, -dy)
                case screen.Key(key=key, down=down):
                    if (found := self._of(key)) is not None:
                        (self._keyboard.press if down else self._keyboard.release)(found)
                case screen.TypeText(text=text):
                    self._keyboard.type(text)
                case screen.SecureAttention():
                    # Windows keeps the real secure attention sequence from programs; the three keys go anyway.
                    with self._keyboard.pressed(self._keys.ctrl, self._keys.alt):
                        self._keyboard.tap(self._keys.delete)
