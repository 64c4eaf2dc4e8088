"""The Lifeline client: the program on the customer's computer for one support session.

It speaks the appliance's client socket (`/ws/client`, lifeline_protocol.client) and gives
the session's representatives system information, a command shell and the file system,
each only while the customer allows it. It never imports the appliance (`lifeline`)."""

__version__ = "0.1.0"
