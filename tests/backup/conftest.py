"""The backup tests use the reporting tests' reporters and history of sessions."""

from tests.reporting.conftest import history, reporters, reporting

__all__ = ["history", "reporters", "reporting"]
