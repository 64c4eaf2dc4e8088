"""Teams and Embassies: their members, their issues (title and code name, which
`queue_id=issue:CODE_NAME` names), and the Embassy flag."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.responses import Response

from lifeline.directory import actions as directory
from lifeline.directory.models import Issue, Team, TeamMember, User
from lifeline.web.admin.base import AdminPage, FormProblem, Page, problem_text


def _team(session: Session, team_id: int) -> Team:
    team = session.scalars(
        select(Team)
        .where(Team.id == team_id)
        .options(selectinload(Team.issues), selectinload(Team.members).selectinload(TeamMember.user))
    ).first()
    if team is None:
        raise FormProblem("there is no such team")
    return team


async def list_teams(page: Page, *, status: int = 200, error: str | None = None) -> Response:
    def load(session: Session) -> list[Team]:
        return list(
            session.scalars(
                select(Team).options(selectinload(Team.issues), selectinload(Team.members)).order_by(Team.name)
            )
        )

    teams = await page.read(load)
    values = {"name": page.text("name", 100), "code_name": page.text("code_name", 64), "embassy": page.flag("embassy")}
    return await page.render(
        "admin/teams.html", "Teams and Embassies", status=status, teams=teams, values=values, error=error
    )


async def teams_page(page: Page) -> Response:
    if page.request.method == "GET":
        return await list_teams(page)
    name, code_name, embassy = page.text("name", 100), page.text("code_name", 64), page.flag("embassy")
    try:
        team_id = await page.write(
            lambda session: directory.add_team(session, name, embassy=embassy, code_name=code_name or None).id
        )
    except directory.DirectoryError as problem:
        return await list_teams(page, status=400, error=problem_text(problem))
    return page.done(f"/login/teams/{team_id}", f"{'Embassy' if embassy else 'Team'} {name} was created.")


async def show_team(page: Page, *, status: int = 200, error: str | None = None) -> Response:
    team_id = page.path_id("team_id")

    def load(session: Session) -> tuple[Team, list[User]] | None:
        try:
            team = _team(session, team_id)
        except FormProblem:
            return None
        users = list(session.scalars(select(User).where(User.enabled.is_(True)).order_by(User.username)))
        return team, users

    found = await page.read(load)
    if found is None:
        return await page.not_found("team")
    team, users = found
    member_ids = {m.user_id for m in team.members}
    return await page.render(
        "admin/team.html",
        f"{'Embassy' if team.is_embassy else 'Team'} {team.name}",
        status=status,
        team=team,
        members=sorted((m.user for m in team.members), key=lambda u: u.username),
        candidates=[u for u in users if u.id not in member_ids],
        error=error,
    )


async def change_team(page: Page, change: Callable[[Session, Team], str]) -> Response:
    """Run one change to the team; on a refusal, the team's page again with the reason."""
    team_id = page.path_id("team_id")

    def run(session: Session) -> str:
        return change(session, _team(session, team_id))

    try:
        message = await page.write(run)
    except (FormProblem, directory.DirectoryError) as problem:
        return await show_team(page, status=400, error=problem_text(problem))
    return page.done(f"/login/teams/{team_id}", message)


async def team_page(page: Page) -> Response:
    if page.request.method == "GET":
        return await show_team(page)
    name, embassy = page.text("name", 100), page.flag("embassy")

    def save(session: Session, team: Team) -> str:
        directory.update_team(session, team, name=name, embassy=embassy)
        return f"{team.name} was saved."

    return await change_team(page, save)


async def add_member(page: Page) -> Response:
    chosen = page.text("user_id", 12)

    def add(session: Session, team: Team) -> str:
        user = session.get(User, int(chosen)) if chosen.isdigit() else None
        if user is None:
            raise FormProblem("choose a user to add")
        directory.add_team_member(session, team, user)
        return f"{user.display_name} joined {team.name}."

    return await change_team(page, add)


async def remove_member(page: Page) -> Response:
    user_id = page.path_id("user_id")

    def remove(session: Session, team: Team) -> str:
        user = session.get(User, user_id)
        if user is None:
            raise FormProblem("there is no such user")
        directory.remove_team_member(session, team, user)
        return f"{user.display_name} left {team.name}."

    return await change_team(page, remove)


def _issue(team: Team, issue_id: int) -> Issue:
    issue = next((i for i in team.issues if i.id == issue_id), None)
    if issue is None:
        raise FormProblem("there is no such issue in this team")
    return issue


async def add_issue(page: Page) -> Response:
    title, code_name = page.text("title", 255), page.text("code_name", 64)

    def add(session: Session, team: Team) -> str:
        issue = directory.add_issue(session, team, title, code_name or None)
        return f"Issue {issue.title} ({issue.code_name}) was added."

    return await change_team(page, add)


async def edit_issue(page: Page) -> Response:
    issue_id = page.path_id("issue_id")
    title, code_name = page.text("title", 255), page.text("code_name", 64)

    def edit(session: Session, team: Team) -> str:
        issue = directory.update_issue(session, _issue(team, issue_id), title=title, code_name=code_name)
        return f"Issue {issue.title} was saved."

    return await change_team(page, edit)


async def remove_issue(page: Page) -> Response:
    issue_id = page.path_id("issue_id")

    def remove(session: Session, team: Team) -> str:
        issue = _issue(team, issue_id)
        directory.remove_issue(session, issue)
        return f"Issue {issue.title} was removed."

    return await change_team(page, remove)


PAGES = [
    AdminPage("/login/teams", teams_page, ("GET", "POST")),
    AdminPage("/login/teams/{team_id:id}", team_page, ("GET", "POST")),
    AdminPage("/login/teams/{team_id:id}/members", add_member, ("POST",)),
    AdminPage("/login/teams/{team_id:id}/members/{user_id:id}/remove", remove_member, ("POST",)),
    AdminPage("/login/teams/{team_id:id}/issues", add_issue, ("POST",)),
    AdminPage("/login/teams/{team_id:id}/issues/{issue_id:id}", edit_issue, ("POST",)),
    AdminPage("/login/teams/{team_id:id}/issues/{issue_id:id}/remove", remove_issue, ("POST",)),
]
