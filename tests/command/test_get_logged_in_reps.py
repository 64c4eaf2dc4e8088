"""get_logged_in_reps: who is logged into the console right now."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_17, NS_LATER, CommandApi, error_of, local
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.support.xmlcheck import q, text_of


def reps(api: CommandApi, auth: dict[str, str] | str, ns: bool = False):  # type: ignore[no-untyped-def]
    root = api.call("get_logged_in_reps", auth, ns=ns)
    assert local(root) == "logged_in_reps"
    return root


def rep_ids(root) -> list[str]:  # type: ignore[no-untyped-def]
    return [rep.get("id") for rep in root]


@pytest.fixture
def alice_online(node: ConsoleNode) -> Iterator[int]:
    gsnumber = node.log_in("rep_a")
    yield gsnumber
    node.log_out(gsnumber)


def test_nobody_logged_in_is_an_empty_list_with_an_open_and_close_tag(
    api: CommandApi, personas: Personas, client: httpx.Client
) -> None:
    root = reps(api, personas.admin.params, ns=True)
    assert len(root) == 0
    raw = client.get("/api/command.ns", params={**personas.admin.params, "action": "get_logged_in_reps"}).text
    assert f'<logged_in_reps xmlns="{NS_17}">' in raw
    assert "</logged_in_reps>" in raw


def test_a_logged_in_rep_is_described_as_the_17_guide_says(
    api: CommandApi, personas: Personas, alice_online: int
) -> None:
    root = eventually(lambda: _with_reps(reps(api, personas.admin.params, ns=True), 1, {personas.rep_a.id}))
    [rep] = list(root)
    assert rep.attrib == {"id": str(personas.rep_a.id)}  # integrations take the last attribute as the id
    assert [local(child) for child in rep] == [
        "display_name",
        "type",
        "direct_link",
        "logged_in_since",
        "presentation_count",
        "support_session_count",
        "showing_on_rep_list",
    ]
    assert text_of(rep, NS_17, "display_name") == "Alice Rep"
    assert text_of(rep, NS_17, "type") == "Normal"
    link = text_of(rep, NS_17, "direct_link")
    href = html.unescape(re.fullmatch(r'<a href="([^"]+)">Alice Rep</a>', link).group(1))  # type: ignore[union-attr]
    parts = urlsplit(href)
    assert (parts.scheme, parts.hostname, parts.path) == ("https", "support.example.com", "/api/start_session.ns")
    assert parse_qs(parts.query) == {"id": [str(personas.rep_a.id)], "name": ["Alice Rep"]}
    since = rep.find(q(NS_17, "logged_in_since"))
    assert since is not None
    assert abs(int(since.get("timestamp") or 0) - time.time()) < 60
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", since.text or "")
    assert (text_of(rep, NS_17, "support_session_count"), text_of(rep, NS_17, "showing_on_rep_list")) == ("0", "1")


def _with_reps(root, count: int, ids: set[int] | None = None):  # type: ignore[no-untyped-def]
    assert len(root) == count, len(root)
    if ids is not None:
        assert {int(rep.get("id")) for rep in root} == ids
    return root


def test_the_later_url_adds_public_and_private_display_names(
    api: CommandApi, personas: Personas, alice_online: int
) -> None:
    root = eventually(lambda: _with_reps(reps(api, personas.admin.params), 1, {personas.rep_a.id}))
    assert [local(child) for child in root[0]][:3] == ["display_name", "public_display_name", "private_display_name"]
    assert text_of(root[0], NS_LATER, "direct_link").count("/api/start_session?") == 1


def test_scripts_counting_display_name_lines_count_reps(
    personas: Personas, client: httpx.Client, node: ConsoleNode
) -> None:
    online = [node.log_in("rep_a"), node.log_in("rep_b")]
    try:

        def lines() -> None:
            body = client.get("/api/command.ns", params={**personas.admin.params, "action": "get_logged_in_reps"}).text
            assert sum("display_name" in line for line in body.splitlines()) == 2

        eventually(lines)
    finally:
        for gsnumber in online:
            node.log_out(gsnumber)


def test_an_embassy_rep_and_a_hidden_rep_are_told_apart(api: CommandApi, personas: Personas, node: ConsoleNode) -> None:
    online = [node.log_in("embassy_rep"), node.log_in("rep_b", showing=False)]
    try:
        expected = {personas.embassy_rep.id, personas.rep_b.id}
        root = eventually(lambda: _with_reps(reps(api, personas.admin.params), 2, expected))
        by_id = {rep.get("id"): rep for rep in root}
        embassy = by_id[str(personas.embassy_rep.id)]
        assert text_of(embassy, NS_LATER, "type") == "Embassy"
        assert text_of(embassy, NS_LATER, "showing_on_rep_list") == "0"  # no permission to show
        assert text_of(by_id[str(personas.rep_b.id)], NS_LATER, "showing_on_rep_list") == "0"  # chose not to
    finally:
        for gsnumber in online:
            node.log_out(gsnumber)


def test_session_counts_follow_the_sessions_a_rep_is_in(
    api: CommandApi, personas: Personas, node: ConsoleNode, alice_online: int
) -> None:
    started = node.start_session(f"team:{personas.team_a}")
    node.take(started.lsid, alice_online)

    def count(expected: str) -> None:
        root = reps(api, personas.admin.params)
        assert text_of(root[0], NS_LATER, "support_session_count") == expected

    eventually(lambda: count("1"))
    api.call("terminate_session", personas.admin.params, lsid=started.lsid)
    eventually(lambda: count("0"))


def test_a_rep_who_logs_out_leaves_the_list(api: CommandApi, personas: Personas, node: ConsoleNode) -> None:
    gsnumber = node.log_in("rep_b")
    eventually(lambda: _with_reps(reps(api, personas.admin.params), 1, {personas.rep_b.id}))
    node.log_out(gsnumber)
    eventually(lambda: _with_reps(reps(api, personas.admin.params), 0))


def test_a_rep_logged_in_by_another_appliance_process_shows_within_a_second(
    api: CommandApi, personas: Personas, node: ConsoleNode
) -> None:
    eventually(lambda: _with_reps(reps(api, personas.admin.params), 0))  # warm the cache first
    gsnumber = node.log_in("rep_b")
    try:
        started = time.monotonic()
        eventually(lambda: _with_reps(reps(api, personas.admin.params), 1, {personas.rep_b.id}), timeout=2)
        assert time.monotonic() - started < 1.5
    finally:
        node.log_out(gsnumber)


def test_who_may_list_reps(api: CommandApi, personas: Personas, client: httpx.Client) -> None:
    assert local(reps(api, personas.api_user.params)) == "logged_in_reps"
    assert local(reps(api, personas.readonly.token(client))) == "logged_in_reps"
    refused = api.call("get_logged_in_reps", personas.rep_a.params, ns=True)
    assert local(refused) == "logged_in_reps"  # 1.7: the error sits inside the answer's root
    assert error_of(refused) == "This user does not have permission to use the command API"
    assert local(api.call("get_logged_in_reps", personas.noaccess.token(client))) == "error"


def test_a_wrong_password_on_the_ns_url_reads_login_failed_inside_the_root(
    personas: Personas, client: httpx.Client, appliance: RunningAppliance
) -> None:
    body = client.get(
        "/api/command.ns", params={"username": "admin", "password": "nope", "action": "get_logged_in_reps"}
    ).text
    assert "<error>Login failed</error>" in body
