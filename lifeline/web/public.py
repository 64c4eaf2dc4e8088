"""The public site customers visit: the session key form, the representatives on duty,
and the issue form built from the teams' issues. One per public site host name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from lifeline.presence.queries import on_duty
from lifeline.web.context import Web
from lifeline.web.pages import render
from lifeline.web.start import start_from


def public_site_endpoint(web: Web) -> Callable[[Request], Awaitable[Response]]:
    async def public_site(request: Request) -> Response:
        url_key = request.query_params.get("ak")
        if url_key:  # a session key URL from an invitation
            return await start_from(web, request, {"ak": url_key})
        site = await web.site_for(request)
        directory = await web.runtime.directory()
        reps = [r for r in await web.runtime.logged_in_reps() if r.showing_on_rep_list] if site.show_rep_list else []
        # The issue form offers only what someone on duty could take (starting checks again).
        duty = await web.runtime.db.read(on_duty)
        if site.show_reps_in_issue_menu:
            offered = [(str(r.id), r.display_name) for r in reps]
            choices = [(rep_id, name) for rep_id, name in offered if int(rep_id) in duty.rep_ids]
        else:
            offered = [(str(issue.id), issue.title) for team in directory.teams for issue in team.issues]
            choices = [
                (str(issue.id), issue.title)
                for team in directory.teams
                if team.id in duty.team_ids
                for issue in team.issues
            ]
        context = {
            **(await web.common()),
            "site": site,
            "reps": reps,
            "choices": choices,
            "general_open": site.general_queue_open and duty.general,
            "nobody_on_duty": bool(offered or site.general_queue_open) and not (choices or duty.general or reps),
        }
        return render(request, "public_site.html", context)

    return public_site
