"""The installer download of /login's installer page, run for real: `sh` runs the .sh an admin
downloaded, it fetches the Lifeline client from the appliance (trusting only its
certificate), keeps it in the installation's folder and runs `jump install ... --service`;
the installation registers with the appliance and its service file starts the client kept
there. The service files go to a scratch folder (LIFELINE_CLIENT_SERVICE_DIR), so nothing
is started on this machine.

The appliance is `localhost` (its certificate names it), so that the script reaches it by
the name in its site URL, as a computer on the network would."""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lifeline.jump.models import JumpClient, JumpInstaller
from tests.admin.helpers import AdminClient
from tests.support.appliance import RunningAppliance, running_appliance

ZIPAPP = Path(__file__).resolve().parents[2] / "build" / "client" / "lifeline-client-0.1.0-linux-x86_64.pyz"
KEY = re.compile(r'id="jump-key">([A-Za-z0-9_\-]+)<')


def zipapp_has_jump() -> bool:
    if not ZIPAPP.exists() or os.uname().machine != "x86_64":
        return False
    with zipfile.ZipFile(ZIPAPP) as archive:
        return "site-packages/lifeline_client/jump/cli.py" in archive.namelist()


pytestmark = pytest.mark.skipif(not zipapp_has_jump(), reason="needs build/client's zipapp, built with the Jump Client")


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    with running_appliance(tmp_path_factory.mktemp("appliance"), hostname="localhost") as running:
        yield running


def test_the_downloaded_installer_installs_a_jump_client_as_a_service(
    admin: AdminClient, appliance: RunningAppliance, tmp_path: Path
) -> None:
    appliance.cli("jump-group", "add", "Desks")
    made = admin.post(
        "/login/jump-clients/installers",
        {"mode": "jump_client", "target": "group:1", "site_id": "1", "valid": "1", "unit": "hours", "consent": "on"},
    )
    found = KEY.search(made.text)
    assert found, made.text
    script = admin.post("/login/jump-clients/installers/download", {"key": found.group(1), "format": "sh"})
    assert script.status_code == 200, script.text
    assert f"site='https://localhost:{appliance.https_port}'" in script.text
    (tmp_path / "install.sh").write_bytes(script.content)

    folder, services, home = tmp_path / "jump", tmp_path / "services", tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LIFELINE_CLIENT_SERVICE_DIR": str(services)}
    done = subprocess.run(
        ["sh", str(tmp_path / "install.sh"), str(folder)], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kept = folder / "client" / ZIPAPP.name
    assert kept.is_file()  # the client the service runs stays with the installation
    assert (folder / "jump.json").is_file()

    installed = appliance.with_session(lambda s: [(c.hostname, c.jump_group_id) for c in s.scalars(select(JumpClient))])
    assert installed == [(os.uname().nodename, 1)]
    assert appliance.with_session(lambda s: s.scalars(select(JumpInstaller.installs)).one()) == 1
    unit = "\n".join(p.read_text() for p in services.rglob("*") if p.is_file())
    assert str(kept) in unit and "jump run" in unit, unit
