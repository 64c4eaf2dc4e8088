"""A Jump to a real Jump Client: a rep of its Jump Group jumps from the console (`jump`), the
`lifeline-client jump run` process opens the session's client socket with what the group
allows, and the rep's command shell works, recorded like any other; the session ends and the
Jump Client stays, ready for the next. Also the time from the Jump to the shell's prompt.
Needs the console's `jump` request (skipped on an appliance without it)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client.scripted import CLIENT
from tests.client.test_end_to_end import Rep, open_shell, stop, typed
from tests.support.appliance import RunningAppliance, eventually
from tests.support.personas import Personas

pytestmark = pytest.mark.slow
pytest.importorskip("lifeline.realtime.jump_console", reason="the console's jump request is not in this appliance yet")


@pytest.fixture(scope="module")
def installed(appliance: RunningAppliance, personas: Personas, tmp_path_factory: pytest.TempPathFactory) -> Path:
    appliance.cli("jump-group", "add", "Desks", "--member", personas.rep_a.username)
    made = appliance.cli_json("jump-installer", "add", "--group", "Desks", "--no-consent")
    folder = tmp_path_factory.mktemp("jump") / "desk"
    done = subprocess.run(
        [
            str(CLIENT),
            "jump",
            "install",
            appliance.https,
            "--key",
            made["key"],
            "--dir",
            str(folder),
            "--ca",
            str(appliance.cert_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture
def running(installed: Path) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen(
        [str(CLIENT), "jump", "run", "--dir", str(installed)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    yield process
    stop(process)


def jump_to(rep: Rep, jump_client: int) -> dict[str, Any]:
    rep._refs += 1
    ref = f"jump{rep._refs}"
    rep.console.send({"type": "jump", "ref": ref, "jump_client": jump_client})
    return rep.console.ack(ref)


def test_a_jump_opens_a_session_with_a_working_shell(
    appliance: RunningAppliance, personas: Personas, installed: Path, running: subprocess.Popen[str]
) -> None:
    jump_id = int(json.loads((installed / "jump.json").read_text())["id"])
    eventually(lambda: _online(appliance, jump_id), timeout=30)
    rep = Rep(appliance, personas)
    try:
        started = time.monotonic()
        answer = jump_to(rep, jump_id)
        assert answer["ok"], answer
        rep.lsid = answer["result"]["lsid"]
        rep.computer(lambda s: s["connected"] and "shell" in s["allowed"])
        shell = open_shell(rep)
        typed(rep, shell, "echo jumped-$((40+2))\r")
        assert b"jumped-42" in rep.console.output_of(shell, until=b"jumped-42", timeout=20)
        print(f"\nJump to a shell's answer: {time.monotonic() - started:.2f} s")
    finally:
        rep.close()
    time.sleep(1)
    assert running.poll() is None  # the session ended; the Jump Client waits for the next


def _online(appliance: RunningAppliance, jump_id: int) -> bool:
    listed = {item["id"]: item for item in appliance.cli_json("jump", "list")}
    assert listed[jump_id]["online"]
    return True
