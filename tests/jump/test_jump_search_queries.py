"""The Jump list is a hot read (every keystroke of the console's search box): a page costs
the same few statements whatever its size, and the filtering, sorting and paging are SQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifeline_protocol import console as wire
from sqlalchemy import event
from sqlalchemy.orm import Session

from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config, normalize_database_url
from lifeline.db.engine import Database
from lifeline.directory.models import User
from lifeline.jump.models import JumpClient, JumpGroup, JumpGroupMember
from lifeline.jump.queries import search
from tests.support.appliance import ScratchDatabase


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    scratch = ScratchDatabase(tmp_path)
    config = Config(data_dir=tmp_path / "data", database_url=normalize_database_url(scratch.url) if scratch.url else "")
    database = open_database(config)
    database.call(ensure_appliance, "support.example.com")
    try:
        yield database
    finally:
        database.close()
        scratch.drop()


def three_hundred_clients(session: Session) -> int:
    rep = User(username="jumper", password_hash="x", display_name="Jumper", perm_support=True)
    group = JumpGroup(name="Branch offices")
    session.add_all([rep, group])
    session.flush()
    session.add(JumpGroupMember(jump_group_id=group.id, user_id=rep.id))
    for n in range(300):
        personal = n % 10 == 0
        session.add(
            JumpClient(
                public_key=secrets.token_urlsafe(32),
                jump_group_id=None if personal else group.id,
                personal_user_id=rep.id if personal else None,
                hostname=f"pc-{n:03d}",
                comments=f"floor {n % 4}",
            )
        )
    return rep.id


def statements(db: Database, work: Any) -> tuple[Any, int]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = db.call(work)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, len([s for s in seen if s.lstrip().upper().startswith("SELECT")])


@pytest.mark.parametrize("limit", [1, 100, 500])
def test_a_page_costs_three_statements_whatever_its_size(db: Database, limit: int) -> None:
    rep_id = db.call(three_hundred_clients)
    request = wire.JumpListRequest(search="floor", sort="group", limit=limit)
    found, selects = statements(db, lambda session: search(session, rep_id, request))
    assert found.total == 300 and len(found.items) == min(limit, 300)
    assert selects == 3  # the page's ids with the count, their rows, the rep's groups
    groups = {item.group_name for item in found.items}
    assert groups <= {"Branch offices", "Personal list of Jumper"}
