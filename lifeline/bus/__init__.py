"""The live-event bus: after-commit events reach subscribers in this process (and, with
Redis, in every appliance process)."""

from lifeline.bus.base import Bus, BusResumed, InProcessBus, Subscriber

__all__ = ["Bus", "BusResumed", "InProcessBus", "Subscriber"]
