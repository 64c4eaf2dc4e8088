"""Jump Clients from deployment to a Jump, in Chromium against a real appliance: the admin
makes a Jump Group with a member and an installer in /login (its key and command shown once);
a Jump Client installs with that key and connects (at the protocol level: its own Ed25519 key,
`POST /jump/install`, `/ws/jump`); /login lists it online; the member finds it in the
console's Jump view and jumps, and the new session opens as the rep's current one; the admin
deletes it in /login and it is told to uninstall."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from lifeline_protocol import jump as wire
from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import Console, new_context, site_url
from tests.client.scripted import CLIENT
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
    alice.page.click(".end")

    # A client script that matches exactly this one jumps at once, with its external key.
    script = (
        "BRCS1.0\naction=login&hostname=support.example.com\n"
        "action=start_pinned_client_session&client.hostname=KIOSK-LOBBY&session.custom.external_key=T-1001"
    )
    alice.page.set_input_files(
        "#script-file",
        files=[{"name": "k.brcs-support-example-com", "mimeType": "text/plain", "buffer": script.encode()}],
    )
    told = socket.next(timeout=15)
    assert told["type"] == "start_session", told
    socket.send(wire.Started(request=told["request"]))
    expect(alice.page.locator(".summary .external-key").first).to_contain_text("T-1001")
    expect(alice.page.locator(".summary .customer-name")).to_have_text("kiosk-lobby")
    expect(alice.page.locator("#jump-chooser")).to_be_hidden()
    alice.page.click(".end")
    assert alice.errors == []
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


def test_a_shell_jump_through_a_jumpoint_and_a_push_from_a_script(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    """The Jumpoint's dialogs send what the rep typed to the Jumpoint once, and the password
    and key leave the page as soon as they are sent."""
    appliance.cli("jump-group", "add", "Lab", "--member", "rep_a")
    installer = appliance.cli_json("jump-installer", "add", "--group", "Lab", "--jumpoint", "Lab Jumpoint")
    jumpoint = FakeJumpClient(appliance, hostname="jp-lab")
    jumpoint.install(installer["key"])
    socket, welcome = jumpoint.connect()
    assert welcome["type"] == "welcome" and welcome["name"] == "Lab Jumpoint", welcome

    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    page = alice.page
    page.click("#jump-button")
    page.select_option("#jump select[name=jump_group]", label="Lab")
    row = page.locator(f'#jump tr[data-jump-client="{jumpoint.id}"]')
    expect(row).to_contain_text("Lab Jumpoint (Jumpoint)")
    row.locator("button.shell-jump").click()
    dialog = page.locator("#shell-jump-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=host]").fill("10.0.0.9")
    dialog.locator("input[name=port]").fill("2222")
    dialog.locator("input[name=username]").fill("ops")
    dialog.locator("input[name=password]").fill("s3cret-pass")
    dialog.locator("button[value=send]").click()
    told = socket.next(timeout=15)
    assert told["type"] == "shell_jump", told
    assert (told["host"], told["port"], told["username"], told["password"]) == ("10.0.0.9", 2222, "ops", "s3cret-pass")
    assert "s3cret-pass" not in page.evaluate(
        "document.documentElement.outerHTML + [...document.querySelectorAll('input, textarea')].map((f) => f.value).join(' ')"
    )
    socket.send(wire.Started(request=told["request"]))
    expect(dialog).to_be_hidden()
    expect(page.locator(".summary .customer-name")).to_contain_text("10.0.0.9")
    page.click(".end")

    # push_and_start_local from a client script: the push dialog, the host filled in.
    script = "BRCS1.0\naction=login&hostname=support.example.com\naction=push_and_start_local&hostname=build-07"
    page.set_input_files(
        "#script-file",
        files=[{"name": "p.brcs-support-example-com", "mimeType": "text/plain", "buffer": script.encode()}],
    )
    push = page.locator("#push-dialog")
    expect(push).to_be_visible()
    expect(push.locator("input[name=host]")).to_have_value("build-07")
    expect(push.locator("select[name=jumpoint] option")).to_have_text(["Lab Jumpoint"])
    push.locator("input[name=username]").fill("root")
    push.locator("textarea[name=private_key]").fill(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    )
    push.locator("button[value=send]").click()
    told = socket.next(timeout=15)
    assert told["type"] == "push_client", told
    assert told["host"] == "build-07" and told["username"] == "root" and "BEGIN OPENSSH" in told["private_key"]
    socket.send(wire.Started(request=told["request"], error="ssh: connection refused by build-07"))
    expect(push.locator(".pane-error")).to_contain_text("connection refused")
    expect(push.locator("textarea[name=private_key]")).to_have_value("")
    push.locator("button[value=cancel]").click()
    expect(push).to_be_hidden()
    assert alice.errors == []
    alice.close()
    socket.close()


def test_a_jump_to_a_real_jump_client_opens_its_computer(
    browser: Browser, appliance: RunningAppliance, personas: Personas, tmp_path: Path, output_dir: Path
) -> None:
    """`lifeline-client jump install` with a key, `jump run` in the foreground: the rep's Jump
    from the console's Jump view opens a session whose Computer panel has the client connected."""
    appliance.cli("jump-group", "add", "Desks", "--member", "rep_a")
    made = appliance.cli_json("jump-installer", "add", "--group", "Desks", "--no-consent", "--tag", "desk")
    folder = tmp_path / "desk"
    install = [str(CLIENT), "jump", "install", appliance.https, "--key", made["key"], "--dir", str(folder),
               "--ca", str(appliance.cert_path)]  # fmt: skip
    done = subprocess.run(install, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    jump_id = int(json.loads((folder / "jump.json").read_text())["id"])
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    log = (tmp_path / "jump-run.log").open("w")
    running = subprocess.Popen(
        [str(CLIENT), "jump", "run", "--dir", str(folder)], stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
    )
    try:
        alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
        page = alice.page
        page.click("#jump-button")
        page.select_option("#jump select[name=jump_group]", label="Desks")
        row = page.locator(f'#jump tr[data-jump-client="{jump_id}"]')
        expect(row).to_have_class("jump-item online", timeout=30_000)  # the list refreshes every 15 s
        started = time.monotonic()
        row.locator("button.jump").click()
        expect(page.locator(".client-status")).to_have_attribute("data-connected", "yes", timeout=30_000)
        print(f"Jump to a connected client in the browser: {time.monotonic() - started:.2f} s")
        page.screenshot(path=str(output_dir / "console-jump-real-client.png"))
        page.click(".end")
        assert alice.errors == []
        alice.close()
    finally:
        running.terminate()
        try:
            running.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.kill()
            running.wait()
        log.close()
