"""What every /login page shares: who may open it, CSRF on every POST, the layout's
context, a message after a change, and reading bounded form fields."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from lifeline.http.auth import SignedIn
from lifeline.http.pages import render, templates
from lifeline.reports.browse import viewer_for
from lifeline.reports.criteria import Viewer
from lifeline.web.context import Web
from lifeline.web.pages import field, small_form
from lifeline.web.signin import CHANGE_PASSWORD_URL
from lifeline.web.uploads import MB, FormExpired, Upload, UploadRefused, is_multipart, read_upload

T = TypeVar("T")

FLASH_COOKIE = "lifeline_flash"
HOME_ADMIN = "/login/status"
HOME_REP = "/login/account"

ADMIN_NAV = (
    ("Status", "/login/status"),
    ("Users", "/login/users"),
    ("Teams", "/login/teams"),
    ("Jump Groups", "/login/jump-groups"),
    ("Jump Clients", "/login/jump-clients"),
    ("Public sites", "/login/sites"),
    ("Exit surveys", "/login/surveys"),
    ("Security", "/login/security"),
    ("API configuration", "/login/api"),
    ("Appliance", "/login/appliance"),
    ("Backup", "/login/backup"),
    ("Reports", "/login/reports"),
)


class Access(enum.Enum):
    ADMIN = "admin"  # administrators only; everyone else gets 403
    REPORTS = "reports"  # admins, and users whose perm_view_reports is not none
    SIGNED_IN = "signed in"  # anyone signed in (their own account)
    JUMP_DEPLOY = "jump deploy"  # admins, and users with perm_jump_deploy (their own groups)


REFUSED = "Only an administrator may open this page."
REFUSALS = {Access.JUMP_DEPLOY: "Only an administrator, or a user who may deploy Jump Clients, may open this page."}


def may_view_reports(me: SignedIn) -> bool:
    return me.admin or me.view_reports != "none"


def report_viewer(me: SignedIn) -> Viewer:
    """Which sessions and recordings the user's reports show (the Reporting API's rule)."""
    return viewer_for(me.user_id, admin=me.admin, view_reports=me.view_reports, view_recordings=me.view_recordings)


def nav_for(me: SignedIn) -> list[tuple[str, str]]:
    if me.admin:
        return [*ADMIN_NAV, ("My account", HOME_REP)]
    items = [("My account", HOME_REP)]
    if may_view_reports(me):
        items.append(("Reports", "/login/reports"))
    if me.jump_deploy:
        items.append(("Jump Clients", "/login/jump-clients"))
    return items


def when(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""


templates.env.filters["when"] = when


class FormProblem(ValueError):
    """A field the page itself refuses before any action runs; the message says why."""


def problem_text(problem: Exception) -> str:
    """An action's refusal as a sentence for the form."""
    text = str(problem)
    if text.split(" ", 1)[0].isalpha():  # not a hostname or a quoted name
        text = text[:1].upper() + text[1:]
    return text + ("" if text.endswith(".") else ".")


@dataclass
class Page:
    """One request to a /login page, from someone allowed to open it."""

    web: Web
    request: Request
    me: SignedIn
    csrf: str
    form: FormData
    upload: Upload | None = None  # the file of an upload form (AdminPage.upload), removed after the handler

    # --- reading the form ----------------------------------------------------------------

    def text(self, name: str, limit: int = 255) -> str:
        return field(self.form, name, limit + 1).strip()  # one more, so the action can say "too long"

    def raw(self, name: str, limit: int = 4096) -> str:
        return field(self.form, name, limit + 1)

    def flag(self, name: str) -> bool:
        return field(self.form, name, 8) in ("on", "1", "true")

    def path_id(self, name: str) -> int:
        value: int = self.request.path_params[name]
        return value

    # --- answering -------------------------------------------------------------------------

    async def render(self, template: str, title: str, *, status: int = 200, **context: Any) -> Response:
        settings = await self.web.runtime.settings()
        flash = unquote(self.request.cookies.get(FLASH_COOKIE, ""))[:300]
        response = render(
            self.request,
            template,
            {
                "company": settings["company_name"],
                "title": title,
                "me": self.me,
                "csrf": self.csrf,
                "nav": nav_for(self.me),
                "path": self.request.url.path,
                "flash": flash,
                "zone": ZoneInfo(settings["timezone"]),
                **context,
            },
            status=status,
        )
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/login")
        return response

    def done(self, url: str, message: str) -> Response:
        """After a change: back to a page that says what was done (post, redirect, get)."""
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            FLASH_COOKIE,
            quote(message[:300]),
            max_age=60,
            path="/login",
            httponly=True,
            secure=True,  # cookies only ever travel over HTTPS (http/transport.py)
            samesite="strict",
        )
        return response

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.web.runtime.db.read(fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.web.runtime.db.write(fn, *args)

    async def not_found(self, what: str) -> Response:
        return await self.render("admin/message.html", "Not found", status=404, message=f"There is no such {what}.")


Handler = Callable[[Page], Awaitable[Response]]


@dataclass(frozen=True)
class AdminPage:
    """A /login page: its path, what it answers, and who may open it."""

    path: str
    handler: Handler
    methods: Sequence[str] = ("GET",)
    access: Access = Access.ADMIN
    while_password_change_due: bool = False  # reachable before a due password change
    # The name of the file field of a form that uploads one (multipart, streamed to disk up
    # to the restore_upload_max_mb setting); other POSTs are small forms.
    upload: str = ""


def guarded(web: Web, spec: AdminPage) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        me = await web.auth.signed_in(request)
        if me is None:
            target = "/login" if request.method != "GET" else f"/login?next={quote(request.url.path)}"
            return RedirectResponse(target, status_code=303)
        if me.password_change_due and not spec.while_password_change_due:
            return RedirectResponse(CHANGE_PASSWORD_URL, status_code=303)
        page = Page(web, request, me, await web.auth.csrf_token(me), FormData())
        allowed = (
            spec.access is Access.SIGNED_IN
            or (spec.access is Access.ADMIN and me.admin)
            or (spec.access is Access.REPORTS and may_view_reports(me))
            or (spec.access is Access.JUMP_DEPLOY and (me.admin or me.jump_deploy))
        )
        if not allowed:
            return await page.render(
                "admin/message.html", "Not allowed", status=403, message=REFUSALS.get(spec.access, REFUSED)
            )
        if request.method == "POST":
            try:
                form = await _upload_form(page, spec) if spec.upload and is_multipart(request) else None
            except UploadRefused as refused:
                title = "The form expired" if isinstance(refused, FormExpired) else "The file was refused"
                return await page.render("admin/message.html", title, status=refused.status, message=refused.message)
            form = form or await small_form(request)
            if form is None or not await web.auth.check_csrf(me, field(form, "csrf", 128)):
                if page.upload is not None:
                    page.upload.remove()
                return await page.render(
                    "admin/message.html",
                    "The form expired",
                    status=400,
                    message="The form expired or was too large. Go back, reload the page and try again.",
                )
            page.form = form
        try:
            return await spec.handler(page)
        finally:
            if page.upload is not None:
                page.upload.remove()

    return endpoint


async def _upload_form(page: Page, spec: AdminPage) -> FormData:
    settings = await page.web.runtime.settings()
    form, page.upload = await read_upload(
        page.request,
        file_field=spec.upload,
        folder=page.web.runtime.config.scratch_dir / "uploads",
        limit=int(settings["restore_upload_max_mb"]) * MB,
        csrf=page.csrf,
    )
    return form


def routes_of(web: Web, pages: Sequence[AdminPage]) -> list[Route]:
    return [Route(spec.path, guarded(web, spec), methods=list(spec.methods)) for spec in pages]
