"""System information: every category is a table the protocol accepts (InfoCategory), with
rows as wide as their fields, text cells and bounded sizes."""

from __future__ import annotations

import subprocess
import sys

import msgspec
from lifeline_client import sysinfo
from lifeline_protocol.computer import MAX_INFO_ROWS, MAX_TEXT, Computer, InfoCategory


def valid(category: InfoCategory) -> InfoCategory:
    """Through the wire and back with the protocol's validation."""
    return msgspec.json.decode(msgspec.json.encode(category), type=InfoCategory)


def test_every_category_has_the_contracts_shape() -> None:
    categories = sysinfo.gather(1024 * 1024)
    assert [c.id for c in categories] == ["overview", "network", "drives", "processes", "services", "programs"]
    for category in categories:
        checked = valid(category)
        width = len(checked.fields)
        assert all(len(row) == width and all(isinstance(cell, str) for cell in row) for row in checked.rows)
        assert all(field.id.islower() and " " not in field.id for field in checked.fields)
        assert len(checked.rows) <= MAX_INFO_ROWS
    by_id = {c.id: c for c in categories}
    overview = dict(zip([f.id for f in by_id["overview"].fields], by_id["overview"].rows[0], strict=True))
    assert overview["hostname"] and overview["os"] and overview["memory_total"].endswith("MB")
    assert any(row[1] for row in by_id["network"].rows)  # addresses
    assert any(row[0] == "/" for row in by_id["drives"].rows)
    pids = {row[0] for row in by_id["processes"].rows}
    assert str(__import__("os").getpid()) in pids
    assert by_id["programs"].rows  # dpkg on this Debian machine


def test_tables_are_bounded() -> None:
    big = sysinfo.table("t", "T", [("a", "A"), ("b", "B")], ([str(i), "x" * 5000, "extra"] for i in range(10_000)))
    assert len(big.rows) == MAX_INFO_ROWS
    assert all(len(row) == 2 and len(row[1]) == MAX_TEXT for row in big.rows)
    short = sysinfo.table("t", "T", [("a", "A"), ("b", "B")], [[None]])
    assert short.rows == [["", ""]]
    fitted = sysinfo.fit([big], 200_000)
    assert len(msgspec.json.encode(fitted)) <= 200_000 and fitted[0].rows


def test_the_computer_in_the_hello() -> None:
    computer = sysinfo.computer("192.0.2.7", "0.1.0")
    checked = msgspec.json.decode(msgspec.json.encode(computer), type=Computer)
    assert checked.platform == "linux" and checked.private_ip == "192.0.2.7" and checked.hostname


def test_ending_a_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert sysinfo.end_process(child.pid) is None
        assert child.wait(5) is not None
    finally:
        child.kill()
        child.wait()
    assert sysinfo.end_process(child.pid) == f"No process {child.pid}"
