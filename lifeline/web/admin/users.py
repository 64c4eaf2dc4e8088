"""Users: representatives, administrators and API users, with every permission the APIs use;
passwords set by an admin, and ending the waits wrong passwords earned."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.responses import Response

from lifeline.db.base import utcnow
from lifeline.directory import actions as directory
from lifeline.directory.logins import is_locked
from lifeline.directory.models import RepKind, TeamMember, User, ViewReports
from lifeline.web.admin.base import AdminPage, FormProblem, Page, problem_text

# (field, what the form says, the name the APIs report it under)
PERMISSIONS = (
    ("perm_admin", "Administrator: every page of /login and the admin-only API commands", "perm_admin"),
    ("perm_command_api", "May use the Command API", "perm_use_command_api"),
    ("perm_reporting_api", "May use the Reporting API", "perm_use_reporting_api"),
    ("perm_view_recordings", "May view session recordings", "perm_view_sd_recordings"),
    ("perm_support", "May provide remote support (the console; generate_session_key)", "perm_sd_allowed"),
    ("perm_show_on_rep_list", "May show on the public site's representative list", ""),
    ("perm_general_queue", "May take sessions from the general queue", ""),
    ("perm_jump_deploy", "May deploy Jump Clients", ""),
)
VIEW_REPORTS = (
    (ViewReports.NONE, "No reports"),
    (ViewReports.USER_SESSIONS, "Sessions they led"),
    (ViewReports.TEAM_SESSIONS, "Sessions of their teams"),
    (ViewReports.ALL_SESSIONS, "All sessions"),
)
TEXT_FIELDS = (
    ("display_name", "Display name", 100),
    ("private_display_name", "Private display name (shown to other reps)", 100),
    ("display_number", "Display number", 32),
    ("email", "Email", 255),
)
NEW_USER_DEFAULTS: dict[str, Any] = {
    "kind": RepKind.NORMAL.value,
    "perm_view_reports": ViewReports.NONE.value,
    "perm_support": True,
    "perm_general_queue": True,
    "must_change_password": True,
}


def values_of(user: User) -> dict[str, Any]:
    names = [name for name, _, _ in TEXT_FIELDS] + [name for name, _, _ in PERMISSIONS]
    names += ["kind", "perm_view_reports", "enabled", "password_never_expires", "must_change_password", "username"]
    return {name: getattr(user, name) for name in names}


def values_from(page: Page) -> dict[str, Any]:
    values: dict[str, Any] = {name: page.text(name, limit) for name, _, limit in TEXT_FIELDS}
    values.update({name: page.flag(name) for name, _, _ in PERMISSIONS})
    values.update(
        kind=page.text("kind", 16),
        perm_view_reports=page.text("perm_view_reports", 16),
        enabled=page.flag("enabled"),
        password_never_expires=page.flag("password_never_expires"),
        must_change_password=page.flag("must_change_password"),
        username=page.text("username", 64),
    )
    return values


def changes_from(values: dict[str, Any], *, creating: bool) -> directory.UserChanges:
    if values["kind"] not in {k.value for k in RepKind}:
        raise FormProblem("choose a representative type")
    if values["perm_view_reports"] not in {v.value for v in ViewReports}:
        raise FormProblem("choose which reports the user may view")
    if not values["display_name"]:
        raise FormProblem("the display name must not be empty")
    return directory.UserChanges(
        display_name=values["display_name"],
        private_display_name=values["private_display_name"],
        display_number=values["display_number"],
        email=values["email"],
        kind=RepKind(values["kind"]),
        enabled=None if creating else values["enabled"],
        perm_view_reports=ViewReports(values["perm_view_reports"]),
        password_never_expires=values["password_never_expires"],
        must_change_password=values["must_change_password"],
        **{name: values[name] for name, _, _ in PERMISSIONS},
    )


async def form_page(page: Page, title: str, *, status: int = 200, **context: Any) -> Response:
    return await page.render(
        "admin/user.html",
        title,
        status=status,
        permissions=PERMISSIONS,
        view_reports=VIEW_REPORTS,
        kinds=[k.value for k in RepKind],
        text_fields=TEXT_FIELDS,
        **context,
    )


# --- pages ---------------------------------------------------------------------------------


async def list_users(page: Page) -> Response:
    def load(session: Session) -> list[User]:
        return list(session.scalars(select(User).order_by(User.username)))

    users = await page.read(load)
    now = utcnow()
    return await page.render(
        "admin/users.html", "Users", users=users, locked={u.id for u in users if is_locked(u, now)}
    )


async def new_user(page: Page) -> Response:
    if page.request.method == "GET":
        return await form_page(page, "New user", values=NEW_USER_DEFAULTS, creating=True)
    values = values_from(page)
    password, again = page.raw("password", 256), page.raw("password_again", 256)

    def create(session: Session) -> int:
        if password != again:
            raise FormProblem("the password and its confirmation differ")
        return directory.add_user(session, values["username"], password, changes_from(values, creating=True)).id

    try:
        user_id = await page.write(create)
    except (FormProblem, directory.DirectoryError) as problem:
        return await form_page(page, "New user", status=400, values=values, creating=True, error=problem_text(problem))
    return page.done(f"/login/users/{user_id}", f"User {values['username']} was created.")


async def edit_user(page: Page) -> Response:
    user_id = page.path_id("user_id")

    def load(session: Session) -> tuple[User, list[str]] | None:
        user = session.scalars(
            select(User).where(User.id == user_id).options(selectinload(User.memberships).selectinload(TeamMember.team))
        ).first()
        return (user, sorted(m.team.name for m in user.memberships)) if user else None

    found = await page.read(load)
    if found is None:
        return await page.not_found("user")
    user, teams = found
    context: dict[str, Any] = {"user": user, "teams": teams, "locked": is_locked(user), "creating": False}
    if page.request.method == "GET":
        return await form_page(page, f"User {user.username}", values=values_of(user), **context)
    values = {**values_from(page), "username": user.username}

    def save(session: Session) -> None:
        row = session.get(User, user_id)
        assert row is not None
        changes = changes_from(values, creating=False)
        if row.id == page.me.user_id and not (changes.perm_admin and changes.enabled):
            raise FormProblem("you cannot take away your own administrator rights or disable your own account")
        directory.update_user(session, row, changes)

    try:
        await page.write(save)
    except (FormProblem, directory.DirectoryError) as problem:
        return await form_page(
            page, f"User {user.username}", status=400, values=values, error=problem_text(problem), **context
        )
    return page.done(f"/login/users/{user_id}", f"User {user.username} was saved.")


async def set_user_password(page: Page) -> Response:
    user_id = page.path_id("user_id")
    password, again = page.raw("password", 256), page.raw("password_again", 256)
    must_change = page.flag("must_change_password")

    def change(session: Session) -> str:
        user = session.get(User, user_id)
        if user is None:
            raise FormProblem("there is no such user")
        if password != again:
            raise FormProblem("the password and its confirmation differ")
        directory.set_password(session, user, password, must_change=must_change)
        return user.username

    try:
        username = await page.write(change)
    except (FormProblem, directory.DirectoryError) as problem:
        return page.done(f"/login/users/{user_id}", f"The password was not changed: {problem}.")
    return page.done(f"/login/users/{user_id}", f"The password of {username} was changed.")


async def unlock(page: Page) -> Response:
    user_id = page.path_id("user_id")

    def run(session: Session) -> str | None:
        user = session.get(User, user_id)
        if user is None:
            return None
        directory.unlock_user(session, user)
        return user.username

    username = await page.write(run)
    if username is None:
        return await page.not_found("user")
    return page.done(f"/login/users/{user_id}", f"The waits of {username} ended: every address may sign in again.")


PAGES = [
    AdminPage("/login/users", list_users),
    AdminPage("/login/users/new", new_user, ("GET", "POST")),
    AdminPage("/login/users/{user_id:id}", edit_user, ("GET", "POST")),
    AdminPage("/login/users/{user_id:id}/password", set_user_password, ("POST",)),
    AdminPage("/login/users/{user_id:id}/unlock", unlock, ("POST",)),
]
