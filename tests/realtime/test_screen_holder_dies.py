"""The process holding a customer's page share dies (kill -9): when the page comes back on
another process, every process stops showing the dead share and the page may share again.
Runs when DATABASE_URL and REDIS_URL point at real servers (as CI does)."""

from __future__ import annotations

import os

import pytest

from tests.support.appliance import two_processes
from tests.support.personas import provision
from tests.support.screens import ScreenConsole
from tests.support.sockets import CustomerClient, sign_in, start_by_issue

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)",
)


def test_a_page_share_whose_process_died_ends_when_the_page_comes_back(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with two_processes(tmp_path_factory.mktemp("holder-dies")) as (first, second):
        people = provision(first)
        alice = ScreenConsole(second, sign_in(second, "rep_a", people.rep_a.password))
        token = start_by_issue(first, "Pat Page", id=str(people.issue_started))
        page = CustomerClient(first, token=token)
        lsid = page.welcome["session"]["lsid"]
        alice.send({"type": "take", "ref": "take", "lsid": lsid})
        assert alice.ack("take")["ok"]
        page.send({"type": "screen_share", "ref": "share", "width": 64, "height": 48})
        stream = page.ack("share")["result"]["stream"]
        alice.screen(lambda s: s["share"] is not None and s["share"]["stream"] == stream)

        assert first.process is not None
        first.process.kill()  # no goodbye: nothing says the share ended
        first.process.wait()
        page.close()
        again = CustomerClient(second, token=token)
        assert again.welcome["session"]["lsid"] == lsid
        alice.screen(lambda s: s["share"] is None)
        again.send({"type": "screen_share", "ref": "share-again", "width": 64, "height": 48})
        shared = again.ack("share-again")
        assert shared["ok"], shared
        alice.screen(lambda s: s["share"] is not None and s["share"]["stream"] == shared["result"]["stream"])
        again.close()
        alice.close()
