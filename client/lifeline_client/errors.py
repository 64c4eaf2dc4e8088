"""The one error the program reports to the customer as a single line (exit status 1)."""

from __future__ import annotations


class ClientError(Exception):
    """Something the customer can act on: a bad URL, an unreadable certificate, a refused
    start. Its text is the whole message; no stack trace is shown."""
