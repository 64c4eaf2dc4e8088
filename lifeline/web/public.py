"""The public site customers visit: the session key form, the representatives on duty,
and the issue form built from the teams' issues. One per public site host name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from lifeline.directory.queries import DirectorySnapshot, SiteRecord
from lifeline.http.pages import render
from lifeline.sessions.duty import on_duty
from lifeline.web.context import Web

# /api/start_session's browser flow, handed over by app.py: the public site does not import the API.
StartFromLink = Callable[[Request, dict[str, str]], Awaitable[Response]]


def offers_help(site: SiteRecord, directory: DirectorySnapshot) -> bool:
    """Whether the site offers a way to start besides a session key, when someone is on duty."""
    has_issues = any(team.issues for team in directory.teams)
    return site.show_rep_list or site.show_reps_in_issue_menu or site.general_queue_open or has_issues


def public_site_endpoint(web: Web, start_from_link: StartFromLink) -> Callable[[Request], Awaitable[Response]]:
    async def public_site(request: Request) -> Response:
        url_key = request.query_params.get("ak")
        if url_key:  # a session key URL from an invitation
            return await start_from_link(request, {"ak": url_key})
        site = await web.site_for(request)
        directory = await web.runtime.directory()
        reps = [r for r in await web.runtime.logged_in_reps() if r.showing_on_rep_list] if site.show_rep_list else []
        # The issue form offers only what someone on duty could take (starting checks again).
        duty = await web.runtime.db.read(on_duty)
        if site.show_reps_in_issue_menu:
            choices = [(str(r.id), r.display_name) for r in reps if r.id in duty.rep_ids]
        else:
            choices = [
                (str(issue.id), issue.title)
                for team in directory.teams
                if team.id in duty.team_ids
                for issue in team.issues
            ]
        general_open = site.general_queue_open and duty.general
        context = {
            **(await web.common()),
            "site": site,
            "reps": reps,
            "choices": choices,
            "general_open": general_open,
            "nobody_on_duty": offers_help(site, directory) and not (choices or general_open or reps),
        }
        return render(request, "public_site.html", context)

    return public_site
