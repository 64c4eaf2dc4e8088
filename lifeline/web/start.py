"""The Session Generation API, /api/start_session(.ns): a customer's request becomes a
session, and the customer lands in the browser customer client.

Every parameter set of the 1.7 guide and of later versions is read here; a request that
cannot start a session gets a page saying what to do instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lifeline.api.errors import ApiError
from lifeline.api.params import prefixed
from lifeline.api.request import read_api_request
from lifeline.presence.actions import ClientInfo
from lifeline.sessions.actions import CustomerDetails
from lifeline.sessions.starting import CustomerStart, Refusal, Started, begin
from lifeline.text import is_xml_safe
from lifeline.web.context import Web, client_address
from lifeline.web.pages import render

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


def parse_start(params: dict[str, str], *, site_id: int, client: ClientInfo) -> CustomerStart | Problem:
    """Read any of the documented parameter sets; the first problem is what the customer sees."""
    for name, limit in LIMITS.items():
        value = params.get(name, "")
        if len(value.encode("utf-8") if name == "customer.details" else value) > limit:
            label = FIELD_NAMES.get(name, f"The field {name}")
            return Problem("Too long", f"{label} can be at most {limit} characters.")
        if value and not is_xml_safe(value):
            return Problem("Not accepted", f"{FIELD_NAMES.get(name, name)} contains characters that are not allowed.")
    attributes = {k: v for k, v in prefixed(params, "session.custom.").items() if len(v) <= 1024 and is_xml_safe(v)}
    external_key = params.get("external_key") or attributes.pop("external_key", "")
    attributes.pop("external_key", None)
    issue_menu = params.get("issue_menu", "") == "1" or bool(params.get("codeName"))
    raw_id = params.get("id")
    details = CustomerDetails(
        name=(params.get("customer_name") or params.get("customer.name") or "").strip(),
        company=(params.get("customer_company") or params.get("customer.company") or "").strip(),
        company_code=(params.get("customer_company_code") or params.get("customer.company_code") or "").strip(),
        issue=str(_int(raw_id) or "") if issue_menu else "",
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


REFUSAL_STATUS = {
    Refusal.KEY_UNKNOWN: 404,
    Refusal.ISSUE_UNKNOWN: 404,
    Refusal.KEY_EXPIRED: 410,
    Refusal.KEY_USED: 410,
    Refusal.REP_UNAVAILABLE: 409,
}


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


def chat_url(started: Started) -> str:
    return f"/chat/{started.token}"


async def start_from(web: Web, request: Request, params: dict[str, str]) -> Response:
    """Start the session the parameters ask for and send the customer to their client."""
    common = await web.common()
    site = await web.site_for(request)
    address = client_address(request)
    client = ClientInfo(
        hostname="",
        platform=params.get("platform", "web")[:64] or "web",
        os=request.headers.get("user-agent", "")[:255],
        public_ip=address,
    )
    start = parse_start(params, site_id=site.id, client=client)
    if isinstance(start, Problem):
        return render(
            request,
            "message.html",
            {**common, "heading": start.heading, "message": start.message, "back_url": "/"},
            status=start.status,
        )
    guessing = bool(start.short_key or start.url_key)
    if guessing and web.key_guesses.blocked(address):
        return render(
            request,
            "message.html",
            {
                **common,
                "heading": "Too many attempts",
                "message": "Too many session keys were tried from your network. Wait a few minutes, then try again.",
                "back_url": "/",
            },
            status=429,
        )
    outcome = await web.runtime.db.write(begin, start, node_id=web.runtime.node_id)
    if isinstance(outcome, Refusal):
        if guessing and outcome is Refusal.KEY_UNKNOWN:
            web.key_guesses.failed(address)
        return refused_page(request, outcome, common)
    web.hub.expect(outcome.gsnumber)
    return RedirectResponse(chat_url(outcome), status_code=303, headers={"cache-control": "no-store"})


def start_session_endpoint(web: Web) -> Callable[[Request], Awaitable[Response]]:
    async def start_session(request: Request) -> Response:
        if request.method == "HEAD":
            # Nothing starts on HEAD; it only says where a GET would take the customer.
            return Response(
                status_code=200, media_type="text/html; charset=utf-8", headers={"cache-control": "no-store"}
            )
        try:
            parsed = await read_api_request(request.scope, request.receive)
        except ApiError as error:
            common = await web.common()
            return render(
                request,
                "message.html",
                {**common, "heading": "Not accepted", "message": error.message, "back_url": "/"},
                status=400,
            )
        return await start_from(web, request, parsed.params)

    return start_session
