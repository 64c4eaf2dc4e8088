"""The representative's tools on the customer's computer, end to end: the real appliance,
the real Lifeline client as its own process, the console and the customer's chat page in
Chromium. The customer allows a shell in the page; the rep types in an xterm.js terminal
(echo, a full-screen program, Ctrl-C), reloads and gets the screen back; system
information shows as tables and ends a process; files go both ways equal by hash."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, expect
from sqlalchemy import select

from lifeline.sessions.models import SessionEvent
from tests.browser.pages import Console, Customer, LifelineClient, start_with_issue
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas


@pytest.fixture
def alice(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    console = Console(browser, appliance)
    console.page.set_viewport_size({"width": 1400, "height": 900})
    console.sign_in("rep_a", personas.rep_a.password)
    yield console
    assert console.errors == []
    console.close()


@pytest.fixture
def customer(browser: Browser, appliance: RunningAppliance) -> Iterator[Customer]:
    person = Customer(browser, appliance)
    yield person
    assert person.errors == []
    person.close()


@pytest.fixture
def clients() -> Iterator[list[LifelineClient]]:
    started: list[LifelineClient] = []
    yield started
    for client in started:
        client.stop()


def screen(console: Console) -> Locator:
    return console.page.locator("#computer .shell-terminal:visible .xterm-rows")


def type_line(console: Console, text: str) -> None:
    console.page.locator("#computer .shell-terminal:visible .xterm-helper-textarea").focus()
    console.page.keyboard.type(text)
    console.page.keyboard.press("Enter")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_shell_the_customer_allows_in_the_page(
    appliance: RunningAppliance,
    personas: Personas,
    alice: Console,
    customer: Customer,
    clients: list[LifelineClient],
    tmp_path: Path,
    output_dir: Path,
) -> None:
    start_with_issue(customer, personas.issue_started, "Sheila Shell")
    alice.take("Sheila Shell")
    clients.append(LifelineClient(appliance, customer, tmp_path / "home", tmp_path / "client.log"))
    computer = alice.page.locator("#computer")
    expect(computer.locator(".client-status")).to_contain_text("The Lifeline client is connected")
    expect(customer.page.locator("#computer .client-running")).to_have_text(
        "The Lifeline client is running on your computer."
    )

    # Nothing is allowed until the customer says so.
    expect(computer.locator('.capability[data-capability="shell"]')).to_contain_text("not allowed")
    computer.locator('.capability[data-capability="shell"] button.ask').click()
    expect(computer.locator('.capability[data-capability="shell"]')).to_contain_text("asked")
    asking = customer.page.locator('#computer .asking[data-capability="shell"]')
    expect(asking).to_contain_text("Alice Rep asks to open a command shell on your computer.")
    customer.page.screenshot(path=str(output_dir / "customer-asked-for-a-shell.png"))
    asking.locator("button.allow").click()
    expect(asking).to_have_count(0)
    expect(customer.page.locator('#computer .allowed li[data-capability="shell"]')).to_be_visible()
    expect(computer.locator('.capability[data-capability="shell"]')).to_contain_text("allowed")

    computer.locator('.computer-tab[data-pane="shell"]').click()
    computer.locator("button.open-shell").click()
    expect(computer.locator(".shell-tab")).to_have_count(1)
    expect(screen(alice)).to_contain_text(re.compile(r"[$#]"))  # the prompt
    type_line(alice, "echo hello-$((6*7))")
    expect(screen(alice)).to_contain_text("hello-42")

    # A full-screen program, and out of it again.
    type_line(alice, "top")
    expect(screen(alice)).to_contain_text(re.compile(r"load average|Tasks:"))
    alice.page.keyboard.press("q")
    type_line(alice, "echo out-of-top")
    expect(screen(alice)).to_contain_text("out-of-top")

    # Ctrl-C stops what runs in the shell.
    type_line(alice, "sleep 60; echo slept-$((1+1))")
    alice.page.keyboard.press("Control+C")
    type_line(alice, "echo after-ctrl-c")
    expect(screen(alice)).to_contain_text("after-ctrl-c")
    expect(screen(alice)).not_to_contain_text("slept-2")
    alice.page.screenshot(path=str(output_dir / "console-shell.png"))

    # A reload: the shell comes back with what it showed.
    alice.page.reload()
    expect(alice.page.locator("#connection")).to_have_text("Online")
    computer.locator('.computer-tab[data-pane="shell"]').click()
    expect(screen(alice)).to_contain_text("after-ctrl-c")
    type_line(alice, "echo after-reload")
    expect(screen(alice)).to_contain_text("after-reload")

    # The customer takes it back: the shell ends, and the rep may not open another.
    customer.page.locator('#computer .allowed li[data-capability="shell"] button.stop').click()
    expect(computer.locator(".shell-ended")).to_contain_text("The shell ended")
    expect(computer.locator('.capability[data-capability="shell"]')).to_contain_text("not allowed")
    expect(computer.locator("button.open-shell")).to_have_count(0)


def test_system_information_and_files_allowed_at_start(
    appliance: RunningAppliance,
    personas: Personas,
    alice: Console,
    customer: Customer,
    clients: list[LifelineClient],
    tmp_path: Path,
    output_dir: Path,
) -> None:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    report = os.urandom(300_000)
    (home / "Documents" / "report.bin").write_bytes(report)
    start_with_issue(customer, personas.issue_started, "Ivan Info")
    alice.take("Ivan Info")
    clients.append(LifelineClient(appliance, customer, home, tmp_path / "client.log", "all"))
    computer = alice.page.locator("#computer")
    expect(computer.locator(".client-status")).to_contain_text("The Lifeline client is connected")
    expect(computer.locator('.capability[data-capability="files"]')).to_contain_text("allowed")

    # The pull at session start, as tables per category.
    expect(computer.locator(".collected")).to_contain_text("(session start)")
    categories = computer.locator(".info-category")
    expect(categories).to_have_count(6)
    assert [c.get_attribute("data-category") for c in categories.all()] == [
        "overview",
        "network",
        "drives",
        "processes",
        "services",
        "programs",
    ]
    expect(computer.locator("table.info tbody tr").first).to_be_visible()
    alice.page.screenshot(path=str(output_dir / "console-system-information.png"))

    # A process the rep ends (after saying yes to the question).
    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        computer.locator('.info-category[data-category="processes"]').click()
        computer.locator("button.refresh").click()
        computer.locator("input[name=filter]").fill(str(sleeper.pid))
        row = computer.locator(f'table.info tr[data-pid="{sleeper.pid}"]')
        expect(row).to_be_visible()
        alice.page.once("dialog", lambda dialog: dialog.accept())
        row.locator("button.end-process").click()
        assert sleeper.wait(10) is not None
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
    expect(computer.locator(".pane-system-info .pane-note")).to_have_text(f"Process {sleeper.pid} ended.")

    # Files: the home folder, a folder in it, a file down and a file up.
    computer.locator('.computer-tab[data-pane="files"]').click()
    listing = computer.locator("table.listing")
    expect(listing).to_have_attribute("data-path", str(home))
    listing.locator('tr[data-name="Documents"] button.open-folder').click()
    expect(listing).to_have_attribute("data-path", str(home / "Documents"))
    with alice.page.expect_download(timeout=30_000) as download:
        listing.locator('tr[data-name="report.bin"] button.download').click()
    saved = tmp_path / "downloaded.bin"
    download.value.save_as(saved)
    assert sha256(saved.read_bytes()) == sha256(report)
    expect(computer.locator('.transfer[data-state="done"]')).to_contain_text("report.bin")

    upload, notes = os.urandom(2_500_000), os.urandom(70_000)
    alice.page.set_input_files(  # two files chosen at once: each its own transfer
        "#computer label.upload input[type=file]",
        files=[
            {"name": "report.bin", "mimeType": "application/octet-stream", "buffer": upload},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": notes},
        ],
    )
    arrived = home / "Documents" / "report (1).bin"  # the name taken already: a new one
    expect(listing.locator('tr[data-name="report (1).bin"]')).to_be_visible(timeout=30_000)
    expect(listing.locator('tr[data-name="notes.txt"]')).to_be_visible(timeout=30_000)
    assert sha256(arrived.read_bytes()) == sha256(upload)
    assert sha256((home / "Documents" / "notes.txt").read_bytes()) == sha256(notes)
    uploads = [e.filename for e in logged(appliance, "File Upload")]
    assert sorted(uploads) == ["notes.txt", "report.bin"], "each file sent to the computer is one File Upload"

    # A folder up: its tree arrives under the folder shown, each file its own File Upload.
    chosen = tmp_path / "rep" / "project"
    (chosen / "src" / "deep").mkdir(parents=True)
    tree = {
        "readme.txt": os.urandom(1_000),
        "src/main.bin": os.urandom(1_200_000),
        "src/deep/data.bin": os.urandom(50_000),
        "src/deep/empty.txt": b"",
    }
    for name, data in tree.items():
        (chosen / name).write_bytes(data)
    alice.page.set_input_files("#computer label.upload-folder input[type=file]", str(chosen))
    computer.locator("button.up").click()  # browsing on meanwhile: the rest still goes where it was chosen
    expect(listing).to_have_attribute("data-path", str(home))
    arrived_tree = home / "Documents" / "project"
    expect_tree(arrived_tree, tree)
    listing.locator('tr[data-name="Documents"] button.open-folder').click()
    expect(listing.locator('tr[data-name="project"]')).to_be_visible()
    for name in tree:  # each named by its place in the folder
        expect(computer.locator(".transfers")).to_contain_text(f"project/{name}")
    folder_uploads = {e.filename: e for e in logged(appliance, "File Upload")}
    assert len(logged(appliance, "File Upload")) == 2 + len(tree), "each file of the folder is one File Upload"
    for name in tree:
        assert dict(folder_uploads[Path(name).name].data)["path"] == str(arrived_tree / name)
    alice.page.screenshot(path=str(output_dir / "console-files.png"))

    # A folder that is not there: said plainly.
    computer.locator("input[name=path]").fill(str(home / "nowhere"))
    computer.locator("input[name=path]").press("Enter")
    expect(computer.locator(".pane-files .pane-error")).to_contain_text("No such folder")


def expect_tree(folder: Path, tree: dict[str, bytes], seconds: float = 30.0) -> None:
    """Every file of `tree` (and nothing else) under `folder`, equal by hash, within `seconds`."""
    wanted = {name: sha256(data) for name, data in tree.items()}
    deadline = time.monotonic() + seconds
    while True:
        found = {
            str(path.relative_to(folder)): sha256(path.read_bytes()) for path in folder.rglob("*") if path.is_file()
        }
        if found == wanted or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert found == wanted


def logged(appliance: RunningAppliance, kind: str) -> list[SessionEvent]:
    """The events of that type in every session (each test here has one session)."""
    return appliance.with_session(
        lambda session: list(session.scalars(select(SessionEvent).where(SessionEvent.event_type == kind)))
    )


def test_what_the_customer_denies_stays_closed(
    appliance: RunningAppliance,
    personas: Personas,
    alice: Console,
    customer: Customer,
    clients: list[LifelineClient],
    tmp_path: Path,
) -> None:
    start_with_issue(customer, personas.issue_started, "Dena Deny")
    alice.take("Dena Deny")
    clients.append(LifelineClient(appliance, customer, tmp_path / "home", tmp_path / "client.log"))
    computer = alice.page.locator("#computer")
    info = computer.locator('.capability[data-capability="system_info"]')
    expect(info).to_contain_text("not allowed")
    expect(computer.locator(".pane-system-info .not-allowed")).to_contain_text(
        "The customer has not allowed system information."
    )
    expect(computer.locator(".pane-system-info button.refresh")).to_be_disabled()
    info.locator("button.ask").click()
    asking = customer.page.locator('#computer .asking[data-capability="system_info"]')
    expect(asking).to_contain_text("Alice Rep asks to see system information about your computer")
    asking.locator("button.deny").click()
    expect(asking).to_have_count(0)
    expect(info).to_contain_text("not allowed")
    expect(info.locator("button.ask")).to_be_visible()  # the rep may ask again
    expect(customer.page.locator("#computer .allowed")).to_have_count(0)
    expect(computer.locator(".info-category")).to_have_count(0)  # nothing was collected
