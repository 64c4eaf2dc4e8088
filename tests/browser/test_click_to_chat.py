"""Click-to-chat from a web page on another origin: the API guide's snippets pasted verbatim
(only the host changed) into a page served from a second local port, and the later
start_session.js. Each function must start a session in the right queue."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.presence.models import ClientConnection
from lifeline.sessions.models import SupportSession
from tests.browser.pages import new_context, site_url
from tests.support.appliance import RunningAppliance, free_port
from tests.support.command import NS_LATER, CommandApi
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.support.xmlcheck import text_of

pytestmark = pytest.mark.usefixtures("team_a_on_duty")

# The snippets of "Starting Sessions with Click-To-Chat", as the guide prints them.
GUIDE_PAGE = """<!doctype html>
<html>
<head>
  <script type="text/javascript" src="https://support.example.com/api/clicktochat.js"></script>
  <script type="text/javascript">
    BG.setSite("https://support.example.com");
  </script>
</head>
<body>
<div id="by-key">
Session Key: <input type="text" id="key" name="key" /><br />
<input type="submit" value="Submit"
  onclick="BG.startChatWithSessionKey(document.getElementById('key').value, true); return false;" />
</div>
<div id="by-key-and-external-key">
Session Key: <input type="text" id="short_key" name="short_key" /><br />
External Key: <input type="text" id="external_key" name="external_key" /><br />
<input type="submit" value="Chat!"
  onclick="BG.startChatWithSessionKeyAndExternalKey(document.getElementById('short_key').value,
  document.getElementById('external_key').value, true); return false;"/>
</div>
<div id="by-rep">
<a href="https://support.example.com/api/start_session.ns?id=1&name=Admin"
onclick="BG.startChatWithRepIdName('1', 'Admin', true); return false;">Start Session with Admin</a>
</div>
<div id="by-issue">
<a href="https://support.example.com/api/start_session.ns?issue_menu=1&id=1"
onclick="BG.startChatWithIssueId('1', true); return false;">Start Session</a>
</div>
<div id="by-form">
<form action="https://support.example.com/api/start_session.ns" method="get">

 
  Your Issue:
    <select name="id">
      <option value="">Please choose an issue</option>
      <option value="1">I need help getting started</option>
      <option value="2">I am receiving an error</option>
    </select>
  <br />
  Your Name: <input type="text" name="customer_name" /><br />
  Describe Your Issue: <textarea name="customer_desc"></textarea><br />
  <input type="hidden" name="issue_menu" value="1" />
  <input type="submit" value="Submit" onclick="BG.startChatWithIssueForm(this.form, true); return false;" />
</form>
</div>
<div id="by-rep-spelled-as-in-the-guide">
<a href="#" onclick="BG.startChatWithRepldName('1', 'Admin', true); return false;">Admin (as spelled in the guide)</a>
</div>
</body>
</html>
"""

LATER_PAGE = """<!doctype html>
<html>
<head>
  <script src="https://support.example.com/api/start_session.js"></script>
  <script>BG.setSite("support.example.com");</script>
</head>
<body>
<button id="chat-key" onclick="BG.start(BG.START_TYPE.CHAT, {sessionKey: document.getElementById('k').value})">Chat</button>
<input id="k">
<button id="chat-issue" onclick="BG.start(BG.START_TYPE.CHAT, {issue: {codeName: 'i_am_receiving_an_error'},
  customer: {name: 'Sam Later', company: 'Acme', details: 'VPN drops'}, attributes: {externalKey: 'SN-77'}})">Issue</button>
<button id="full-rep" onclick="BG.start(BG.START_TYPE.FULL, {rep: {id: 1, name: 'Administrator'}})">Full</button>
<button id="bad-type" onclick="try { BG.start(7, {}); } catch (e) { document.title = e; }">Bad</button>
</body>
</html>
"""


@pytest.fixture(scope="module")
def other_origin(appliance: RunningAppliance, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A different web site (another port) that embeds our scripts."""
    root = tmp_path_factory.mktemp("other-site")
    host = f"support.example.com:{appliance.https_port}"
    (root / "guide.html").write_text(GUIDE_PAGE.replace("support.example.com", host))
    (root / "later.html").write_text(LATER_PAGE.replace("support.example.com", host))
    port = free_port()
    handler = partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://partner.example.org:{port}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def on_duty(personas: Personas, node: ConsoleNode) -> Iterator[None]:
    """The admin (rep 1, 'Admin' in the snippets) is logged in, so rep links work."""
    gsnumber = node.log_in("admin")
    yield
    node.log_out(gsnumber)


def token_of(page: Page) -> str:
    return page.evaluate("document.getElementById('customer').dataset.token")


def session_for(appliance: RunningAppliance, token: str) -> SupportSession:
    def read(session: Session) -> SupportSession | None:
        connection = session.scalars(
            select(ClientConnection).where(
                ClientConnection.resume_token_sha256 == hashlib.sha256(token.encode()).hexdigest()
            )
        ).one()
        return session.get(SupportSession, connection.session_id)

    found = appliance.with_session(read)
    assert found is not None
    return found


def chat_popup(page: Page, click: str, *, customer_name: str = "") -> Page:
    with page.expect_popup() as popup:
        page.click(click)
    chat = popup.value
    if customer_name:  # a rep link names the rep: the customer is asked their own name first
        give_name(chat, customer_name)
    expect(chat.locator("#status")).to_contain_text("Waiting for a representative")
    return chat


def give_name(page: Page, customer_name: str) -> None:
    page.fill("#customer-name input[name=customer_name]", customer_name)
    page.click("#customer-name button[type=submit]")


def new_key(api: CommandApi, personas: Personas, **params: str) -> str:
    root = api.call("generate_session_key", personas.api_user.params, type="support", queue_id="general", **params)
    return text_of(root, NS_LATER, "short_key")


@pytest.fixture
def page(browser: Browser, other_origin: str) -> Iterator[Page]:
    context = new_context(browser)
    yield context.new_page()
    context.close()


def test_start_chat_with_session_key(
    page: Page, other_origin: str, api: CommandApi, personas: Personas, appliance: RunningAppliance
) -> None:
    page.goto(f"{other_origin}/guide.html")
    page.fill("#key", new_key(api, personas, external_key="FROM-KEY"))
    chat = chat_popup(page, "#by-key input[type=submit]")
    found = session_for(appliance, token_of(chat))
    assert (found.queue_kind, found.external_key, found.start_method) == ("general", "FROM-KEY", "session_key")


def test_start_chat_with_session_key_and_external_key(
    page: Page, other_origin: str, api: CommandApi, personas: Personas, appliance: RunningAppliance
) -> None:
    page.goto(f"{other_origin}/guide.html")
    page.fill("#short_key", new_key(api, personas))
    page.fill("#external_key", "TYPED-123")
    chat = chat_popup(page, "#by-key-and-external-key input[type=submit]")
    assert session_for(appliance, token_of(chat)).external_key == "TYPED-123"


@pytest.mark.parametrize("link", ["#by-rep a", "#by-rep-spelled-as-in-the-guide a"])
def test_start_chat_with_rep_id_and_name(
    page: Page, other_origin: str, on_duty: None, appliance: RunningAppliance, link: str
) -> None:
    page.goto(f"{other_origin}/guide.html")
    chat = chat_popup(page, link, customer_name="Lee Linked")
    found = session_for(appliance, token_of(chat))
    assert (found.queue_kind, found.queue_ref_id, found.customer_name) == ("rep", 1, "Lee Linked")


def test_start_chat_with_issue_id(
    page: Page, other_origin: str, appliance: RunningAppliance, personas: Personas
) -> None:
    page.goto(f"{other_origin}/guide.html")
    chat = chat_popup(page, "#by-issue a")
    found = session_for(appliance, token_of(chat))
    assert (found.queue_kind, found.queue_ref_id, found.customer_issue) == ("team", personas.team_a, "1")


def test_start_chat_with_issue_form(
    page: Page, other_origin: str, appliance: RunningAppliance, personas: Personas
) -> None:
    page.goto(f"{other_origin}/guide.html")
    page.select_option("#by-form select", "2")
    page.fill("#by-form input[name=customer_name]", "Jo Form")
    page.fill("#by-form textarea", "Error 0x80070005")
    chat = chat_popup(page, "#by-form input[type=submit]")
    found = session_for(appliance, token_of(chat))
    assert (found.queue_ref_id, found.customer_name, found.customer_details, found.customer_issue) == (
        personas.team_a,
        "Jo Form",
        "Error 0x80070005",
        "2",
    )


def test_a_blocked_popup_falls_back_to_the_full_window(
    browser: Browser, other_origin: str, appliance: RunningAppliance
) -> None:
    context = new_context(browser)
    context.add_init_script("window.open = function () { return null; };")  # as a popup blocker does
    page = context.new_page()
    page.goto(f"{other_origin}/guide.html")
    page.click("#by-issue a")
    expect(page.locator("#status")).to_contain_text("Waiting for a representative")
    assert page.url.startswith(site_url(appliance) + "/chat/")
    context.close()


def test_the_later_start_session_js(
    page: Page, other_origin: str, api: CommandApi, personas: Personas, appliance: RunningAppliance, on_duty: None
) -> None:
    page.goto(f"{other_origin}/later.html")
    page.fill("#k", new_key(api, personas))
    key_chat = chat_popup(page, "#chat-key")
    assert session_for(appliance, token_of(key_chat)).queue_kind == "general"
    key_chat.close()  # the chat window has one name: a second start would reuse an open one
    issue_chat = chat_popup(page, "#chat-issue")
    found = session_for(appliance, token_of(issue_chat))
    assert (found.queue_ref_id, found.customer_name, found.customer_company, found.external_key) == (
        personas.team_a,
        "Sam Later",
        "Acme",
        "SN-77",
    )
    page.click("#bad-type")
    assert "must be a valid START_TYPE" in page.title()
    page.click("#full-rep")
    give_name(page, "Fay Full")
    expect(page.locator("#status")).to_contain_text("Waiting for a representative")
    assert session_for(appliance, token_of(page)).queue_ref_id == 1


def test_the_scripts_are_served_for_other_sites(appliance: RunningAppliance) -> None:
    with appliance.client() as client:
        for name in ("clicktochat.js", "start_session.js"):
            response = client.get(f"/api/{name}")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/javascript")
            assert response.headers["access-control-allow-origin"] == "*"
