"""What the Lifeline client's side tells every appliance process after commit: a transfer
moved (the consoles of the session show its progress)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifeline.bus.wire import live_event


@live_event
@dataclass(frozen=True)
class TransferMoved:
    """`transfer`: a TransferState's fields (lifeline_protocol.computer)."""

    lsid: str
    transfer: dict[str, Any]
