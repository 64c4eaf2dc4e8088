"""The Command API (/api/command and /api/command.ns)."""

from lifeline.api.command.actions import ACTIONS, dispatch, error_wrapper

__all__ = ["ACTIONS", "dispatch", "error_wrapper"]
