"""Lifeline's live protocol: what crosses a WebSocket between the appliance and its
consoles and client programs, declared once.

This package depends on nothing of the appliance; the appliance and the client programs
both import it, so neither keeps a copy of a message's shape. `console`, `customer`,
`attendee` and `client` declare each socket's messages, `computer` what the customer's computer offers, `common` what both share, `close` the close codes and
`decode` the validating readers.
"""

from lifeline_protocol.close import CloseCode
from lifeline_protocol.common import VERSION, InvalidRequest, ProtocolError, encode
from lifeline_protocol.decode import (
    decode_attendee_hello,
    decode_attendee_request,
    decode_client_hello,
    decode_console_hello,
    decode_console_request,
    decode_customer_hello,
    decode_customer_request,
    decode_from_client,
    decode_to_attendee,
    decode_to_client,
    decode_to_console,
    decode_to_customer,
)

__all__ = [
    "VERSION",
    "CloseCode",
    "InvalidRequest",
    "ProtocolError",
    "decode_attendee_hello",
    "decode_attendee_request",
    "decode_client_hello",
    "decode_console_hello",
    "decode_console_request",
    "decode_customer_hello",
    "decode_customer_request",
    "decode_from_client",
    "decode_to_attendee",
    "decode_to_client",
    "decode_to_console",
    "decode_to_customer",
    "encode",
]
