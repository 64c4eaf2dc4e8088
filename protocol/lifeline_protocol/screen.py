"""The customer's screen as every side sees it: what is shared (a monitor of the Lifeline
client, or a screen or window the customer's browser shares), how its pictures travel, and
the representative's mouse and keyboard going the other way.

Pictures travel as binary frames of kind SCREEN (`binary.py`): the stream is the number the
appliance gave the share (unique across appliance processes), the sequence counts the
share's frames, the timestamp is milliseconds since the share started, KEY marks a key
frame, and the payload is one encoded picture exactly as the encoder made it (for "vp8",
one VP8 frame, what a WebM SimpleBlock holds). The appliance never decodes or re-encodes:
it relays each frame to the viewers of the stream and appends it to the session's
recording. A viewer starts, or after falling behind resumes, at a key frame; the appliance
asks the sender for one (`key_frame`).

Control events carry coordinates in the shared picture's pixels (0 <= x < width), keys by
the names of the web's `KeyboardEvent.key` (`KEYS`, or one printable character), and are
refused unless the customer allowed control and the sender is the one representative in
control.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from msgspec import Meta, Struct

Codec = Literal["vp8"]  # the one codec every side encodes and decodes (WebM, WebCodecs, libvpx)
CODECS: tuple[Codec, ...] = ("vp8",)

MAX_SCREEN_DIMENSION = 8192  # pixels, either way, of a shared picture
MAX_MONITORS = 16
MAX_INPUT_EVENTS = 64  # in one `screen_input` message
INPUT_EVENTS_PER_SECOND = 250  # a console sending more has the excess refused
MAX_TEXT_INPUT = 256  # characters typed at once (`text` events; a paste goes by clipboard)
MAX_CLIPBOARD = 64 * 1024  # characters of text on the clipboard, either way

# The admin's caps (Settings): defaults, and the ranges an admin may choose from.
DEFAULT_MAX_FPS = 30
DEFAULT_MAX_KBITS = 4000  # kbit/s a share may use
DEFAULT_MAX_WIDTH = 3840
DEFAULT_MAX_HEIGHT = 2160

Coordinate = Annotated[int, Meta(ge=0, lt=MAX_SCREEN_DIMENSION)]
Size = Annotated[int, Meta(ge=1, le=MAX_SCREEN_DIMENSION)]
MonitorNumber = Annotated[int, Meta(ge=1, le=MAX_MONITORS)]  # 1 = the first (mss numbering)
StreamId = Annotated[int, Meta(ge=1, le=2**32 - 1)]
Source = Literal["client", "browser"]

# Keys that are not a printable character, by their KeyboardEvent.key names.
KEYS: frozenset[str] = frozenset(
    {
        "Alt",
        "AltGraph",
        "ArrowDown",
        "ArrowLeft",
        "ArrowRight",
        "ArrowUp",
        "Backspace",
        "CapsLock",
        "ContextMenu",
        "Control",
        "Delete",
        "End",
        "Enter",
        "Escape",
        "Home",
        "Insert",
        "Meta",
        "NumLock",
        "PageDown",
        "PageUp",
        "Pause",
        "PrintScreen",
        "ScrollLock",
        "Shift",
        "Tab",
        *(f"F{n}" for n in range(1, 13)),
    }
)


def known_key(key: str) -> bool:
    """A key the client can press: a named key, or one printable character."""
    if key in KEYS:
        return True
    return len(key) == 1 and (key == " " or unicodedata.category(key)[0] not in "CZ")


class Monitor(Struct, frozen=True, kw_only=True):
    """One of the customer's monitors, in the desktop's pixels."""

    number: MonitorNumber
    x: int
    y: int
    width: Size
    height: Size
    primary: bool = False


class Share(Struct, frozen=True, kw_only=True):
    """A screen being shared: which stream carries it, at what size (of the encoded
    picture), from which monitor, and what else could be shared."""

    stream: StreamId
    source: Source
    codec: Codec = "vp8"
    width: Size
    height: Size
    monitor: MonitorNumber | None = None  # the client's; None for the browser
    monitors: Annotated[list[Monitor], Meta(max_length=MAX_MONITORS)] = []
    control: bool = False  # whether this source can be controlled at all (the client: yes)


# --- the representative's input, in the shared picture's pixels ----------------------------------


class PointerMove(Struct, frozen=True, kw_only=True, tag_field="kind", tag="move"):
    x: Coordinate
    y: Coordinate


class PointerButton(Struct, frozen=True, kw_only=True, tag_field="kind", tag="button"):
    x: Coordinate
    y: Coordinate
    button: Literal["left", "middle", "right"]
    down: bool


class Wheel(Struct, frozen=True, kw_only=True, tag_field="kind", tag="wheel"):
    """Scroll steps (a notch of a wheel is 1; positive is down or right)."""

    x: Coordinate
    y: Coordinate
    dx: Annotated[int, Meta(ge=-20, le=20)] = 0
    dy: Annotated[int, Meta(ge=-20, le=20)] = 0


class Key(Struct, frozen=True, kw_only=True, tag_field="kind", tag="key"):
    """A key pressed or released: a KEYS name or one printable character (`known_key`)."""

    key: Annotated[str, Meta(min_length=1, max_length=16)]
    down: bool


class TypeText(Struct, frozen=True, kw_only=True, tag_field="kind", tag="text"):
    """Text typed as it is (each character pressed and released)."""

    text: Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_INPUT)]


class SecureAttention(Struct, frozen=True, kw_only=True, tag_field="kind", tag="ctrl_alt_del"):
    """Ctrl-Alt-Del: the secure attention sequence where the platform has one (Windows),
    else the three keys pressed together."""


InputEvent = PointerMove | PointerButton | Wheel | Key | TypeText | SecureAttention
InputEvents = Annotated[list[InputEvent], Meta(min_length=1, max_length=MAX_INPUT_EVENTS)]
ClipboardText = Annotated[str, Meta(max_length=MAX_CLIPBOARD)]


def outside(event: InputEvent, width: int, height: int) -> bool:
    """Whether a pointer event falls outside a width x height picture."""
    x = getattr(event, "x", None)
    y = getattr(event, "y", None)
    return x is not None and y is not None and not (0 <= x < width and 0 <= y < height)
