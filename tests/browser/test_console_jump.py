"""The console's Jump view in Chromium: the Jump Clients a rep may use (rows in the real
appliance's database), searched as the rep types, filtered by group and online state,
sorted by a column, removed; a client script that matches several opens the chooser, and a
Jump that cannot start says why in words.

Online rows here have `connected_node` set to a node no process holds: a Jump to one is told
to nobody and fails after the appliance's wait, which is the part shown here; jumping to a
real Jump Client is in test_console_jump_session.py. That node is listed as alive (its last
heartbeat lies ahead): the appliance's sweep marks the clients of unknown or silent nodes
offline every 10 s, and a slow run of this module outlasted that."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, expect
from sqlalchemy.orm import Session

from lifeline.appliance.models import Node
from lifeline.db.base import utcnow
from lifeline.jump.models import JumpClient, JumpGroup, JumpGroupMember
from tests.browser.pages import Console
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas

LOGIN = "action=login&hostname=support.example.com"
NO_PROCESS = "no-such-node"


def add_group(appliance: RunningAppliance, name: str, *, users: tuple[int, ...] = ()) -> int:
    def add(session: Session) -> int:
        group = JumpGroup(name=name)
        session.add(group)
        session.flush()
        session.add_all(JumpGroupMember(jump_group_id=group.id, user_id=user) for user in users)
        return group.id

    return appliance.call(add)


def add_client(
    appliance: RunningAppliance, hostname: str, *, group: int | None = None, personal: int | None = None,
    online: bool = True, **fields: object,
) -> int:  # fmt: skip
    def add(session: Session) -> int:
        client = JumpClient(
            public_key=secrets.token_urlsafe(32), jump_group_id=group, personal_user_id=personal,
            name=str(fields.pop("name", hostname)), hostname=hostname, os="Debian GNU/Linux 13", platform="linux",
            connected_node=NO_PROCESS if online else None, last_seen_at=utcnow(), **fields,
        )  # fmt: skip
        session.add(client)
        session.flush()
        return client.id

    return appliance.call(add)


def add_node_no_process_holds(appliance: RunningAppliance) -> None:
    def add(session: Session) -> None:
        session.add(Node(id=NO_PROCESS, hostname="nowhere.example.lan", last_seen=utcnow() + timedelta(days=1)))

    appliance.call(add)


@pytest.fixture(scope="module")
def rows(appliance: RunningAppliance, personas: Personas) -> dict[str, int]:
    add_node_no_process_holds(appliance)
    servers = add_group(appliance, "Servers", users=(personas.rep_a.id,))
    others = add_group(appliance, "Finance")
    return {
        "servers": servers,
        "web1": add_client(
            appliance,
            "web1.example.lan",
            group=servers,
            comments="shop front",
            tag="web",
            private_ip="10.0.0.5",
            cpu=12.0,
            disk=40.0,
            uptime=90000,
            console_user="www",
        ),
        "web2": add_client(appliance, "web2.example.lan", group=servers, comments="shop back", tag="web", online=False),
        "db1": add_client(appliance, "db1.example.lan", group=servers, comments="Example Co database", tag="db"),
        "laptop": add_client(appliance, "alice-laptop", personal=personas.rep_a.id, name="Alice's laptop"),
        "jumpoint": add_client(appliance, "jp-lab", group=servers, mode="jumpoint", name="Lab Jumpoint"),
        "hidden": add_client(appliance, "finance-pc", group=others),
    }


@pytest.fixture
def alice(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    console = Console(browser, appliance)
    console.page.set_viewport_size({"width": 1400, "height": 900})
    console.sign_in("rep_a", personas.rep_a.password)
    yield console
    assert console.errors == []
    console.close()


def names(alice: Console) -> Locator:
    return alice.page.locator("#jump tr.jump-item td.name")


def test_the_jump_view_searches_filters_sorts_and_removes(
    alice: Console, rows: dict[str, int], output_dir: Path
) -> None:
    page = alice.page
    page.click("#jump-button")
    expect(page.locator("#jump")).to_be_visible()
    expect(names(alice)).to_have_text(["Alice's laptop", "db1.example.lan", "Lab Jumpoint (Jumpoint)",
                                       "web1.example.lan", "web2.example.lan"])  # fmt: skip
    expect(page.locator(".jump-count")).to_have_text("1\N{EN DASH}5 of 5")
    web1 = page.locator(f'tr[data-jump-client="{rows["web1"]}"]')
    expect(web1.locator(".stats")).to_have_text("User: www · CPU 12% · Disk 40% · Up 1 d 1 h")
    expect(web1).to_have_class("jump-item online")
    expect(page.locator(f'tr[data-jump-client="{rows["web2"]}"] button.jump')).to_be_disabled()
    expect(page.locator(f'tr[data-jump-client="{rows["jumpoint"]}"] button.shell-jump')).to_be_visible()
    page.screenshot(path=str(output_dir / "console-jump-view.png"))

    # Search as you type: the box keeps its focus and text through each answer.
    page.locator("#jump input[name=jump_search]").press_sequentially("shop", delay=30)
    expect(names(alice)).to_have_text(["web1.example.lan", "web2.example.lan"])
    expect(page.locator("#jump input[name=jump_search]")).to_be_focused()
    page.fill("#jump input[name=jump_search]", "10.0.0.5")
    expect(names(alice)).to_have_text(["web1.example.lan"])
    page.fill("#jump input[name=jump_search]", "")
    expect(names(alice)).to_have_count(5)

    page.select_option("#jump select[name=jump_group]", "personal")
    expect(names(alice)).to_have_text(["Alice's laptop"])
    page.select_option("#jump select[name=jump_group]", f"group:{rows['servers']}")
    page.select_option("#jump select[name=jump_online]", "offline")
    expect(names(alice)).to_have_text(["web2.example.lan"])
    page.select_option("#jump select[name=jump_online]", "online")
    expect(names(alice)).to_have_count(3)
    page.select_option("#jump select[name=jump_online]", "")
    page.select_option("#jump select[name=jump_group]", "")

    page.click('#jump button[data-sort="hostname"]')
    expect(page.locator('#jump th[aria-sort="ascending"]')).to_have_text("Hostname ▲")
    expect(names(alice).first).to_have_text("Alice's laptop")  # alice-laptop: first by hostname
    page.click('#jump button[data-sort="hostname"]')
    expect(names(alice).first).to_have_text("web2.example.lan")
    expect(page.locator('#jump th[aria-sort="descending"]')).to_have_text("Hostname ▼")
    # Two clicks before the first answer is drawn still turn the order round.
    page.locator('#jump button[data-sort="name"]').dblclick()
    expect(page.locator('#jump th[aria-sort="descending"]')).to_have_text("Name ▼")
    expect(names(alice).first).to_have_text("web2.example.lan")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'tr[data-jump-client="{rows["db1"]}"] button.remove').click()
    expect(page.locator(f'tr[data-jump-client="{rows["db1"]}"]')).to_have_count(0)
    expect(page.locator(".jump-count")).to_have_text("1\N{EN DASH}4 of 4")

    page.click("#jump-button")
    expect(page.locator("#jump")).to_be_hidden()


def test_a_script_matching_several_opens_the_chooser_and_a_failed_jump_says_why(
    alice: Console, rows: dict[str, int]
) -> None:
    page = alice.page
    script = f"BRCS1.0\n{LOGIN}\naction=start_pinned_client_session&search_string=shop"
    page.set_input_files("#script-file", files=[{"name": "s.brcs-support-example-com", "mimeType": "text/plain",
                                                  "buffer": script.encode()}])  # fmt: skip
    chooser = page.locator("#jump-chooser")
    expect(chooser).to_be_visible()
    expect(chooser.locator("button.choose")).to_have_count(2)
    expect(chooser.locator(f'button.choose[data-jump-client="{rows["web2"]}"]')).to_be_disabled()  # offline
    chooser.locator(f'button.choose[data-jump-client="{rows["web1"]}"]').click()
    expect(chooser).to_be_hidden()
    # Nobody holds web1's socket: the Jump fails after the appliance's wait, in words.
    expect(page.locator("#notice")).to_contain_text("The Jump did not start:", timeout=30_000)

    none = f"BRCS1.0\n{LOGIN}\naction=start_pinned_client_session&search_string=no-such-computer"
    page.set_input_files("#script-file", files=[{"name": "n.brcs-support-example-com", "mimeType": "text/plain",
                                                  "buffer": none.encode()}])  # fmt: skip
    expect(chooser.locator(".no-match")).to_contain_text("No Jump Client")
    chooser.locator("button.close").click()


def test_the_jump_view_pages_and_shows_thumbnails(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    thumbnail = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    for n in range(60):
        add_client(appliance, f"till-{n:02d}", personal=personas.rep_b.id, thumbnail=thumbnail if n == 0 else "")
    bob = Console(browser, appliance).sign_in("rep_b", personas.rep_b.password)
    page = bob.page
    page.click("#jump-button")
    expect(page.locator(".jump-count")).to_have_text("1\N{EN DASH}50 of 60")
    expect(page.locator("#jump tr.jump-item")).to_have_count(50)
    expect(page.locator("#jump tr.jump-item img.jump-thumbnail")).to_have_count(1)
    page.click("#jump .jump-pager button:has-text('Next')")
    expect(page.locator(".jump-count")).to_have_text("51\N{EN DASH}60 of 60")
    expect(page.locator("#jump tr.jump-item td.name").first).to_have_text("till-50")
    expect(page.locator("#jump .jump-pager button:has-text('Next')")).to_be_disabled()
    page.click("#jump .jump-pager button:has-text('Previous')")
    expect(page.locator("#jump tr.jump-item td.name").first).to_have_text("till-00")
    assert bob.errors == []
    bob.close()
