"""Jump Clients from deployment to a Jump, in Chromium against a real appliance: the admin
makes a Jump Group with a member and an installer in /login (its key and command shown once);
a Jump Client installs with that key and connects (at the protocol level: its own Ed25519 key,
`POST /jump/install`, `/ws/jump`); /login lists it online; the member finds it in the
console's Jump view and jumps, and the new session opens as the rep's current one; the admin
deletes it in /login and it is told to uninstall."""

from __future__ import annotations

import re
from pathlib import Path

from lifeline_protocol import jump as wire
from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import Console, new_context, site_url
from tests.jump.jumpclient import FakeJumpClient
from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance
from tests.support.personas import Personas


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Administration").get_by_role("link", name=name, exact=True).click()


def test_deploy_a_jump_client_and_jump_to_it(
    browser: Browser, appliance: RunningAppliance, personas: Personas, output_dir: Path
) -> None:
    context = new_context(browser)
    admin = context.new_page()
    errors: list[str] = []
    admin.on("pageerror", lambda error: errors.append(str(error)))
    admin.goto(f"{site_url(appliance)}/login")
    admin.fill("input[name=username]", "admin")
    admin.fill("input[name=password]", ADMIN_PASSWORD)
    admin.click("button[type=submit]")
    expect(admin).to_have_url(re.compile(r"/login/status$"))

    # A Jump Group whose member is rep_a.
    menu(admin, "Jump Groups")
    admin.fill("#new-jump-group input[name=name]", "Kiosks")
    admin.fill("#new-jump-group input[name=comments]", "the lobby screens")
    admin.click("#new-jump-group button[type=submit]")
    expect(admin.locator(".flash")).to_have_text("Jump Group Kiosks was created; now choose its members.")
    admin.get_by_label(re.compile(r"\(rep_a\)")).check()
    admin.click("#jump-group-form button[type=submit]")
    expect(admin.locator(".flash")).to_have_text("Jump Group Kiosks was saved.")
    expect(admin.get_by_label(re.compile(r"\(rep_a\)"))).to_be_checked()

    # An installer for it: the key and the command, once.
    menu(admin, "Jump Clients")
    admin.select_option("#new-installer select[name=target]", label="Jump Group: Kiosks")
    admin.fill("#new-installer input[name=comments]", "lobby kiosk")
    admin.fill("#new-installer input[name=tag]", "kiosk")
    admin.fill("#new-installer input[name=valid]", "1")
    admin.select_option("#new-installer select[name=unit]", "days")
    expect(admin.locator("#new-installer input[name=consent]")).to_be_checked()  # on by default
    admin.uncheck("#new-installer input[name=consent]")
    admin.click("#new-installer button[type=submit]")
    key = admin.locator("#jump-key").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9_\-]{40,}", key), key
    expect(admin.locator("#jump-service-command")).to_contain_text(
        f"lifeline-client jump install https://support.example.com:{appliance.https_port} --key {key}"
    )
    expect(admin.locator("#jump-service-command")).to_contain_text("--service")
    admin.screenshot(path=str(output_dir / "login-jump-installer.png"), full_page=True)
    admin.get_by_role("link", name="Done").click()
    assert key not in admin.content()

    # A Jump Client installs with the key and connects.
    computer = FakeJumpClient(appliance, hostname="kiosk-lobby")
    computer.install(key)
    socket, welcome = computer.connect()
    assert welcome["type"] == "welcome", welcome
    admin.reload()
    row = admin.locator(f'#jump-clients tr[data-jump-client="{computer.id}"]')
    expect(row).to_contain_text("kiosk-lobby")
    expect(row.locator(".online")).to_have_text("online")
    expect(row).to_contain_text("Kiosks")
    admin.screenshot(path=str(output_dir / "login-jump-clients.png"), full_page=True)

    # rep_a finds it in the console's Jump view and jumps.
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    alice.page.click("#jump-button")
    alice.page.fill("#jump input[name=jump_search]", "lobby")
    item = alice.page.locator(f'#jump tr[data-jump-client="{computer.id}"]')
    expect(item).to_contain_text("kiosk-lobby")
    item.locator("button.jump").click()
    told = socket.next(timeout=15)
    assert told["type"] == "start_session", told
    assert told["rep"] == "Alice Rep"
    socket.send(wire.Started(request=told["request"]))
    expect(alice.page.locator(".summary .customer-name")).to_have_text("kiosk-lobby")
    expect(alice.page.locator("#tabs .tab.active")).to_have_text("kiosk-lobby")
    expect(alice.page.locator("#jump")).to_be_visible()  # the view stays open beside the session
    alice.page.screenshot(path=str(output_dir / "console-jump-session.png"))
    assert alice.errors == []
    alice.page.click(".end")
    alice.close()

    # Deleted in /login: told to uninstall, then closed with 4403.
    admin.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(admin.locator(".flash")).to_have_text("kiosk-lobby was removed: it uninstalls itself when it next connects.")
    code, seen = socket.close_code(timeout=15)
    assert code == 4403
    assert any(message["type"] == "uninstall" for message in seen), seen
    assert errors == []
    context.close()
