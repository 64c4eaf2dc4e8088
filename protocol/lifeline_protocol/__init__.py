"""Lifeline's live protocol: what crosses a WebSocket between the appliance and its
consoles and client programs, declared once.

This package depends on nothing of the appliance; the appliance and the client programs
both import it, so neither keeps a copy of a message's shape.
"""

VERSION = 1
