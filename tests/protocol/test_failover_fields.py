"""The failover pair in the welcomes (issue 17): `appliances`, the primary first, decodes on
every live client's side, is empty when an older appliance leaves it out, and is refused
when it is not a list of origins."""

from __future__ import annotations

import json

import pytest
from lifeline_protocol import CloseCode, ProtocolError, client, console, customer, encode, jump
from lifeline_protocol.decode import decode_to_client, decode_to_console, decode_to_customer, decode_to_jump_client

PAIR = ["https://support.example.com", "https://backup.example.com:8443"]


def _welcomes(appliances: list[str]) -> list[tuple[object, object]]:
    user = console.User(id=1, username="rep", display_name="Rep")
    view = customer.SessionView(lsid="s1", status="waiting", queue_name="General", reps=[])
    return [
        (
            decode_to_client,
            client.Welcome(lsid="s1", company="Acme", server_time=1.0, version=1, appliances=appliances),
        ),
        (
            decode_to_jump_client,
            jump.Welcome(name="Kiosk", statistics=[], interval=5.0, version=1, appliances=appliances),
        ),
        (
            decode_to_customer,
            customer.Welcome(
                gsnumber=1,
                company="Acme",
                session=view,
                position=1,
                history=[],
                survey=[],
                survey_done=False,
                server_time=1.0,
                version=1,
                appliances=appliances,
            ),
        ),
        (
            decode_to_console,
            console.Welcome(
                gsnumber=1,
                resume_token="t",
                resumed=False,
                user=user,
                showing=True,
                queues=[],
                sessions=[],
                history={},
                teams=[],
                reps=[],
                survey=[],
                server_time=1.0,
                version=1,
                appliances=appliances,
            ),
        ),
    ]


def test_appliances_in_every_welcome_old_and_new() -> None:
    for decode, welcome in _welcomes(PAIR):
        raw = encode(welcome)
        assert json.loads(raw)["appliances"] == PAIR
        assert decode(raw) == welcome
        # An appliance without failover (or from before it) leaves the field out: empty.
        older = json.loads(raw)
        del older["appliances"]
        assert decode(json.dumps(older)).appliances == []
        for wrong in (["http://plain.example.com"], ["https://a/path"], [*PAIR, "https://third.example.com"], "x"):
            older["appliances"] = wrong
            with pytest.raises(ProtocolError):
                decode(json.dumps(older))


def test_not_the_primary_close_code() -> None:
    assert CloseCode.NOT_PRIMARY == 4421
