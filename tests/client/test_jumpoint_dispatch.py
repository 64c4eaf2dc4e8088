"""`jump run`'s dispatch of a Jumpoint's messages, against a scripted appliance: a Jump Client
that is not a Jumpoint refuses a Shell Jump and a push in words, and never says the
credentials it was sent."""

from __future__ import annotations

from pathlib import Path

from lifeline_client.jumpoint.handlers import NOT_A_JUMPOINT
from lifeline_protocol.jump import PushClient, ShellJump, Started

from tests.client.scripted import Certificate
from tests.client.scripted_jump import ScriptedJump, appliance, certificate, install, jump_run, stop

__all__ = ["appliance", "certificate"]  # the fixtures, used by name below


def test_a_jump_client_refuses_what_only_a_jumpoint_does(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    process = jump_run(folder)
    try:
        appliance.jump_hello()
        appliance.jump_send(
            ShellJump(
                request="s1", lsid="b" * 32, token="t", host="10.0.0.9", username="root", password="pw-1", rep="A"
            )
        )
        assert appliance.jump_next(Started) == Started(request="s1", error=NOT_A_JUMPOINT)
        appliance.jump_send(
            PushClient(
                request="p1", lsid="c" * 32, chat_url="https://x/chat/t", host="10.0.0.9", username="root",
                password="pw-2", allowed=[], rep="A",
            )
        )  # fmt: skip
        assert appliance.jump_next(Started) == Started(request="p1", error=NOT_A_JUMPOINT)
    finally:
        err = stop(process)
    assert "pw-1" not in err and "pw-2" not in err and "Traceback" not in err
