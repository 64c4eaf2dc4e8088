"""Jump Groups: shared lists of Jump Clients, and who (users, teams) sees and jumps to them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from lifeline.directory.models import Team, User
from lifeline.jump import actions as jump
from lifeline.jump.models import JumpClient, JumpGroup, JumpGroupMember
from lifeline.web.admin.base import AdminPage, FormProblem, Page, problem_text

MAX_MEMBERS = 5000  # checkboxes a form may tick at once


@dataclass(frozen=True)
class GroupRow:
    group: JumpGroup
    members: int
    clients: int


def _group(session: Session, group_id: int) -> JumpGroup:
    group = session.get(JumpGroup, group_id)
    if group is None:
        raise FormProblem("there is no such Jump Group")
    return group


async def list_groups(page: Page, *, status: int = 200, error: str | None = None) -> Response:
    def load(session: Session) -> list[GroupRow]:
        members = dict(
            session.execute(
                select(JumpGroupMember.jump_group_id, func.count()).group_by(JumpGroupMember.jump_group_id)
            ).all()
        )
        clients = dict(
            session.execute(
                select(JumpClient.jump_group_id, func.count())
                .where(JumpClient.revoked_at.is_(None), JumpClient.jump_group_id.is_not(None))
                .group_by(JumpClient.jump_group_id)
            ).all()
        )
        groups = session.scalars(select(JumpGroup).order_by(JumpGroup.name))
        return [GroupRow(g, members.get(g.id, 0), clients.get(g.id, 0)) for g in groups]

    rows = await page.read(load)
    values = {"name": page.text("name", 255), "comments": page.text("comments", 1024)}
    return await page.render(
        "admin/jump_groups.html", "Jump Groups", status=status, rows=rows, values=values, error=error
    )


async def groups_page(page: Page) -> Response:
    if page.request.method == "GET":
        return await list_groups(page)
    name, comments = page.text("name", 255), page.text("comments", 1024)
    try:
        group_id = await page.write(lambda session: jump.add_group(session, name, comments).id)
    except jump.JumpError as problem:
        return await list_groups(page, status=400, error=problem_text(problem))
    return page.done(f"/login/jump-groups/{group_id}", f"Jump Group {name} was created; now choose its members.")


async def show_group(page: Page, *, status: int = 200, error: str | None = None) -> Response:
    group_id = page.path_id("jump_group_id")

    def load(session: Session) -> tuple[JumpGroup, list[User], list[Team], set[int], set[int]] | None:
        group = session.get(JumpGroup, group_id)
        if group is None:
            return None
        rows = session.execute(
            select(JumpGroupMember.user_id, JumpGroupMember.team_id).where(JumpGroupMember.jump_group_id == group_id)
        ).all()
        users = list(session.scalars(select(User).order_by(User.username)))
        teams = list(session.scalars(select(Team).order_by(Team.name)))
        return group, users, teams, {u for u, _ in rows if u}, {t for _, t in rows if t}

    found = await page.read(load)
    if found is None:
        return await page.not_found("Jump Group")
    group, users, teams, user_ids, team_ids = found
    return await page.render(
        "admin/jump_group.html",
        f"Jump Group {group.name}",
        status=status,
        group=group,
        users=users,
        teams=teams,
        user_ids=user_ids,
        team_ids=team_ids,
        error=error,
    )


def _chosen(page: Page, name: str) -> list[int]:
    values = page.form.getlist(name)
    if len(values) > MAX_MEMBERS:
        raise FormProblem(f"choose at most {MAX_MEMBERS} members at once")
    return [int(v) for v in values if isinstance(v, str) and v.isdigit() and len(v) <= 12]


async def group_page(page: Page) -> Response:
    """Save the name, comments and members (users and teams) in one form."""
    if page.request.method == "GET":
        return await show_group(page)
    group_id = page.path_id("jump_group_id")
    name, comments = page.text("name", 255), page.text("comments", 1024)

    def save(session: Session) -> str:
        group = _group(session, group_id)
        user_ids, team_ids = _chosen(page, "user_id"), _chosen(page, "team_id")
        if not name:
            raise FormProblem("a Jump Group's name must not be empty")
        if len(name) > 255 or len(comments) > 1024:
            raise FormProblem("the name is at most 255 characters, the comments at most 1024")
        other = jump.find_group(session, name)
        if other is not None and other.id != group.id:
            raise FormProblem(f"a Jump Group named {name!r} already exists")
        group.name, group.comments = name, comments
        usernames = list(session.scalars(select(User.username).where(User.id.in_(user_ids))))
        team_names = list(session.scalars(select(Team.name).where(Team.id.in_(team_ids))))
        jump.set_members(session, group.id, usernames, team_names)
        return f"Jump Group {name} was saved."

    try:
        message = await page.write(save)
    except (FormProblem, jump.JumpError) as problem:
        return await show_group(page, status=400, error=problem_text(problem))
    return page.done(f"/login/jump-groups/{group_id}", message)


async def remove_group(page: Page) -> Response:
    group_id = page.path_id("jump_group_id")

    def remove(session: Session) -> str:
        group = _group(session, group_id)
        name = group.name
        jump.remove_group(session, group_id)
        return f"Jump Group {name} was deleted, and its Jump Clients removed."

    try:
        message = await page.write(remove)
    except (FormProblem, jump.JumpError) as problem:
        return await show_group(page, status=400, error=problem_text(problem))
    return page.done("/login/jump-groups", message)


PAGES = [
    AdminPage("/login/jump-groups", groups_page, ("GET", "POST")),
    AdminPage("/login/jump-groups/{jump_group_id:id}", group_page, ("GET", "POST")),
    AdminPage("/login/jump-groups/{jump_group_id:id}/remove", remove_group, ("POST",)),
]
