"""The representative console's pages: sign in and out, the console itself, files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from lifeline.db.base import MAX_BIG_ID, parse_id
from lifeline.directory.models import User
from lifeline.http.pages import render
from lifeline.presence.models import ClientConnection
from lifeline.sessions import actions as engine
from lifeline.sessions.events import Actor
from lifeline.sessions.models import SessionFile, SessionParticipant, SupportSession
from lifeline.sessions.queries import session_by_lsid
from lifeline.web.context import Web
from lifeline.web.files import download, store_and_record
from lifeline.web.pages import field, small_form
from lifeline.web.signin import CHANGE_PASSWORD_URL, browser_sign_in, is_throttled

Endpoint = Callable[[Request], Awaitable[Response]]


def login_page(web: Web) -> Endpoint:
    async def login(request: Request) -> Response:
        common = await web.common()
        token = web.auth.prelogin_token(request)
        context = {**common, "csrf": token, "error": None, "username": ""}
        if request.method == "GET":
            signed_in = await web.auth.signed_in(request)
            if signed_in is not None and signed_in.support and not signed_in.password_change_due:
                return RedirectResponse("/console", status_code=303)
            response = render(request, "console_login.html", context)
            web.auth.remember_prelogin(response, token)
            return response
        form = await small_form(request)
        if form is None or not web.auth.check_prelogin(request, field(form, "csrf")):
            context["error"] = "The form expired. Please sign in again."
            response = render(request, "console_login.html", context, status=400)
            web.auth.remember_prelogin(response, token)
            return response
        username = field(form, "username", 64)
        outcome = await browser_sign_in(web, request, username, field(form, "password", 256))
        if not isinstance(outcome, str) and outcome.user is not None and not outcome.user.perm_support:
            outcome = "This account may not use the representative console."
        if isinstance(outcome, str) or outcome.user is None:
            context.update(error=outcome, username=username)
            response = render(request, "console_login.html", context, status=429 if is_throttled(outcome) else 401)
            web.auth.remember_prelogin(response, token)
            return response
        # Same cookie as /login: one sign-in for the whole appliance.
        target = f"{CHANGE_PASSWORD_URL}?next=/console" if outcome.password_change_due else "/console"
        response = RedirectResponse(target, status_code=303)
        await web.auth.sign_in(response, outcome.user)
        return response

    return login


def logout_page(web: Web) -> Endpoint:
    async def logout(request: Request) -> Response:
        signed_in = await web.auth.signed_in(request)
        form = await small_form(request)
        if signed_in is not None and (form is None or not await web.auth.check_csrf(signed_in, field(form, "csrf"))):
            return Response("The form expired; reload the page.", status_code=400, media_type="text/plain")
        response = RedirectResponse("/console/login", status_code=303)
        await web.auth.sign_out(request, response)
        return response

    return logout


def console_page(web: Web) -> Endpoint:
    async def console(request: Request) -> Response:
        signed_in = await web.auth.signed_in(request)
        if signed_in is None or not signed_in.support:
            return RedirectResponse("/console/login", status_code=303)
        if signed_in.password_change_due:
            return RedirectResponse(f"{CHANGE_PASSWORD_URL}?next=/console", status_code=303)
        directory = await web.runtime.directory()
        context = {
            **(await web.common()),
            "csrf": await web.auth.csrf_token(signed_in),
            "user": signed_in,
            "sites": directory.sites,
        }
        return render(request, "console.html", context)

    return console


def rep_upload(web: Web) -> Endpoint:
    """A rep sends a file into a session; the form carries the console's gsnumber and CSRF token."""

    async def upload(request: Request) -> Response:
        signed_in = await web.auth.signed_in(request)
        if signed_in is None or not signed_in.support:
            return JSONResponse({"ok": False, "error": "sign in first"}, status_code=401)
        if not await web.auth.check_csrf(signed_in, request.headers.get("x-csrf-token", "")):
            return JSONResponse({"ok": False, "error": "the page expired; reload it"}, status_code=403)
        gsnumber = parse_id(request.headers.get("x-gsnumber", ""), most=MAX_BIG_ID)
        if gsnumber is None:
            return JSONResponse({"ok": False, "error": "x-gsnumber is missing"}, status_code=400)
        lsid = request.path_params["lsid"]

        def who(session: Session, support_session: SupportSession) -> Actor:
            connection = session.get(ClientConnection, gsnumber)
            user = session.get(User, signed_in.user_id)
            if connection is None or user is None or connection.user_id != user.id or connection.disconnected_at:
                raise engine.SessionError("your console connection has ended")
            return engine.rep_actor(connection, user)

        return await store_and_record(
            request, web.files, web.runtime.db, who, lambda session: session_by_lsid(session, lsid), staging=True
        )

    return upload


def rep_download(web: Web) -> Endpoint:
    """Files of sessions the rep took part in (any of their connections), or any file for admins."""

    async def get(request: Request) -> Response:
        signed_in = await web.auth.signed_in(request)
        if signed_in is None:
            return Response("Sign in first", status_code=401, media_type="text/plain")
        file_id = request.path_params["file_id"]

        def find(session: Session) -> SessionFile | None:
            row = session.get(SessionFile, file_id)
            if row is None:
                return None
            if signed_in.admin:
                return row
            took_part = session.scalars(
                select(SessionParticipant.id).where(
                    SessionParticipant.session_id == row.session_id, SessionParticipant.user_id == signed_in.user_id
                )
            ).first()
            return row if took_part is not None else None

        row = await web.runtime.db.read(find)
        if row is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        return download(web.files, row)

    return get
