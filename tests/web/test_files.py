"""Files sent in sessions, attacked on loopback: nobody gets a byte into the file store
without a live session to send it in, and files no session references are swept."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lifeline.recordings.filestore import FileStore
from tests.support.appliance import RunningAppliance, eventually
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, sign_in, start_by_issue

MB = 1024 * 1024
HOUR_AND_A_BIT = 3700


def stored(appliance: RunningAppliance) -> list[str]:
    """Every file under the file store, temporary ones included."""
    root = appliance.data_dir / "files"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def https(appliance: RunningAppliance) -> Iterator[httpx.Client]:
    with appliance.client() as client:
        yield client


@pytest.fixture
def live_customer(appliance: RunningAppliance, personas: Personas) -> Iterator[tuple[str, CustomerClient, Console]]:
    with customer_with_a_rep(appliance, personas) as live:
        yield live


@contextlib.contextmanager
def customer_with_a_rep(
    appliance: RunningAppliance, personas: Personas
) -> Iterator[tuple[str, CustomerClient, Console]]:
    """A customer in a session Team A's rep has taken, and the rep's console."""
    console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    token = start_by_issue(appliance, "Pat Files", id=str(personas.issue_started))
    customer = CustomerClient(appliance, token=token)
    lsid = customer.welcome["session"]["lsid"]
    console.send({"type": "take", "ref": "take", "lsid": lsid})
    assert console.ack("take")["ok"]
    yield token, customer, console
    console.send({"type": "end", "ref": "end", "lsid": lsid})
    console.ack("end")
    customer.close()
    console.close()


def test_an_upload_for_no_session_is_refused_and_stores_nothing(
    appliance: RunningAppliance, https: httpx.Client
) -> None:
    before = stored(appliance)
    for n in range(3):
        response = https.post(f"/chat/{'x' * 40}/files", files={"file": (f"fill-{n}.bin", os.urandom(5 * MB))})
        assert response.status_code == 409
        assert response.json() == {"ok": False, "error": "no such session"}
    assert stored(appliance) == before


def test_a_rep_not_in_the_session_cannot_send_it_a_file(
    appliance: RunningAppliance,
    https: httpx.Client,
    personas: Personas,
    live_customer: tuple[str, CustomerClient, Console],
) -> None:
    _, customer, _ = live_customer
    lsid = customer.welcome["session"]["lsid"]
    cookie = sign_in(appliance, "rep_b", personas.rep_b.password)
    outsider = Console(appliance, cookie)
    csrf = re.search(r'data-csrf="([^"]+)"', https.get("/console", headers={"Cookie": cookie}).text)
    assert csrf is not None
    before = stored(appliance)
    try:
        response = https.post(
            f"/console/sessions/{lsid}/files",
            headers={"Cookie": cookie, "x-csrf-token": csrf.group(1), "x-gsnumber": str(outsider.welcome["gsnumber"])},
            files={"file": ("fill.bin", os.urandom(5 * MB))},
        )
    finally:
        outsider.close()
    assert response.status_code == 409, response.text
    assert stored(appliance) == before


def test_a_customer_in_a_live_session_sends_a_file_into_the_store(
    appliance: RunningAppliance, https: httpx.Client, live_customer: tuple[str, CustomerClient, Console]
) -> None:
    token, _, console = live_customer
    response = https.post(f"/chat/{token}/files", files={"file": ("printer.log", b"paper jam\n" * 1000)})
    assert response.status_code == 200, response.text
    assert response.json()["size"] == 10000
    assert console.event("File Download")["event"]["filename"] == "printer.log"
    assert not [name for name in stored(appliance) if ".incoming-" in name]
    download = https.get(f"/chat/{token}/files/{response.json()['file_id']}")
    assert download.content == b"paper jam\n" * 1000


def test_files_no_session_references_are_swept_at_start_once_old(
    appliance: RunningAppliance, https: httpx.Client, personas: Personas
) -> None:
    with customer_with_a_rep(appliance, personas) as (token, _, _):
        sent = https.post(f"/chat/{token}/files", files={"file": ("kept.txt", b"a file a session references")})
    assert sent.status_code == 200, sent.text
    store = FileStore(appliance.data_dir / "files")
    referenced = next(p for p in (appliance.data_dir / "files").rglob("*") if p.name == _digest(sent, store))
    old_orphan = store.put_bytes(b"left by a crash before the commit")
    young_orphan = store.put_bytes(b"a commit in flight is about to reference this")
    interrupted = appliance.data_dir / "files" / ".incoming-crashed"
    interrupted.write_bytes(b"half an upload")
    for path in (referenced, store.path_for(old_orphan.sha256), interrupted):
        age(path, HOUR_AND_A_BIT)

    appliance.stop()
    appliance.start()

    def swept() -> None:
        assert not store.exists(old_orphan.sha256)
        assert not interrupted.exists()

    eventually(swept, timeout=10)
    assert store.exists(young_orphan.sha256)
    assert referenced.exists()


def _digest(response: httpx.Response, store: FileStore) -> str:
    for path in store.root.rglob("*"):
        if path.is_file() and path.stat().st_size == response.json()["size"] and len(path.name) == 64:
            return path.name
    raise AssertionError("the sent file is not in the store")


@pytest.mark.parametrize(
    ("files", "data", "says"),
    [
        ({"ref": (None, "r1")}, {}, "send the file in a multipart field named file"),
        ({"upload": ("a.txt", b"a")}, {}, "send one file, in a multipart field named file"),
        ([("file", ("a.txt", b"a")), ("file", ("b.txt", b"b"))], {}, "send one file, in a multipart field named file"),
        ({"file": ("a.txt", b"a")}, {"ref": "r" * 5000}, "form fields are limited to 4096 bytes"),
    ],
)
def test_a_form_without_exactly_one_file_is_refused_and_stores_nothing(
    appliance: RunningAppliance,
    https: httpx.Client,
    live_customer: tuple[str, CustomerClient, Console],
    files: object,
    data: dict[str, str],
    says: str,
) -> None:
    token, _, _ = live_customer
    before = stored(appliance)
    if files:
        response = https.post(f"/chat/{token}/files", files=files, data=data)  # type: ignore[arg-type]
    else:
        response = https.post(
            f"/chat/{token}/files", data=data, headers={"content-type": "multipart/form-data; boundary=x"}
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == says
    assert stored(appliance) == before
