"""Status: what this appliance is (version, appliance id, failover role, its last backup)
and who is connected to it right now (representatives and clients)."""

from __future__ import annotations

from collections import Counter

from starlette.responses import Response

from lifeline import __version__
from lifeline.appliance.settings import APPLIANCE_ID
from lifeline.backup.queries import last_backup
from lifeline.presence.models import ClientKind
from lifeline.presence.queries import connected_clients
from lifeline.web.admin.backup import said
from lifeline.web.admin.base import AdminPage, Page

CLIENT_KINDS = {
    ClientKind.REPRESENTATIVE.value: "Representative consoles",
    ClientKind.SUPPORT_CUSTOMER.value: "Customers",
    ClientKind.PRESENTATION_ATTENDEE.value: "Presentation attendees",
    ClientKind.PUSH_AGENT.value: "Push agents",
    ClientKind.PINNED_CLIENT.value: "Jump Clients",
}


async def status_page(page: Page) -> Response:
    settings = await page.web.runtime.settings()
    directory = await page.web.runtime.directory()
    reps = await page.web.runtime.logged_in_reps()
    clients = await page.read(connected_clients)
    counts = Counter(client.kind for client in clients)
    last = await page.read(last_backup)
    return await page.render(
        "admin/status.html",
        "Status",
        version=__version__,
        appliance_id=settings[APPLIANCE_ID],
        hostname=directory.default_site.primary_hostname,
        node=page.web.runtime.hostname,
        failover=page.web.runtime.failover.state(),
        xml_api_enabled=settings["xml_api_enabled"],
        last_backup=last,
        last_backup_said=said(last) if last else "",
        backup_scheduled=settings["backup_schedule_enabled"],
        reps=reps,
        client_counts=[(label, counts.get(kind, 0)) for kind, label in CLIENT_KINDS.items()],
    )


PAGES = [AdminPage("/login/status", status_page)]
