"""The people in the browser tests: a representative at the console and a customer in the
browser client, each in a browser context of their own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.appliance import RunningAppliance

TIMEOUT = 15_000


def site_url(appliance: RunningAppliance, host: str = "support.example.com") -> str:
    return f"https://{host}:{appliance.https_port}"


def new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(ignore_https_errors=True, accept_downloads=True)
    context.set_default_timeout(TIMEOUT)
    return context


class Console:
    def __init__(self, browser: Browser, appliance: RunningAppliance) -> None:
        self.context = new_context(browser)
        self.page: Page = self.context.new_page()
        self.base = site_url(appliance)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def sign_in(self, username: str, password: str) -> Console:
        self.page.goto(self.base + "/console")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        expect(self.page.locator("#connection")).to_have_text("Online")
        return self

    def queue(self, key: str) -> object:
        return self.page.locator(f'section.queue[data-queue="{key}"]')

    def waiting(self, customer: str):  # type: ignore[no-untyped-def]
        return self.page.locator("li.waiting", has_text=customer)

    def take(self, customer: str) -> None:
        self.waiting(customer).locator("button", has_text="Take").click()
        expect(self.page.locator(".summary .customer-name")).to_have_text(customer)

    def chat(self, text: str) -> None:
        self.page.fill(".chat-form input", text)
        self.page.press(".chat-form input", "Enter")

    def line(self, text: str):  # type: ignore[no-untyped-def]
        return self.page.locator(".conversation .line", has_text=text)

    def send_file(self, path: Path) -> None:
        self.page.set_input_files(".composer input[type=file]", str(path))

    def close(self) -> None:
        self.context.close()


class Customer:
    def __init__(self, browser: Browser, appliance: RunningAppliance) -> None:
        self.context = new_context(browser)
        self.page: Page = self.context.new_page()
        self.base = site_url(appliance)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def enter_key(self, short_key: str) -> None:
        self.page.goto(self.base + "/")
        self.page.fill("#session-key input[name=short_key]", short_key)
        self.page.click("#session-key button[type=submit]")
        self.wait_for_client()

    def wait_for_client(self) -> None:
        expect(self.page).to_have_url(re.compile(r"/chat/[\w-]+$"))
        expect(self.page.locator("#status")).not_to_have_text("Connecting…")

    @property
    def status(self):  # type: ignore[no-untyped-def]
        return self.page.locator("#status")

    def chat(self, text: str) -> None:
        self.page.fill("#message", text)
        self.page.press("#message", "Enter")

    def line(self, text: str):  # type: ignore[no-untyped-def]
        return self.page.locator("#conversation .line", has_text=text)

    def close(self) -> None:
        self.context.close()


def start_with_issue(customer: Customer, issue_id: int, name: str) -> None:
    """The customer picks an issue on the public site's form with their name."""
    customer.page.goto(customer.base + "/")
    customer.page.select_option("#issue select[name=id]", str(issue_id))
    customer.page.fill("#issue input[name=customer_name]", name)
    customer.page.click("#issue button[type=submit]")
    customer.wait_for_client()


CLIENT = Path(sys.executable).parent / "lifeline-client"


class LifelineClient:
    """`lifeline-client attach` for the session of a customer's chat page, as its own process.
    The customer's chat stays in their browser page (`--no-chat`, as the launchers run it)."""

    def __init__(
        self,
        appliance: RunningAppliance,
        customer: Customer,
        home: Path,
        log: Path,
        *allow: str,
        env: dict[str, str] | None = None,
    ) -> None:
        token = re.search(r"/chat/([\w-]+)$", customer.page.url)
        assert token, customer.page.url
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **(env or {}), "HOME": str(home), "SHELL": "/bin/sh"}
        env.pop("PS1", None)
        self.log = log
        self.output = open(log, "wb")  # noqa: SIM115 (closed in stop)
        chat = f"{appliance.https}/chat/{token[1]}"
        command = [str(CLIENT), "attach", chat, "--ca", str(appliance.cert_path), "--no-chat", "--verbose"]
        if allow:
            command += ["--allow", ",".join(allow)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self.output, stderr=subprocess.STDOUT, env=env, cwd=home
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output.close()
