"""SupportSessionRecording, CommandShellRecording, PresentationRecording, and the pages the
transcript and recording links in reports open."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from lxml import etree

from lifeline.api.reporting.reports import EXPIRED, NO_SUCH_RECORDING, UNFINISHED
from lifeline.recordings.recorder import record_screen
from lifeline.recordings.store import RecordingStore
from tests.support.activity import WEBM_HEADER, SessionDriver
from tests.support.appliance import RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.history import History
from tests.support.reporting import Reporters, ReportingApi, child, children, text


def links(reporting: ReportingApi, reporters: Reporters, lsid: str) -> dict[str, str]:
    session = children(reporting.call("SupportSession", reporters.everything.params, lsid=lsid), "session")[0]
    found = {etree.QName(c).localname: c.text or "" for c in session if (c.text or "").startswith("https://")}
    for shell in children(child(session, "command_shell_recordings"), "command_shell_recording") if found else []:
        found[f"shell{shell.get('instance')}"] = text(shell, "download_url")
        found[f"shell{shell.get('instance')}_view"] = text(shell, "view_url")
    return found


def local(url: str) -> str:
    """The path and query of a link (the test talks to the appliance by IP address)."""
    return url.split("/", 3)[3]


def error(root: etree._Element) -> str:
    return root.text if etree.QName(root).localname == "error" else root[0].text  # type: ignore[return-value]


def test_the_screen_recording_is_webm_to_download(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    for ns in (True, False):
        response = reporting.raw("SupportSessionRecording", reporters.everything.params, ns=ns, lsid=history.full)
        assert response.status_code == 200
        assert response.headers["content-type"] == "video/webm"
        assert response.headers["content-disposition"] == f"attachment; filename={history.full}-screen.webm"
        assert response.content == history.screen_bytes


def test_the_guides_isid_spelling_works(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    response = reporting.raw("SupportSessionRecording", reporters.everything.params, ns=True, Isid=history.full)
    assert response.content == history.screen_bytes


def test_command_shells_are_asciicast_v2_numbered_from_0(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    for instance in history.shells:
        response = reporting.raw(
            "CommandShellRecording", reporters.everything.params, ns=True, lsid=history.full, instance=instance
        )
        assert response.headers["content-type"].startswith("application/x-asciicast")
        assert response.headers["content-disposition"] == f"attachment; filename={history.full}-shell-{instance}.cast"
        lines = response.content.decode().splitlines()
        header = json.loads(lines[0])
        assert (header["version"], header["width"], header["height"]) == (2, 80, 24)
        assert json.loads(lines[1]) == [0, "i", "ls\r"]
        assert json.loads(lines[2]) == [0.5, "o", "\x1b[1mreadme.txt\x1b[0m  notes.md\r\n"]


def test_the_presentation_recording(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    response = reporting.raw("PresentationRecording", reporters.everything.params, lsid=history.presentation)
    assert (response.headers["content-type"], response.content[:4]) == ("video/webm", WEBM_HEADER[:4])


@pytest.mark.parametrize(
    ("report", "params", "message"),
    [
        ("SupportSessionRecording", {"lsid": "waiting"}, NO_SUCH_RECORDING),
        ("SupportSessionRecording", {"lsid": "0" * 32}, NO_SUCH_RECORDING),
        ("CommandShellRecording", {"lsid": "full", "instance": "3"}, NO_SUCH_RECORDING),
        ("CommandShellRecording", {"lsid": "full"}, "The required parameter instance is missing."),
        ("PresentationRecording", {"lsid": "full"}, NO_SUCH_RECORDING),
        ("PresentationRecording", {}, "The required parameter lsid is missing."),
    ],
)
def test_a_missing_recording_is_an_xml_error(
    reporting: ReportingApi, reporters: Reporters, history: History, report: str, params: dict[str, str], message: str
) -> None:
    if "lsid" in params and len(params["lsid"]) < 32:
        params = {**params, "lsid": getattr(history, params["lsid"])}
    for ns in (True, False):
        root = reporting.call(report, reporters.everything.params, ns=ns, **params)
        assert etree.QName(root).localname == "error"
        assert root.text == message


def test_a_recording_whose_file_is_gone_has_expired_and_one_still_running_is_not_ready(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, node: ConsoleNode
) -> None:
    store = RecordingStore(appliance.data_dir / "recordings")
    gone = SessionDriver(node, node.start_session(), appliance.data_dir)
    gone.screen()
    for path in (appliance.data_dir / "recordings").rglob(f"{gone.lsid}-*"):
        path.unlink()
    root = reporting.call("SupportSessionRecording", reporters.everything.params, ns=True, lsid=gone.lsid)
    assert error(root) == EXPIRED
    running = SessionDriver(node, node.start_session(), appliance.data_dir)
    recording = record_screen(appliance.db, store, running.lsid)
    recording.write(WEBM_HEADER)
    assert (
        error(reporting.call("SupportSessionRecording", reporters.everything.params, lsid=running.lsid)) == UNFINISHED
    )
    recording.close()
    assert (
        reporting.raw("SupportSessionRecording", reporters.everything.params, lsid=running.lsid).content == WEBM_HEADER
    )


# --- the links in reports --------------------------------------------------------------


def test_the_chat_transcript_link_opens_a_page(
    client: httpx.Client, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    page = client.get(local(links(reporting, reporters, history.full)["session_chat_view_url"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Hello, my printer is jammed" in page.text
    assert "Alice Rep joined the session" in page.text
    assert "bin \ufffd\ufffd data \ufffd" in page.text  # what a page cannot show, replaced
    assert "Cleared the paper path" not in page.text  # notes are not chat
    assert "Pat Customer:" in page.text


def test_the_pages_links_open_run_no_script_and_cannot_be_framed(
    client: httpx.Client, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    found = links(reporting, reporters, history.full)
    for name in ("session_chat_view_url", "session_recording_view_url", "shell1_view"):
        page = client.get(local(found[name]))
        policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
        assert (policy["default-src"], policy["frame-ancestors"], policy["base-uri"]) == ("'none'",) * 3
        assert "script-src" not in policy
        nonce = re.search(r'<style nonce="([^"]+)">', page.text)
        assert nonce is not None and policy["style-src"] == f"'nonce-{nonce.group(1)}'"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
    chat = [client.get(local(found["session_chat_view_url"])).headers["content-security-policy"] for _ in range(2)]
    assert chat[0] != chat[1]  # a nonce per answer


def test_the_chat_download_link_is_a_text_file(
    client: httpx.Client, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    response = client.get(local(links(reporting, reporters, history.full)["session_chat_download_url"]))
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"] == f"attachment; filename={history.full}-chat.txt"
    assert response.headers["x-content-type-options"] == "nosniff"
    lines = response.text.splitlines()
    assert lines[0] == f"Chat transcript of session {history.full}"
    assert any(line.endswith("] Pat Customer: Hello, my printer is jammed") for line in lines)
    assert any(line.endswith("] * The session ended") for line in lines)


def test_recording_links_serve_the_files_and_pages_to_watch_them(
    client: httpx.Client, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    found = links(reporting, reporters, history.full)
    assert client.get(local(found["session_recording_download_url"])).content == history.screen_bytes
    page = client.get(local(found["session_recording_view_url"]))
    assert "<video" in page.text
    shell = client.get(local(found["shell1"]))
    assert shell.headers["content-disposition"] == f"attachment; filename={history.full}-shell-1.cast"
    shell_page = client.get(local(found["shell1_view"]))
    assert "readme.txt  notes.md" in shell_page.text and "\x1b" not in shell_page.text


def test_a_tampered_or_misused_link_opens_nothing(
    client: httpx.Client, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    found = links(reporting, reporters, history.full)
    chat = local(found["session_chat_download_url"])
    assert client.get(chat.replace(history.full, history.transferred)).status_code == 404
    assert client.get(chat.replace("dl_action=chat", "dl_action=recording")).status_code == 404
    recording = local(found["session_recording_download_url"])
    assert client.get(recording.replace("dl_action=recording", "dl_action=chat")).status_code == 404
    assert client.get("/session_download?lsid=x&dl_action=chat").status_code == 404


def test_links_are_not_served_over_plain_http(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    path = local(links(reporting, reporters, history.full)["session_chat_download_url"])
    assert httpx.get(f"{appliance.http}/{path}").status_code == 403
