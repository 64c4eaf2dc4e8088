"""Appliance settings that are neither security nor API: the company name customers see,
the time zone of every time shown, the port in links, session key invitations, and how long
dropped customers and consoles have to come back, the caps and recording of shared
screens, and what Jump Clients send, how fast they reconnect and upgrade, and when offline
ones are removed."""

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
)
# Jump Clients: a form of its own on the same page.
JUMP_KEYS = (
    "jump_statistics",
    "jump_statistics_interval",
    "jump_connect_rate",
    "jump_offline_days",
    "jump_upgrade_rate",
)


async def show(page: Page, error: str | None = None, keys: tuple[str, ...] = ()) -> Response:
    settings = await page.web.runtime.settings()
    values = shown_values(page, keys, settings) if error else settings
    return await page.render(
        "admin/appliance.html",
        "Appliance",
        status=400 if error else 200,
        error=error,
        fields=setting_fields(KEYS, values),
        jump_fields=setting_fields(JUMP_KEYS, values),
    )


async def appliance_page(page: Page) -> Response:
    if page.request.method == "POST":
        error = await save_settings(page, KEYS)
        if error is None:
            return page.done("/login/appliance", "The appliance settings were saved.")
        return await show(page, error, KEYS)
    return await show(page)


async def jump_settings(page: Page) -> Response:
    error = await save_settings(page, JUMP_KEYS)
    if error is None:
        return page.done("/login/appliance", "The Jump Client settings were saved.")
    return await show(page, error, JUMP_KEYS)


PAGES = [
    AdminPage("/login/appliance", appliance_page, ("GET", "POST")),
    AdminPage("/login/appliance/jump", jump_settings, ("POST",)),
]
