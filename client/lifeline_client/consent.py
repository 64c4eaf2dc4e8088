"""What the customer allowed: the client's own record, which it enforces whatever the
appliance relays. A representative's `ask` becomes a question; the first answer (the
terminal's or the browser page's) wins, and a capability can be taken back at any time."""

from __future__ import annotations

import time
from collections.abc import Iterable

from lifeline_protocol.computer import CAPABILITIES, Capability

# How the question reads: "<rep> (representative) asks to <this>. Allow? [y/N]"
ASKS_TO: dict[Capability, str] = {
    "system_info": "see this computer's system information and end its programs",
    "shell": "open a command shell on this computer",
    "files": "browse this computer's files and transfer files to and from it",
    "screen": "see your screen",
    "control": "control your mouse and keyboard",
}
WHAT: dict[Capability, str] = {
    "system_info": "system information",
    "shell": "a command shell",
    "files": "the file system",
    "screen": "seeing the screen",
    "control": "control of the mouse and keyboard",
}
# Seconds in which the other place's contrary answer to a question just answered is the
# loser's (the terminal and the browser page both showed it), not a change of mind.
SECOND_ANSWER = 1.0


def not_allowed(capability: Capability) -> str:
    return f"The customer has not allowed {WHAT[capability]}"  # the appliance's words too


def parse_capabilities(text: str) -> set[Capability]:
    """`--allow`'s comma list, or `all`; ValueError naming what is unknown."""
    words = {word.strip() for word in text.split(",") if word.strip()}
    if words == {"all"}:
        return set(CAPABILITIES)
    unknown = sorted(words - set(CAPABILITIES))
    if unknown:
        raise ValueError(f"unknown capability {unknown[0]!r}: use {', '.join(CAPABILITIES)} or all")
    return {capability for capability in CAPABILITIES if capability in words}


class Consent:
    def __init__(self, allowed: Iterable[Capability] = ()) -> None:
        self.allowed: set[Capability] = set(allowed)
        self.asked: dict[Capability, str] = {}  # open questions: capability -> the rep's name
        self._answered: dict[Capability, tuple[float, bool]] = {}  # when, and whether here

    def allows(self, capability: Capability) -> bool:
        return capability in self.allowed

    def refusal(self, capability: Capability) -> str:
        """Why a request for a capability not allowed is refused, in words."""
        return not_allowed(capability)

    def ask(self, capability: Capability, rep: str) -> bool:
        """A representative asks; True when this opens a question (else it is already
        allowed, or already asked)."""
        if capability in self.allowed or capability in self.asked:
            return False
        self.asked[capability] = rep
        return True

    def answer(self, capability: Capability, allowed: bool, *, here: bool = True) -> bool:
        """An answer from the customer (`here`: on the terminal, else the browser page); True
        when it changes what is allowed or closes a question, False when it lost to the
        other place's earlier answer or changes nothing."""
        if capability in self.asked:
            del self.asked[capability]
            self._answered[capability] = (time.monotonic(), here)
            if allowed:
                self.allowed.add(capability)
            return True
        at, where = self._answered.get(capability, (-SECOND_ANSWER, here))
        if where != here and time.monotonic() - at < SECOND_ANSWER and (capability in self.allowed) != allowed:
            return False  # the other place answered the same question first
        if allowed == (capability in self.allowed):
            return False
        if allowed:
            self.allowed.add(capability)
        else:
            self.allowed.discard(capability)
        return True
