"""Signing in and out of /login, changing one's password (also when it is due), and the
account page every signed-in user has."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from lifeline.directory import actions as directory
from lifeline.directory.logins import LoginPolicy, Outcome, attempt_login, password_expires_at
from lifeline.directory.models import Team, TeamMember, User
from lifeline.http.auth import SignedIn
from lifeline.http.pages import render
from lifeline.http.site import client_address
from lifeline.web.admin.base import HOME_ADMIN, HOME_REP, Access, AdminPage, Page
from lifeline.web.context import Web
from lifeline.web.pages import field, small_form
from lifeline.web.signin import browser_sign_in, is_throttled, policy, safe_next, waiting

Endpoint = Callable[[Request], Awaitable[Response]]


def home_of(me: SignedIn) -> str:
    return HOME_ADMIN if me.admin else HOME_REP


def sign_in_page(web: Web) -> Endpoint:
    async def sign_in(request: Request) -> Response:
        token = web.auth.prelogin_token(request)
        wanted = request.query_params.get("next") if request.method == "GET" else None
        context: dict[str, Any] = {**(await web.common()), "csrf": token, "error": None, "username": ""}

        def page(status: int = 200) -> Response:
            response = render(request, "admin/login.html", context, status=status)
            web.auth.remember_prelogin(response, token)
            return response

        if request.method == "GET":
            me = await web.auth.signed_in(request)
            if me is not None and not me.password_change_due:
                return RedirectResponse(safe_next(wanted, home_of(me)), status_code=303)
            context["next"] = safe_next(wanted, "")
            return page()
        form = await small_form(request)
        if form is None or not web.auth.check_prelogin(request, field(form, "csrf", 128)):
            context["error"] = "The form expired. Please sign in again."
            return page(400)
        username = field(form, "username", 64)
        context.update(username=username, next=safe_next(field(form, "next", 512), ""))
        outcome = await browser_sign_in(web, request, username, field(form, "password", 256))
        if isinstance(outcome, str) or outcome.user is None:
            context["error"] = outcome
            return page(429 if is_throttled(outcome) else 401)
        user = outcome.user
        home = HOME_ADMIN if user.perm_admin else HOME_REP
        target = safe_next(context["next"], home)
        if outcome.password_change_due:
            target = f"/login/password?next={target}"
        response = RedirectResponse(target, status_code=303)
        await web.auth.sign_in(response, user)
        return response

    return sign_in


def sign_out_page(web: Web) -> Endpoint:
    async def sign_out(request: Request) -> Response:
        me = await web.auth.signed_in(request)
        form = await small_form(request)
        if me is not None and (form is None or not await web.auth.check_csrf(me, field(form, "csrf", 128))):
            return Response("The form expired; reload the page.", status_code=400, media_type="text/plain")
        response = RedirectResponse("/login", status_code=303)
        await web.auth.sign_out(request, response)
        return response

    return sign_out


def sign_in_routes(web: Web) -> list[Route]:
    return [
        Route("/login", sign_in_page(web), methods=["GET", "POST"]),
        Route("/login/logout", sign_out_page(web), methods=["POST"]),
    ]


# --- changing one's password -------------------------------------------------------------


async def change_password(page: Page) -> Response:
    wanted = page.request.query_params.get("next") or page.text("next", 512)
    after = safe_next(wanted, HOME_ADMIN if page.me.admin else HOME_REP)
    context: dict[str, Any] = {"next": after, "error": None, "due": page.me.password_change_due}
    if page.request.method == "GET":
        return await page.render("admin/password.html", "Change your password", **context)
    current, new, again = (page.raw(name, 256) for name in ("current", "new", "again"))
    if new != again:
        context["error"] = "The new password and its confirmation differ."
    elif new == current:
        context["error"] = "Choose a password different from the current one."
    if context["error"] is None:
        rules: LoginPolicy = await policy(page.web)
        check = await attempt_login(page.web.runtime.db, page.me.username, current, rules, client_address(page.request))
        if check.outcome is Outcome.WAIT and check.wait_until is not None:
            context["error"] = waiting(check.wait_until)
        elif check.outcome is not Outcome.SIGNED_IN or check.user_id != page.me.user_id:
            context["error"] = "The current password is not right."
    if context["error"] is None:

        def change(session: Session) -> User:
            user = session.get(User, page.me.user_id)
            assert user is not None
            directory.set_password(session, user, new)
            return user

        try:
            user = await page.write(change)
        except directory.DirectoryError as error:
            context["error"] = f"That password cannot be used: {error}."
        else:
            response = page.done(after, "Your password was changed.")
            await page.web.auth.sign_in(response, user)  # the old cookie just ended
            return response
    return await page.render("admin/password.html", "Change your password", status=400, **context)


# --- one's own account -------------------------------------------------------------------


async def my_account(page: Page) -> Response:
    def load(session: Session) -> tuple[User, list[str]]:
        user = session.get(User, page.me.user_id)
        assert user is not None
        teams = session.scalars(
            select(Team.name).join(TeamMember, TeamMember.team_id == Team.id).where(TeamMember.user_id == user.id)
        ).all()
        return user, list(teams)

    user, teams = await page.read(load)
    expires = password_expires_at(user, await policy(page.web))
    return await page.render("admin/account.html", "My account", user=user, teams=teams, expires=expires)


PAGES = [
    AdminPage(
        "/login/password",
        change_password,
        ("GET", "POST"),
        access=Access.SIGNED_IN,
        while_password_change_due=True,
    ),
    AdminPage("/login/account", my_account, access=Access.SIGNED_IN),
]
