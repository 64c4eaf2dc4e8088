"""/login: the administrative interface (and each user's own account and reports).
One module per area; `base` holds what they share."""

from __future__ import annotations

from starlette.routing import Route

from lifeline.web.admin import (
    account,
    api_config,
    appliance,
    backup,
    jump_clients,
    jump_groups,
    recordings,
    reports,
    security,
    sites,
    status,
    surveys,
    teams,
    users,
)
from lifeline.web.admin.base import AdminPage, routes_of
from lifeline.web.context import Web

PAGES: list[AdminPage] = [
    *account.PAGES,
    *status.PAGES,
    *users.PAGES,
    *teams.PAGES,
    *jump_groups.PAGES,
    *jump_clients.PAGES,
    *sites.PAGES,
    *surveys.PAGES,
    *security.PAGES,
    *api_config.PAGES,
    *appliance.PAGES,
    *backup.PAGES,
    *reports.PAGES,
    *recordings.PAGES,
]


def admin_routes(web: Web) -> list[Route]:
    return [*account.sign_in_routes(web), *routes_of(web, PAGES)]
