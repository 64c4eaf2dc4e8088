"""Files both ways between the customer's computer and the file store, over
/client/transfers/<id> as the Lifeline client sends and fetches them: equal by hash,
resumable, logged as File Download and File Upload, and refused before a byte of a body
is read without the session's token or beyond the file store's limits."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.realtime.test_client_socket import Session, events_of
from tests.support.appliance import RunningAppliance
from tests.support.client_socket import ProgramSocket
from tests.support.personas import Personas

MB = 1024 * 1024


@pytest.fixture
def session(appliance: RunningAppliance, personas: Personas) -> Iterator[Session]:
    running = Session(appliance, personas)
    yield running
    running.close()


@pytest.fixture
def https(appliance: RunningAppliance) -> Iterator[httpx.Client]:
    with appliance.client() as client:
        yield client


def put(https: httpx.Client, transfer: str, token: str, data: bytes, start: int, total: int) -> httpx.Response:
    return https.put(
        f"/client/transfers/{transfer}",
        content=data,
        headers={
            "Authorization": f"Bearer {token}" if token else "Basic eA==",
            "Content-Range": f"bytes {start}-{start + len(data) - 1}/{total}",
        },
    )


def transfer_done(session: Session) -> dict[str, Any]:
    while True:
        pushed = session.alice.until("transfer")["transfer"]
        if pushed["state"] != "moving":
            return pushed


def test_a_file_comes_from_the_customers_computer_in_chunks_and_resumes(session: Session, https: httpx.Client) -> None:
    client = session.client(allowed=["files"], flag=True)
    data = os.urandom(2 * MB + 12345)
    session.alice.send({"type": "file_get", "ref": "get", "lsid": session.lsid, "path": "/home/tess/report.bin"})
    asked = client.until("send_file")
    assert asked["path"] == "/home/tess/report.bin"
    answer = session.alice.ack("get")
    assert answer["ok"] and answer["result"]["direction"] == "download"
    transfer = asked["transfer"]
    assert answer["result"]["id"] == transfer

    # Nobody without the session's token gets a byte in; limits hold before the body is read.
    assert put(https, transfer, "", data[:10], 0, len(data)).status_code == 401
    assert put(https, transfer, "not-the-token", data[:10], 0, len(data)).status_code == 404
    assert put(https, transfer, session.token, data[:10], 0, 200 * MB).status_code == 413
    assert put(https, transfer, session.token, data[: MB + 1], 0, len(data)).status_code == 413
    assert put(https, transfer, session.token, data[:10], 5, len(data)).status_code == 416

    assert put(https, transfer, session.token, data[:MB], 0, len(data)).status_code == 200
    head = https.head(f"/client/transfers/{transfer}", headers={"Authorization": f"Bearer {session.token}"})
    assert head.headers["X-Received"] == str(MB)
    resent = put(https, transfer, session.token, data[:MB], 0, len(data))  # the answer was lost: too late
    assert resent.status_code == 416 and resent.headers["X-Received"] == str(MB)
    offset = MB
    while offset < len(data):
        chunk = data[offset : offset + MB]
        response = put(https, transfer, session.token, chunk, offset, len(data))
        assert response.status_code == 200, response.text
        offset += len(chunk)
    client.send({"type": "done", "request": asked["request"]})
    done = transfer_done(session)
    assert (done["state"], done["size"], done["done"]) == ("done", len(data), len(data))
    downloaded = https.get(f"/console/files/{done['file_id']}", headers={"Cookie": session.cookie})
    assert hashlib.sha256(downloaded.content).hexdigest() == hashlib.sha256(data).hexdigest()
    (logged,) = events_of(session.appliance, session.lsid, "File Download")
    assert (logged["filename"], logged["filesize"], logged["by"]) == ("report.bin", len(data), "customer")
    stored = session.appliance.data_dir / "files"
    assert not list(stored.rglob("*transfer-*"))
    client.close()


def test_a_file_goes_to_the_customers_computer_and_resumes(session: Session, https: httpx.Client) -> None:
    client = session.client(allowed=["files"], flag=True)
    data = os.urandom(3 * MB + 7)
    page = https.get("/console", headers={"Cookie": session.cookie}).text
    csrf = re.search(r'data-csrf="([^"]+)"', page)
    assert csrf is not None
    sent = https.post(
        f"/console/sessions/{session.lsid}/files",
        headers={
            "Cookie": session.cookie,
            "x-csrf-token": csrf.group(1),
            "x-gsnumber": str(session.alice.welcome["gsnumber"]),
        },
        data={"for": "computer"},
        files={"file": ("setup.exe", data)},
    )
    assert sent.status_code == 200, sent.text
    file_id = sent.json()["file_id"]
    assert events_of(session.appliance, session.lsid, "File Upload") == []  # staged: not a chat file
    session.alice.send(
        {"type": "file_put", "ref": "put", "lsid": session.lsid, "file_id": file_id, "path": "/home/tess/Downloads"}
    )
    fetch = client.until("fetch_file")
    assert (fetch["name"], fetch["size"], fetch["path"]) == ("setup.exe", len(data), "/home/tess/Downloads")
    assert session.alice.ack("put")["ok"]
    url = f"/client/transfers/{fetch['transfer']}"
    assert https.get(url).status_code == 401
    first = https.get(url, headers={"Authorization": f"Bearer {session.token}", "Range": "bytes=0-99999"})
    assert first.status_code == 206
    rest = https.get(url, headers={"Authorization": f"Bearer {session.token}", "Range": "bytes=100000-"})
    assert rest.status_code == 206
    assert hashlib.sha256(first.content + rest.content).hexdigest() == hashlib.sha256(data).hexdigest()
    client.send({"type": "done", "request": fetch["request"], "result": {"path": "/home/tess/Downloads/setup.exe"}})
    done = transfer_done(session)
    assert (done["state"], done["direction"]) == ("done", "upload")
    uploads = events_of(session.appliance, session.lsid, "File Upload")
    assert len(uploads) == 1, "one file sent to the computer is one File Upload"
    assert uploads[0]["data"] == {"path": "/home/tess/Downloads/setup.exe"}
    assert uploads[0]["filename"] == "setup.exe"
    client.close()


def stage(session: Session, https: httpx.Client, name: str, data: bytes) -> int:
    """The console's upload into the file store for file_put (form field for=computer)."""
    page = https.get("/console", headers={"Cookie": session.cookie}).text
    csrf = re.search(r'data-csrf="([^"]+)"', page)
    assert csrf is not None
    sent = https.post(
        f"/console/sessions/{session.lsid}/files",
        headers={
            "Cookie": session.cookie,
            "x-csrf-token": csrf.group(1),
            "x-gsnumber": str(session.alice.welcome["gsnumber"]),
        },
        data={"for": "computer"},
        files={"file": (name, data)},
    )
    assert sent.status_code == 200, sent.text
    return int(sent.json()["file_id"])


def test_a_file_of_a_folder_goes_into_its_folders(session: Session, https: httpx.Client) -> None:
    client = session.client(allowed=["files"], flag=True)
    file_id = stage(session, https, "q1.xlsx", b"figures")
    put_it = {"type": "file_put", "lsid": session.lsid, "file_id": file_id, "path": "/home/tess"}
    session.alice.send({**put_it, "ref": "put", "folders": "reports/2026"})
    fetch = client.until("fetch_file")
    assert (fetch["path"], fetch["name"], fetch["folders"]) == ("/home/tess", "q1.xlsx", "reports/2026")
    assert session.alice.ack("put")["result"]["path"] == "/home/tess"  # the folder the rep looks at
    where = "/home/tess/reports/2026/q1.xlsx"
    client.send({"type": "done", "request": fetch["request"], "result": {"path": where}})
    assert transfer_done(session)["state"] == "done"
    (logged,) = events_of(session.appliance, session.lsid, "File Upload")
    assert (logged["filename"], logged["data"]) == ("q1.xlsx", {"path": where})
    # Folders that climb out are refused before anything reaches the client.
    for folders in ("../etc", "a/../../b", "/etc", "a//b", "a\\b"):
        session.alice.send({**put_it, "ref": "bad", "folders": folders})
        refused = session.alice.ack("bad")
        assert not refused["ok"] and "folder" in refused["error"], folders
    client.close()


def test_a_failed_transfer_says_why(session: Session) -> None:
    client: ProgramSocket = session.client(allowed=["files"], flag=True)
    session.alice.send({"type": "file_get", "ref": "get", "lsid": session.lsid, "path": "/nope"})
    asked = client.until("send_file")
    assert session.alice.ack("get")["ok"]
    client.send({"type": "failed", "request": asked["request"], "error": "No such file /nope"})
    failed = transfer_done(session)
    assert (failed["state"], failed["error"]) == ("failed", "No such file /nope")
    client.close()


def test_a_folder_comes_zipped_and_is_named_so(session: Session, https: httpx.Client) -> None:
    import io
    import zipfile

    client = session.client(allowed=["files"], flag=True)
    session.alice.send({"type": "file_get", "ref": "get", "lsid": session.lsid, "path": "/home/tess/Documents/"})
    asked = client.until("send_file")
    assert session.alice.ack("get")["result"]["name"] == "Documents"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Documents/a.txt", "a")
    data = archive.getvalue()
    assert put(https, asked["transfer"], session.token, data, 0, len(data)).status_code == 200
    done = transfer_done(session)
    assert done["name"] == "Documents.zip"
    (logged,) = events_of(session.appliance, session.lsid, "File Download")
    assert logged["filename"] == "Documents.zip"
    client.close()


def test_an_empty_file_comes_from_the_customers_computer(session: Session, https: httpx.Client) -> None:
    client = session.client(allowed=["files"], flag=True)
    session.alice.send({"type": "file_get", "ref": "get", "lsid": session.lsid, "path": "/home/tess/empty.txt"})
    asked = client.until("send_file")
    assert session.alice.ack("get")["ok"]
    url = f"/client/transfers/{asked['transfer']}"
    bearer = {"Authorization": f"Bearer {session.token}"}
    sent = https.put(url, headers={**bearer, "Content-Range": "bytes */0"}, content=b"")
    assert sent.status_code == 200, sent.text
    client.send({"type": "done", "request": asked["request"]})
    done = transfer_done(session)
    assert (done["state"], done["size"]) == ("done", 0)
    downloaded = https.get(f"/console/files/{done['file_id']}", headers={"Cookie": session.cookie})
    assert downloaded.status_code == 200 and downloaded.content == b""
    (logged,) = events_of(session.appliance, session.lsid, "File Download")
    assert (logged["filename"], logged["filesize"]) == ("empty.txt", 0)
