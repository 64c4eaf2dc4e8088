"""The live-event bus: after-commit events reach subscribers in this process (and, with
Redis, in every appliance process)."""

from lifeline.bus.base import Bus, InProcessBus, Subscriber

__all__ = ["Bus", "InProcessBus", "Subscriber"]
