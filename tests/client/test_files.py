"""Files: listings, and transfers over HTTP as the contract says (PUT chunks with
Content-Range, HEAD's X-Received to resume, GET with Range), through a scripted transfer
server on loopback that drops the connection mid-way; names that could escape the folder
are refused and nothing is overwritten."""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lifeline_client import files
from lifeline_client.start import Site
from lifeline_client.tls import trust

from tests.client.scripted import Certificate, make_certificate, server_context

TOKEN = "customer-token"


@dataclass
class Store:
    uploads: dict[str, bytearray] = field(default_factory=dict)
    downloads: dict[str, bytes] = field(default_factory=dict)
    lose_next_answer: bool = False
    cut_next_get: bool = False
    seen: list[str] = field(default_factory=list)


def handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Transfers(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _id(self) -> str | None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_error(401)
                return None
            match = re.fullmatch(r"/client/transfers/(\w+)", self.path)
            if match is None:
                self.send_error(404)
                return None
            return match.group(1)

        def do_HEAD(self) -> None:
            if (transfer := self._id()) is None:
                return
            self.send_response(200)
            self.send_header("X-Received", str(len(store.uploads.setdefault(transfer, bytearray()))))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_PUT(self) -> None:
            if (transfer := self._id()) is None:
                return
            ranged = self.headers.get("Content-Range", "")
            store.seen.append(ranged)
            if transfer == "big":  # over the file store's limit: refused before the body is read
                said = b'{"error": "files are limited to 10 bytes"}'
                self.send_response(413)
                self.send_header("Content-Length", str(len(said)))
                self.end_headers()
                self.wfile.write(said)
                self.close_connection = True
                return
            length = int(self.headers["Content-Length"])
            assert length <= files.CHUNK
            body = self.rfile.read(length)
            received = store.uploads.setdefault(transfer, bytearray())
            match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", ranged)
            if match is None:
                assert ranged == "bytes */0" and not body
            elif int(match.group(1)) != len(received):  # not where the last chunk ended
                self.send_response(416)
                self.send_header("X-Received", str(len(received)))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            else:
                assert int(match.group(2)) == len(received) + len(body) - 1
                received += body
            if store.lose_next_answer:  # stored, but the answer never reaches the client
                store.lose_next_answer = False
                self.close_connection = True
                self.wfile.close()
                return
            self.send_response(200)
            self.send_header("X-Received", str(len(received)))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            if (transfer := self._id()) is None:
                return
            data = store.downloads[transfer]
            start = 0
            if ranged := self.headers.get("Range"):
                match = re.fullmatch(r"bytes=(\d+)-", ranged)
                assert match is not None
                start = int(match.group(1))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            if store.cut_next_get:  # half the body, then the connection drops
                store.cut_next_get = False
                self.wfile.write(data[start : start + (len(data) - start) // 2])
                self.close_connection = True
                return
            self.wfile.write(data[start:])

    return Transfers


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "tls")


@pytest.fixture
def served(certificate: Certificate) -> Iterator[tuple[Store, files.Transfers]]:
    store = Store()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(store))
    server.socket = server_context(certificate).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        site = Site("127.0.0.1", server.server_address[1])
        yield store, files.Transfers(site, trust(ca=certificate.cert), TOKEN)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def never() -> bool:
    return False


def test_a_chunk_the_appliance_has_already_is_skipped(served: tuple[Store, files.Transfers]) -> None:
    store, transfers = served
    store.uploads["t9"] = bytearray(b"abc")
    assert transfers.put("t9", 0, b"abc", 6) == 3  # 416: it has 3 bytes
    assert transfers.put("t9", 3, b"def", 6) == 6
    assert store.uploads["t9"] == b"abcdef"


def test_a_file_is_sent_in_chunks_and_resumed_after_a_drop(
    served: tuple[Store, files.Transfers], tmp_path: Path
) -> None:
    store, transfers = served
    data = os.urandom(3 * files.CHUNK + 12345)
    (tmp_path / "big.bin").write_bytes(data)
    store.lose_next_answer = True
    result = files.send(transfers, "t1", str(tmp_path / "big.bin"), never)
    assert result == {"name": "big.bin", "size": len(data)}
    assert hashlib.sha256(store.uploads["t1"]).digest() == hashlib.sha256(data).digest()
    # The first chunk arrived but its answer was lost: HEAD said 1 MiB, and it went on from there.
    assert store.seen[:2] == [
        f"bytes 0-{files.CHUNK - 1}/{len(data)}",
        f"bytes {files.CHUNK}-{2 * files.CHUNK - 1}/{len(data)}",
    ]
    (tmp_path / "empty").write_bytes(b"")
    assert files.send(transfers, "t2", str(tmp_path / "empty"), never) == {"name": "empty", "size": 0}


def test_a_folder_is_sent_zipped(served: tuple[Store, files.Transfers], tmp_path: Path) -> None:
    store, transfers = served
    folder = tmp_path / "reports"
    (folder / "q1").mkdir(parents=True)
    (folder / "q1" / "a.txt").write_text("alpha")
    (folder / "b.txt").write_text("beta")
    result = files.send(transfers, "t3", str(folder), never)
    assert result["name"] == "reports.zip"
    (tmp_path / "got.zip").write_bytes(store.uploads["t3"])
    with zipfile.ZipFile(tmp_path / "got.zip") as archive:
        assert sorted(archive.namelist()) == ["b.txt", "q1/a.txt"]
        assert archive.read("q1/a.txt") == b"alpha"


def test_a_file_is_fetched_resumed_and_never_overwrites(served: tuple[Store, files.Transfers], tmp_path: Path) -> None:
    store, transfers = served
    data = os.urandom(2 * 1024 * 1024 + 7)
    store.downloads["t4"] = data
    (tmp_path / "report.pdf").write_bytes(b"the customer's own")
    store.cut_next_get = True
    result = files.fetch(transfers, "t4", str(tmp_path), "report.pdf", len(data), never)
    assert result == {"path": str(tmp_path / "report (1).pdf")}
    assert (tmp_path / "report (1).pdf").read_bytes() == data
    assert (tmp_path / "report.pdf").read_bytes() == b"the customer's own"
    assert not (tmp_path / "report.pdf.part").exists()


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".", "", "x\x00y", "a\\b"])
def test_names_that_leave_the_folder_are_refused(
    served: tuple[Store, files.Transfers], tmp_path: Path, name: str
) -> None:
    _, transfers = served
    with pytest.raises(files.FileError, match="Not a valid file name"):
        files.fetch(transfers, "t5", str(tmp_path), name, 1, never)


def test_a_file_is_fetched_into_folders_made_for_it(served: tuple[Store, files.Transfers], tmp_path: Path) -> None:
    store, transfers = served
    store.downloads["t10"] = b"alpha"
    store.downloads["t11"] = b"beta"
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "a.txt").write_text("the customer's own")
    first = files.fetch(transfers, "t10", str(tmp_path), "a.txt", 5, never, "reports/q1/june")
    assert first == {"path": str(tmp_path / "reports" / "q1" / "june" / "a.txt")}
    # The folder is there now: the next file joins it, and a name taken gets " (1)".
    second = files.fetch(transfers, "t11", str(tmp_path), "a.txt", 4, never, "reports")
    assert second == {"path": str(tmp_path / "reports" / "a (1).txt")}
    assert (tmp_path / "reports" / "a.txt").read_text() == "the customer's own"
    assert (tmp_path / "reports" / "a (1).txt").read_bytes() == b"beta"


@pytest.mark.parametrize("folders", ["../escape", "a/../../b", "/etc", "a//b", "a/", ".", "a/./b", "x\x00y", "a\\b"])
def test_folders_that_leave_the_folder_are_refused(
    served: tuple[Store, files.Transfers], tmp_path: Path, folders: str
) -> None:
    store, transfers = served
    store.downloads["t12"] = b"x"
    inside = tmp_path / "inside"
    inside.mkdir()
    with pytest.raises(files.FileError, match="Not a valid folder name"):
        files.fetch(transfers, "t12", str(inside), "x", 1, never, folders)
    assert list(inside.iterdir()) == []  # nothing made before the refusal
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inside", "tls"]


def test_a_link_or_a_file_in_the_way_is_not_followed(served: tuple[Store, files.Transfers], tmp_path: Path) -> None:
    store, transfers = served
    store.downloads["t13"] = b"x"
    outside = tmp_path / "outside"
    outside.mkdir()
    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "away").symlink_to(outside)
    (inside / "plain").write_text("a file")
    with pytest.raises(files.FileError, match="is not a folder"):
        files.fetch(transfers, "t13", str(inside), "x", 1, never, "away/deeper")
    with pytest.raises(files.FileError, match="is not a folder"):
        files.fetch(transfers, "t13", str(inside), "x", 1, never, "plain")
    assert list(outside.iterdir()) == []


def test_errors_are_the_contracts_words(served: tuple[Store, files.Transfers], tmp_path: Path) -> None:
    _, transfers = served
    (tmp_path / "large").write_bytes(b"x" * 11)
    with pytest.raises(files.FileError, match=r"^The appliance refused the transfer: files are limited to 10 bytes$"):
        files.send(transfers, "big", str(tmp_path / "large"), never)
    with pytest.raises(files.FileError, match="No such file /no/such/file"):
        files.send(transfers, "t6", "/no/such/file", never)
    with pytest.raises(files.FileError, match="No such folder /no/such"):
        files.fetch(transfers, "t7", "/no/such", "x", 1, never)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        if os.geteuid() != 0:  # root reads anything
            with pytest.raises(files.FileError, match="Permission denied"):
                files.list_folder(str(locked))
    finally:
        locked.chmod(0o700)
    bad = files.Transfers(transfers._site, trust(ca=None), TOKEN)
    with pytest.raises(ssl.SSLCertVerificationError):
        bad.received("t8")


def test_listing(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("12345")
    (tmp_path / "A").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "b.txt")
    listing = files.list_folder(str(tmp_path))
    assert [(e.name, e.kind) for e in listing.entries] == [("A", "folder"), ("b.txt", "file"), ("link", "link")]
    assert listing.entries[1].size == 5 and listing.parent == str(tmp_path.parent)
    assert files.list_folder("/").parent is None
    assert files.list_folder(str(tmp_path / "A" / ".." / "A")).path == str(tmp_path / "A")
    assert files.free_name(str(tmp_path), "b.txt") == "b (1).txt"
    assert files.free_name(str(tmp_path), "new") == "new"


def test_a_listing_fits_in_a_message(tmp_path: Path) -> None:
    for n in range(300):
        (tmp_path / (f"{n:03}" + "x" * 200)).touch()
    listing = files.list_folder(str(tmp_path))
    assert len(listing.entries) == 300 and not listing.truncated
    cut = files.fit(listing, 32 * 1024)
    assert cut.truncated and 0 < len(cut.entries) < 300 and cut.entries == listing.entries[: len(cut.entries)]
