"""The Session Generation API, /api/start_session(.ns): a customer's request becomes a
session, and the customer lands in the browser customer client — or, when a script or
downloader asks (no text/html in Accept, or a native `platform`), gets a launcher that
opens that client (`launchers.py`).

Every parameter set of the 1.7 guide and of later versions is read here; a request that
cannot start a session gets a page (or, for a download, plain text) saying what to do instead.
HEAD answers what GET would, and starts nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from lifeline.api.errors import ApiError
from lifeline.api.params import prefixed
from lifeline.api.request import read_api_request
from lifeline.api.start.client_download import client_download_endpoint, client_manifest_endpoint
from lifeline.api.start.context import Starts
from lifeline.api.start.launchers import Launcher, Platform, launcher_for, platform_from_param, platform_from_user_agent
from lifeline.appliance.urls import public_base_url
from lifeline.directory.queries import SiteRecord
from lifeline.http.pages import render
from lifeline.http.site import client_address
from lifeline.presence.actions import DOWNLOAD_GRACE_SECONDS
from lifeline.presence.models import ClientInfo
from lifeline.sessions.actions import CustomerDetails, attributes_problem
from lifeline.sessions.starting import TOKEN_BYTES, CustomerStart, Plan, Refusal, Started, begin, plan
from lifeline.text import is_xml_safe

# Field limits of the issue submission survey (1.7 guide) and later versions.
LIMITS = {
    "customer_name": 100,
    "customer_company": 100,
    "customer_company_code": 100,
    "customer_desc": 1024,
    "customer.name": 100,
    "customer.company": 100,
    "customer.company_code": 100,
    "customer.details": 1024,
    "external_key": 1024,
    "short_key": 24,
    "codeName": 64,
    "name": 100,
}
FIELD_NAMES = {
    "customer_name": "Your name",
    "customer.name": "Your name",
    "customer_company": "Company",
    "customer.company": "Company",
    "customer_company_code": "Company code",
    "customer.company_code": "Company code",
    "customer_desc": "The description of your issue",
    "customer.details": "The description of your issue",
    "external_key": "The external key",
    "short_key": "The session key",
}


@dataclass(frozen=True)
class Problem:
    heading: str
    message: str
    status: int = 400


def _int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 9:
        return None
    return int(value.strip())


def parse_start(
    params: dict[str, str], *, site_id: int, client: ClientInfo, defined_attributes: Collection[str]
) -> CustomerStart | Problem:
    """Read any of the documented parameter sets; the first problem is what the customer sees."""
    for name, limit in LIMITS.items():
        value = params.get(name, "")
        if len(value.encode("utf-8") if name == "customer.details" else value) > limit:
            label = FIELD_NAMES.get(name, f"The field {name}")
            return Problem("Too long", f"{label} can be at most {limit} characters.")
        if value and not is_xml_safe(value):
            return Problem("Not accepted", f"{FIELD_NAMES.get(name, name)} contains characters that are not allowed.")
    attributes = custom_attributes(params, defined_attributes)
    if isinstance(attributes, Problem):
        return attributes
    external_key = params.get("external_key") or attributes.pop("external_key", "")
    attributes.pop("external_key", None)
    issue_menu = params.get("issue_menu", "") == "1" or bool(params.get("codeName"))
    raw_id = params.get("id")
    details = CustomerDetails(
        name=(params.get("customer_name") or params.get("customer.name") or "").strip(),
        company=(params.get("customer_company") or params.get("customer.company") or "").strip(),
        company_code=(params.get("customer_company_code") or params.get("customer.company_code") or "").strip(),
        details=(params.get("customer_desc") or params.get("customer.details") or "").strip(),
    )
    short_key = "".join((params.get("short_key") or "").split())
    return CustomerStart(
        public_site_id=site_id,
        client=client,
        details=details,
        short_key=short_key,
        url_key=(params.get("ak") or "")[:64],
        rep_id=None if issue_menu else _int(raw_id),
        issue_menu=issue_menu,
        issue_id=_int(raw_id) if issue_menu else None,
        issue_code=params.get("codeName", ""),
        external_key=external_key,
        attributes=attributes,
    )


def custom_attributes(params: dict[str, str], defined: Collection[str]) -> dict[str, str] | Problem:
    """The `session.custom.*` parameters, under the Command API's rules (one rule, in the
    engine). A name no admin defined is left out, not refused: the spec names only defined
    code names here and gives start_session no error for others, and a customer's start
    should not fail on an integration's stale link."""
    values = {
        code_name: value
        for code_name, value in prefixed(params, "session.custom.").items()
        if code_name == "external_key" or code_name in defined
    }
    if params.get("external_key"):
        values["external_key"] = params["external_key"]  # the typed one wins; it counts instead
    problem = attributes_problem(values, defined)
    return Problem("Not accepted", problem) if problem is not None else values


REFUSAL_STATUS = {
    Refusal.KEY_UNKNOWN: 404,
    Refusal.ISSUE_UNKNOWN: 404,
    Refusal.KEY_EXPIRED: 410,
    Refusal.KEY_USED: 410,
    Refusal.KEY_PRESENTATION: 409,
    Refusal.REP_UNAVAILABLE: 409,
}
TOO_MANY_STARTS = Problem(
    "Too many sessions",
    "Too many support sessions were started from your network. Wait a few minutes, then try again.",
    429,
)
TOO_MANY_GUESSES = Problem(
    "Too many attempts",
    "Too many session keys were tried from your network. Wait a few minutes, then try again.",
    429,
)
# What HEAD shows in place of the token a GET would make: the same length, so the same size.
PLACEHOLDER_TOKEN = "0" * len(secrets.token_urlsafe(TOKEN_BYTES))


def accepts_html(accept: str) -> bool:
    """Whether an Accept header asks for text/html (a browser navigating), q=0 aside."""
    for part in accept.split(","):
        media, *options = (piece.strip().lower() for piece in part.split(";"))
        if media == "text/html":
            quality = next((option[2:] for option in options if option.startswith("q=")), "1")
            try:
                return float(quality) > 0
            except ValueError:
                return True
    return False


def download_platform(headers: Headers, params: dict[str, str]) -> Platform | None:
    """The launcher a request gets, or None for the browser flow: a native `platform` asks
    for a download; otherwise browsers (text/html in Accept) get the browser customer client,
    and everyone else the launcher for the system their User-Agent names."""
    native = platform_from_param(params.get("platform", ""))
    if native is not None:
        return native
    if accepts_html(headers.get("accept", "")):
        return None
    return platform_from_user_agent(headers.get("user-agent", ""))


def client_url(started: Started) -> str:
    return f"/chat/{started.token}"


class WouldStart:
    """HEAD's outcome: a GET would start the session."""


@dataclass(frozen=True)
class NameNeeded:
    """A rep link (`id` and `name`, the rep's) names no customer: the browser asks first."""

    rep_name: str


Outcome = Started | WouldStart | NameNeeded | Refusal | Problem


def is_nameless_rep_link(start: CustomerStart) -> bool:
    return start.rep_id is not None and not start.issue_menu and not start.details.name


NAME_FIELDS = ("customer_name", "customer.name")


async def attempt(
    starts: Starts, request: Request, params: dict[str, str], site: SiteRecord, *, ask_name: bool = False
) -> Outcome:
    """Start the session the parameters ask for (on HEAD: only see whether a GET would).
    With `ask_name`, a rep link without the customer's name starts nothing yet."""
    address = client_address(request)
    client = ClientInfo(
        hostname="",
        platform=params.get("platform", "web")[:64] or "web",
        os=request.headers.get("user-agent", "")[:255],
        public_ip=address,
    )
    directory = await starts.runtime.directory()
    start = parse_start(params, site_id=site.id, client=client, defined_attributes=directory.custom_attributes)
    if isinstance(start, Problem):
        return start
    if await starts.starts_blocked(address):
        return TOO_MANY_STARTS
    guessing = bool(start.short_key or start.url_key)
    if guessing and starts.key_guesses.blocked(address):
        return TOO_MANY_GUESSES
    outcome: Started | Plan | Refusal
    if ask_name and not guessing and is_nameless_rep_link(start):
        planned = await starts.runtime.db.read(plan, start)
        return planned if isinstance(planned, Refusal) else NameNeeded(planned.queue.name)
    if request.method == "HEAD":
        outcome = await starts.runtime.db.read(plan, start)
    else:
        outcome = await starts.runtime.db.write(begin, start, node_id=starts.runtime.node_id)
    if isinstance(outcome, Refusal):
        if guessing and outcome is Refusal.KEY_UNKNOWN:
            starts.key_guesses.failed(address)  # HEAD too: it must not be a free way to try keys
        return outcome
    if isinstance(outcome, Started):
        starts.session_starts.failed(address)  # the limit counts starts the way it counts failures
    return WouldStart() if isinstance(outcome, Plan) else outcome


# --- the browser flow ----------------------------------------------------------------------


def problem_page(request: Request, problem: Problem, common: dict[str, Any]) -> Response:
    context = {**common, "heading": problem.heading, "message": problem.message, "back_url": "/"}
    return render(request, "message.html", context, status=problem.status)


def refused_page(request: Request, refusal: Refusal, common: dict[str, Any]) -> Response:
    status = REFUSAL_STATUS.get(refusal, 400)
    return render(
        request,
        "message.html",
        {
            **common,
            "heading": "We could not start your session",
            "message": refusal.value,
            "back_url": "/",
            "back_label": "Back to the support site",
        },
        status=status,
    )


def name_page(request: Request, asked: NameNeeded, params: dict[str, str], common: dict[str, Any]) -> Response:
    """Ask the customer's name, then send the same request again with it."""
    carried = {name: value for name, value in params.items() if name not in NAME_FIELDS}
    context = {
        **common,
        "rep_name": asked.rep_name,
        "carried": carried,
        "again": any(name in params for name in NAME_FIELDS),
        "limit": LIMITS["customer_name"],
    }
    return render(request, "customer_name.html", context)


async def start_from(starts: Starts, request: Request, params: dict[str, str]) -> Response:
    """Start the session the parameters ask for and send the customer to their client."""
    outcome = await attempt(starts, request, params, await starts.site_for(request), ask_name=True)
    if isinstance(outcome, Started):
        starts.expect(outcome.gsnumber)
        return RedirectResponse(client_url(outcome), status_code=303, headers={"cache-control": "no-store"})
    if isinstance(outcome, WouldStart):
        # Only a GET starts a session, so HEAD has no client to point at.
        return Response(status_code=200, media_type="text/html; charset=utf-8", headers={"cache-control": "no-store"})
    common = await starts.common()
    if isinstance(outcome, NameNeeded):
        return name_page(request, outcome, params, common)
    if outcome is Refusal.KEY_PRESENTATION:  # an attendee typed or followed a presentation's key
        key = "".join((params.get("short_key") or params.get("ak") or "").split())
        return RedirectResponse(f"/presentation/{quote(key, safe='')}", status_code=303)
    if isinstance(outcome, Refusal):
        return refused_page(request, outcome, common)
    return problem_page(request, outcome, common)


# --- the download --------------------------------------------------------------------------


def exact(request: Request, body: bytes, status: int, content_type: str, **headers: str) -> Response:
    """An answer whose HEAD carries GET's headers (its Content-Length too) and no body."""
    return Response(
        b"" if request.method == "HEAD" else body,
        status_code=status,
        headers={
            "content-type": content_type,
            "content-length": str(len(body)),
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
            **headers,
        },
    )


def plain_error(request: Request, status: int, message: str) -> Response:
    return exact(request, f"{message}\n".encode(), status, "text/plain; charset=utf-8")


def site_hostname(request: Request, site: SiteRecord) -> str:
    """The host name the request used when it is one of the site's, else the site's primary
    one: where the browser flow of the same request would land."""
    host = (request.url.hostname or "").lower().rstrip(".")
    return host if host in site.hostnames else site.primary_hostname


async def download_from(starts: Starts, request: Request, params: dict[str, str], platform: Platform) -> Response:
    """Start the session and answer with its launcher (which runs the Lifeline client)."""
    site = await starts.site_for(request)
    outcome = await attempt(starts, request, params, site)
    if isinstance(outcome, Refusal):
        return plain_error(request, REFUSAL_STATUS.get(outcome, 400), outcome.value)
    if isinstance(outcome, Problem):
        return plain_error(request, outcome.status, outcome.message)
    if isinstance(outcome, Started):
        starts.expect(outcome.gsnumber, grace=DOWNLOAD_GRACE_SECONDS)
        path = client_url(outcome)
    else:
        path = f"/chat/{PLACEHOLDER_TOKEN}"
    hostname = site_hostname(request, site)
    base_url = public_base_url(hostname, starts.runtime.https_port_for_urls(await starts.runtime.settings()))
    # Named after the key the customer typed (it is known to be one by now), else the site.
    short_key = "".join((params.get("short_key") or "").split())
    launcher: Launcher = launcher_for(platform, base_url + path, short_key or hostname, starts.client.build())
    return exact(
        request,
        launcher.body,
        200,
        launcher.content_type,
        # Unquoted and last, as the other downloads: scripts take what follows `filename=`.
        **{"content-security-policy": "sandbox", "content-disposition": f"attachment; filename={launcher.file_name}"},
    )


def start_session_endpoint(starts: Starts) -> Callable[[Request], Awaitable[Response]]:
    async def start_session(request: Request) -> Response:
        try:
            parsed = await read_api_request(request.scope, request.receive)
        except ApiError as error:
            if download_platform(request.headers, {}) is not None:
                return plain_error(request, 400, error.message)
            return problem_page(request, Problem("Not accepted", error.message), await starts.common())
        platform = download_platform(request.headers, parsed.params)
        refusal = starts.runtime.failover.refusal()
        if refusal is not None:
            # The backup takes no sessions; the customer is sent nowhere it could not follow.
            if platform is not None:
                return plain_error(request, 503, refusal)
            return problem_page(request, Problem("Not accepted", refusal), await starts.common())
        if platform is None:
            return await start_from(starts, request, parsed.params)
        return await download_from(starts, request, parsed.params, platform)

    return start_session


def start_routes(starts: Starts) -> list[BaseRoute]:
    start_session = start_session_endpoint(starts)
    return [
        Route("/api/start_session", start_session, methods=["GET", "POST", "HEAD"]),
        Route("/api/start_session.ns", start_session, methods=["GET", "POST", "HEAD"]),
        # Before {name}: the manifest is no download of its own (Jumpoints read it to push).
        Route("/download/client/manifest.json", client_manifest_endpoint(starts.client), methods=["GET", "HEAD"]),
        Route("/download/client/{name}", client_download_endpoint(starts.client), methods=["GET", "HEAD"]),
    ]
