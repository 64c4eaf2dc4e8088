"""Two appliance processes sharing PostgreSQL and Redis behave as one appliance: a rep on
one and a customer on the other chat normally, and get_logged_in_reps on either lists
the rep. Runs when DATABASE_URL and REDIS_URL point at real servers (as CI does)."""

from __future__ import annotations

import time

from tests.admin.helpers import csrf_of
from tests.support.appliance import RunningAppliance, needs_two_processes
from tests.support.command import CommandApi
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, sign_in, start_by_issue

pytestmark = needs_two_processes


def reps_listed(appliance: RunningAppliance, personas: Personas) -> set[str]:
    with appliance.client() as client:
        return {rep.get("id") or "" for rep in CommandApi(client).call("get_logged_in_reps", personas.admin.params)}


def test_a_rep_on_one_process_and_a_customer_on_the_other_chat(
    pair: tuple[RunningAppliance, RunningAppliance], people: Personas
) -> None:
    first, second = pair
    cookie = sign_in(first, "rep_a", people.rep_a.password)
    console = Console(first, cookie)

    # get_logged_in_reps on either process lists the rep, at once (Redis carries the change).
    deadline = time.monotonic() + 2
    while str(people.rep_a.id) not in reps_listed(second, people):
        assert time.monotonic() < deadline, "the other process never listed the rep"
        time.sleep(0.05)
    assert str(people.rep_a.id) in reps_listed(first, people)

    # The customer arrives through the other process and waits in Team A's queue.
    token = start_by_issue(second, "Pat Across", id=str(people.issue_started))
    customer = CustomerClient(second, token=token)
    assert customer.welcome["session"]["status"] == "waiting"
    lsid = customer.welcome["session"]["lsid"]
    queued = console.until("session")
    while queued["session"]["lsid"] != lsid:
        queued = console.until("session")
    assert queued["session"]["status"] == "waiting"

    console.send({"type": "take", "ref": "take", "lsid": lsid})
    assert console.ack("take")["ok"]
    assert customer.until("state")["session"]["reps"] == ["Alice Rep"]

    console.send({"type": "chat", "ref": "c1", "lsid": lsid, "body": "Hello from the first process"})
    assert customer.event("Chat Message")["event"]["body"] == "Hello from the first process"
    customer.send({"type": "chat", "ref": "c2", "body": "Hello from the second"})
    heard = console.event("Chat Message")
    while heard["event"]["body"] != "Hello from the second":
        heard = console.event("Chat Message")
    assert heard["lsid"] == lsid

    console.send({"type": "end", "ref": "end", "lsid": lsid})
    assert console.ack("end")["ok"]
    assert customer.event("Session End")["event"]["performed_by"]["name"] == "Alice Rep"
    console.send({"type": "logout"})
    console.close()
    customer.close()
    deadline = time.monotonic() + 2
    while str(people.rep_a.id) in reps_listed(second, people):
        assert time.monotonic() < deadline, "the other process still lists the rep"
        time.sleep(0.05)


def test_an_ended_sign_in_closes_its_consoles_on_every_process(
    pair: tuple[RunningAppliance, RunningAppliance], people: Personas
) -> None:
    first, second = pair
    first.cli("user", "add", "leaver", "--password", "leaver-password", "--support")
    cookie = sign_in(first, "leaver", "leaver-password")
    on_second = Console(second, cookie)
    name, value = cookie.split("=", 1)
    with first.client(cookies={name: value}) as browser:  # signs out through the other process
        browser.post("/console/logout", data={"csrf": csrf_of(browser.get("/console"))})
    assert on_second.close_code(timeout=5) == 4401  # Redis carried the sign-out

    consoles = [Console(appliance, sign_in(first, "leaver", "leaver-password")) for appliance in pair]
    first.cli("user", "set", "leaver", "--no-enabled")
    assert [console.close_code(timeout=5) for console in consoles] == [4401, 4401]


def test_a_customer_leaving_one_process_shows_on_the_other_and_ends_there_too(
    pair: tuple[RunningAppliance, RunningAppliance], people: Personas
) -> None:
    first, second = pair
    first.cli_settled("settings", "set", "customer_reconnect_seconds", "2")
    console = Console(first, sign_in(first, "rep_a", people.rep_a.password))
    token = start_by_issue(second, "Pat Leaving", id=str(people.issue_started))
    customer = CustomerClient(second, token=token)
    lsid = customer.welcome["session"]["lsid"]
    console.send({"type": "take", "ref": "take", "lsid": lsid})
    assert console.ack("take")["ok"]
    customer.send({"type": "typing"})  # crosses to the other process like any live message
    assert console.until("typing")["lsid"] == lsid
    console.send({"type": "typing", "lsid": lsid})
    assert customer.until("typing")["who"]["name"] == "Alice Rep"
    customer.close()
    seen = []
    while not seen or seen[-1] != ("ended", "gone"):
        state = console.until("session")["session"]
        if state["lsid"] == lsid:
            seen.append((state["status"], state["customer"]["connection"]))
    assert ("active", "reconnecting") in seen

    # A reload that lands on the other process takes the connection along: connected again.
    token = start_by_issue(second, "Pat Reloading", id=str(people.issue_started))
    customer = CustomerClient(second, token=token)
    lsid = customer.welcome["session"]["lsid"]
    customer.close()
    back = CustomerClient(first, token=token)
    assert back.welcome["type"] == "welcome"
    time.sleep(3.5)  # past the grace: still there
    back.send({"type": "ping"})
    assert back.until("pong")
    state = console.until("session")["session"]
    while state["lsid"] != lsid or state["customer"]["connection"] != "connected":
        state = console.until("session")["session"]
    assert state["status"] == "waiting"
    back.send({"type": "end", "ref": "end"})
    assert back.ack("end")["ok"]
    back.close()
    console.send({"type": "logout"})
    console.close()
