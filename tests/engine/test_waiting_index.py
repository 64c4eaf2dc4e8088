"""The hub's index of waiting sessions: places in line and queue changes."""

from __future__ import annotations

from typing import Any

from lifeline.realtime.hub import WaitingIndex


def state(
    lsid: str, start: float, queue: tuple[str, int] = ("team", 1), status: str = "waiting", version: int = 1
) -> dict[str, Any]:
    return {
        "lsid": lsid,
        "start_time": start,
        "status": status,
        "version": version,
        "queue": {"kind": queue[0], "id": queue[1], "name": ""},
    }


def test_places_in_line_follow_arrival_and_departures() -> None:
    index = WaitingIndex()
    for n, lsid in enumerate(["c", "a", "b"]):
        index.apply(state(lsid, start=10.0 + n))
    assert [index.position_of(x) for x in ("c", "a", "b")] == [1, 2, 3]
    assert index.apply(state("c", 10.0, status="active", version=2)) == {("team", 1)}
    assert [index.position_of(x) for x in ("c", "a", "b")] == [None, 1, 2]


def test_a_transfer_changes_both_lines_and_late_snapshots_are_ignored() -> None:
    index = WaitingIndex()
    index.apply(state("a", 1.0, version=3))
    assert index.apply(state("a", 1.0, queue=("general", 0), version=5)) == {("team", 1), ("general", 0)}
    assert index.apply(state("a", 1.0, version=4)) == set()
    assert index.line(("team", 1)) == []
    assert index.position_of("a") == 1
