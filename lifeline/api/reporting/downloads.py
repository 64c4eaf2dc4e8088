"""`/session_download`: the pages and files the links in reports point at — a chat
transcript (a page, or text to download) and recordings (a page to watch, or the file).
The link's signed token is the permission (see `links.py`)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from lifeline.api.reporting.links import Grant, verified_lsid
from lifeline.api.reporting.responses import recording_file
from lifeline.appliance.settings import APPLIANCE_SECRET
from lifeline.recordings.actions import RecordingKind, download_name
from lifeline.recordings.asciicast import plain_output
from lifeline.recordings.queries import find_recording
from lifeline.recordings.store import RecordingStore
from lifeline.reports.transcripts import Transcript, transcript
from lifeline.runtime import Runtime
from lifeline.text import xml_safe

NOT_FOUND = "This link is not valid, or what it points to no longer exists.\n"
RECORDING_ACTIONS = {
    "recording": RecordingKind.SCREEN,
    "command_shell": RecordingKind.COMMAND_SHELL,
    "presentation": RecordingKind.PRESENTATION,
}
MAX_SHELL_PAGE = 4 * 1024 * 1024  # a longer shell recording is offered as a download only
TOO_LONG = "(This recording is too long to show here; download it.)"

# The pages carry their own style and nothing else: no scripts, no frames, no forms.
PAGE_POLICY = (
    "default-src 'none'; style-src 'nonce-{nonce}'; media-src 'self'; img-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

_pages = Environment(loader=PackageLoader("lifeline.api.reporting", "templates"), autoescape=select_autoescape())


def transcript_text(found: Transcript, zone: ZoneInfo) -> str:
    def when(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %z")

    lines = [f"Chat transcript of session {found.lsid}", ""]
    for line in found.lines:
        said = f"{line.speaker}: {line.text}" if line.speaker else f"* {line.text}"
        lines.append(f"[{when(line.at)}] {said}")
    return "\n".join(lines) + "\n"


def downloads_endpoint(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def session_download(request: Request) -> Response:
        settings = await runtime.settings()
        if request.url.scheme != "https" and not settings["xml_api_allow_http"]:
            return PlainTextResponse("Use HTTPS.\n", status_code=403)
        secret = settings[APPLIANCE_SECRET]
        token = request.query_params.get("lsid", "")[:200]
        action = request.query_params.get("dl_action", "")
        view = request.query_params.get("view") == "1"
        zone = ZoneInfo(settings["timezone"])
        if action == "chat":
            lsid = verified_lsid(secret, token, Grant.CHAT)
            found = await runtime.db.read(transcript, lsid) if lsid else None
            if found is None:
                return PlainTextResponse(NOT_FOUND, status_code=404)
            return _transcript_answer(request, found, zone, view)
        kind = RECORDING_ACTIONS.get(action)
        lsid = verified_lsid(secret, token, Grant.RECORDING) if kind else None
        if kind is None or lsid is None:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        instance_text = request.query_params.get("instance", "0")
        instance = int(instance_text) if instance_text.isdigit() and len(instance_text) < 9 else -1
        return await _recording_answer(runtime, request, lsid, kind, instance, view)

    return session_download


def _transcript_answer(request: Request, found: Transcript, zone: ZoneInfo, view: bool) -> Response:
    if not view:
        return PlainTextResponse(
            xml_safe(transcript_text(found, zone)),
            headers={"content-disposition": f"attachment; filename={found.lsid}-chat.txt", "cache-control": "no-store"},
        )
    download = str(request.url.remove_query_params("view"))
    return _page(
        "transcript.html",
        transcript=_safe(found),
        download_url=download,
        when=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %z"),
    )


def _page(template: str, **context: object) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    page = _pages.get_template(template).render(nonce=nonce, **context)
    headers = {"content-security-policy": PAGE_POLICY.format(nonce=nonce), "cache-control": "no-store"}
    return HTMLResponse(page, headers=headers)


def _safe(found: Transcript) -> Transcript:
    """The transcript with characters a page cannot show replaced (chat can carry anything)."""
    lines = [replace(line, speaker=xml_safe(line.speaker), text=xml_safe(line.text)) for line in found.lines]
    return replace(found, customer_name=xml_safe(found.customer_name), lines=lines)


async def _recording_answer(
    runtime: Runtime, request: Request, lsid: str, kind: RecordingKind, instance: int, view: bool
) -> Response:
    found = await runtime.db.read(find_recording, lsid, kind.value, instance)
    store = RecordingStore(runtime.config.recordings_dir)
    if found is None or not found.finished or not store.exists(found.storage_name):
        return PlainTextResponse(NOT_FOUND, status_code=404)
    path = store.path_for(found.storage_name)
    if not view:
        return recording_file(path, found.content_type, download_name(lsid, kind, instance))
    shell_output = None
    if kind is RecordingKind.COMMAND_SHELL:
        shell_output = TOO_LONG
        if path.stat().st_size <= MAX_SHELL_PAGE:
            with path.open("rb") as handle:
                shell_output = xml_safe(plain_output(handle))
    title = f"Session {lsid}: " + (f"command shell {instance}" if kind is RecordingKind.COMMAND_SHELL else kind.value)
    return _page(
        "recording.html",
        title=title,
        shell_output=shell_output,
        download_url=str(request.url.remove_query_params("view")),
    )
