"""Reading a frame: one decoder per socket and direction. Decoding validates; whatever is
wrong with a frame is a ProtocolError whose text says what, never another exception."""

from __future__ import annotations

import json
import re
from typing import Any, Generic, TypeVar

import msgspec
from msgspec import inspect

from lifeline_protocol import attendee, client, console, customer, jump
from lifeline_protocol.common import (
    BAD_ANSWERS,
    BAD_REF,
    MAX_MESSAGE,
    MAX_REF,
    NO_TYPE,
    NOT_JSON,
    TOO_LONG,
    InvalidRequest,
    Message,
    ProtocolError,
    unknown_type,
)

T = TypeVar("T")

_FIELD = re.compile(r"(?:`\$\.(\w+)|missing required field `(\w+)`)")


class Decoder(Generic[T]):
    """Frames into one union of messages (or one message). msgspec reads them; the rare
    frame it will not read as JSON (a lone surrogate escaped in a chat line, which the
    appliance stores exactly) is read by the standard library and validated the same way."""

    def __init__(self, kind: Any, limit: int = MAX_MESSAGE) -> None:
        self._limit = limit
        members = getattr(kind, "__args__", (kind,))
        self._by_tag: dict[str, type[Message]] = {m.__struct_config__.tag: m for m in members}
        # msgspec insists on `type` only in a union: a lone message (a hello) gets a partner.
        self._kind = kind if len(members) > 1 else kind | _Nothing
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(self._kind)

    def __call__(self, data: str | bytes) -> T:
        if len(data) > self._limit:
            raise ProtocolError(
                TOO_LONG if self._limit == MAX_MESSAGE else f"messages are limited to {self._limit} bytes"
            )
        try:
            decoded: T = self._decoder.decode(data)
        except msgspec.ValidationError as error:
            raise self._explain(_loads(data), str(error)) from None
        except (msgspec.DecodeError, UnicodeError, RecursionError):
            raw = _loads(data)
            try:
                decoded = msgspec.convert(raw, self._kind)
            except msgspec.ValidationError as error:
                raise self._explain(raw, str(error)) from None
        if isinstance(decoded, _Nothing):
            raise InvalidRequest(unknown_type("\x00"))
        return decoded

    def _explain(self, raw: Any, error: str) -> ProtocolError:
        """The protocol's words for what msgspec found wrong, about the field it names."""
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            return ProtocolError(NO_TYPE)
        ref = raw.get("ref")
        ref = ref if isinstance(ref, str) and 0 < len(ref) <= MAX_REF else None
        kind = self._by_tag.get(raw["type"])
        if kind is None:
            return InvalidRequest(unknown_type(raw["type"]), ref)
        found = _FIELD.search(error)
        name = (found.group(1) or found.group(2)) if found else ""
        spec = _field_types(kind).get(name)
        if spec is None:
            return InvalidRequest(error, ref)
        return InvalidRequest(_wrong(name, spec, raw.get(name, "")), ref)


class _Nothing(Message, frozen=True, kw_only=True, tag="\x00"):
    """No message: the partner that makes a lone message a union (see Decoder)."""


def _loads(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise ProtocolError(NOT_JSON) from None


def _field_types(kind: type[Message]) -> dict[str, inspect.Type]:
    info = inspect.type_info(kind)
    assert isinstance(info, inspect.StructType)
    return {f.encode_name: _not_none(f.type) for f in info.fields}


def _not_none(spec: inspect.Type) -> inspect.Type:
    if isinstance(spec, inspect.UnionType):
        rest = [t for t in spec.types if not isinstance(t, inspect.NoneType)]
        if len(rest) == 1:
            return rest[0]
    return spec


def _wrong(name: str, spec: inspect.Type, value: Any) -> str:
    """What is wrong with a field's value, in the words the appliance has always used."""
    if name == "ref":
        return BAD_REF
    if isinstance(spec, inspect.StrType):
        if not isinstance(value, str):
            return f"{name} must be text"
        if not value:
            return f"{name} is missing"
        return f"{name} is longer than {spec.max_length} characters"
    if isinstance(spec, inspect.BoolType):
        return f"{name} must be true or false"
    if isinstance(spec, inspect.IntType):
        return f"{name} must be a number"
    if name == "answers":
        return BAD_ANSWERS
    return f"{name} is not valid"


decode_console_hello: Decoder[console.Hello] = Decoder(console.Hello)
decode_console_request: Decoder[console.ConsoleRequest] = Decoder(console.ConsoleRequest)
decode_to_console: Decoder[console.ToConsole] = Decoder(console.ToConsole)
decode_customer_hello: Decoder[customer.Hello] = Decoder(customer.Hello)
decode_customer_request: Decoder[customer.CustomerRequest] = Decoder(customer.CustomerRequest)
decode_to_customer: Decoder[customer.ToCustomer] = Decoder(customer.ToCustomer)
decode_client_hello: Decoder[client.Hello] = Decoder(client.Hello)
decode_from_client: Decoder[client.FromClient] = Decoder(client.FromClient, client.MAX_CLIENT_MESSAGE)
decode_to_client: Decoder[client.ToClient] = Decoder(client.ToClient)
decode_attendee_hello: Decoder[attendee.Hello] = Decoder(attendee.Hello)
decode_attendee_request: Decoder[attendee.AttendeeRequest] = Decoder(attendee.AttendeeRequest)
decode_to_attendee: Decoder[attendee.ToAttendee] = Decoder(attendee.ToAttendee)
decode_jump_hello: Decoder[jump.Hello] = Decoder(jump.Hello)
decode_from_jump_client: Decoder[jump.FromJumpClient] = Decoder(jump.FromJumpClient, jump.MAX_JUMP_MESSAGE)
decode_to_jump_client: Decoder[jump.ToJumpClient] = Decoder(jump.ToJumpClient)
