"""Appliance settings that are neither security nor API: the company name customers see,
the time zone of every time shown, the port in links, session key invitations, and how long
dropped customers and consoles have to come back, and the caps and recording of shared
screens."""

from __future__ import annotations

from starlette.responses import Response

from lifeline.web.admin.base import AdminPage, Page
from lifeline.web.admin.settings_form import save_settings, setting_fields, shown_values

KEYS = (
    "company_name",
    "timezone",
    "public_https_port",
    "session_key_max_ttl",
    "session_starts_per_address",
    "session_key_mail_subject",
    "session_key_mail_body",
    "customer_reconnect_seconds",
    "console_reconnect_seconds",
    "screen_recording",
    "screen_max_fps",
    "screen_max_kbits",
    "screen_max_width",
    "screen_max_height",
    "jump_connect_rate",
    "jump_statistics",
    "jump_statistics_interval",
    "jump_upgrade_rate",
    "jump_offline_days",
)


async def appliance_page(page: Page) -> Response:
    error = None
    if page.request.method == "POST":
        error = await save_settings(page, KEYS)
        if error is None:
            return page.done("/login/appliance", "The appliance settings were saved.")
    settings = await page.web.runtime.settings()
    values = shown_values(page, KEYS, settings) if error else settings
    return await page.render(
        "admin/appliance.html",
        "Appliance",
        status=400 if error else 200,
        error=error,
        fields=setting_fields(KEYS, values),
    )


PAGES = [AdminPage("/login/appliance", appliance_page, ("GET", "POST"))]
