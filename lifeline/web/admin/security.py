"""Security: the XML API switches (the Test Scenario's first step), password expiry and
the waits after wrong passwords, and the accounts some address waits for right now."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from lifeline.db.base import utcnow
from lifeline.directory.models import User
from lifeline.web.admin.base import AdminPage, Page
from lifeline.web.admin.settings_form import save_settings, setting_fields, shown_values

XML_API = ("xml_api_enabled", "xml_api_allow_http")
PASSWORDS = ("password_max_age_days", "login_lockout_attempts", "login_lockout_minutes")
KEYS = XML_API + PASSWORDS


async def security_page(page: Page) -> Response:
    error = None
    if page.request.method == "POST":
        error = await save_settings(page, KEYS)
        if error is None:
            return page.done("/login/security", "The security settings were saved.")
    settings = await page.web.runtime.settings()
    values = shown_values(page, KEYS, settings) if error else settings

    def locked(session: Session) -> list[User]:
        return list(session.scalars(select(User).where(User.locked_until > utcnow()).order_by(User.username)))

    return await page.render(
        "admin/security.html",
        "Security",
        status=400 if error else 200,
        error=error,
        xml_api=setting_fields(XML_API, values),
        passwords=setting_fields(PASSWORDS, values),
        locked=await page.read(locked),
    )


PAGES = [AdminPage("/login/security", security_page, ("GET", "POST"))]
