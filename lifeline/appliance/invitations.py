"""The session key invitation: the key URL and the mail a representative sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Invitation:
    key_url: str
    mail_subject: str
    mail_body: str


def _fill(template: str, fields: dict[str, str]) -> str:
    for name, value in fields.items():
        template = template.replace("{" + name + "}", value)
    return template


def invitation(
    settings: dict[str, Any], site_url: str, short_key: str, url_key: str, expires_at: datetime
) -> Invitation:
    """`site_url` is the public site's base URL (https://host[:port])."""
    key_url = f"{site_url}/?ak={url_key}"
    zone = ZoneInfo(settings["timezone"])
    fields = {
        "company": settings["company_name"],
        "key": short_key,
        "url": key_url,
        "site": site_url + "/",
        "expires": expires_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
    }
    return Invitation(
        key_url,
        _fill(settings["session_key_mail_subject"], fields),
        _fill(settings["session_key_mail_body"], fields),
    )
