"""Forms of appliance settings: each setting shown by its kind (checkbox, number, text,
textarea), saved together in one change, refused together with the setting's own message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lifeline.appliance.settings import SETTINGS, SettingError, set_setting
from lifeline.web.admin.base import Page

LABELS = {
    "xml_api_enabled": "Enable XML API",
    "xml_api_allow_http": "Allow HTTP access to the XML API",
    "password_max_age_days": "Passwords expire after (days)",
    "login_lockout_attempts": "Wrong passwords per account and address before each next attempt waits",
    "login_lockout_minutes": "Longest wait between attempts (minutes)",
    "command_api_namespace": "Namespace of /api/command answers",
    "command_api_ns_namespace": "Namespace of /api/command.ns answers",
    "reporting_api_namespace": "Namespace of /api/reporting answers",
    "reporting_api_ns_namespace": "Namespace of /api/reporting.ns answers",
    "api_token_lifetime": "OAuth access token lifetime (seconds)",
    "company_name": "Company name",
    "timezone": "Time zone",
    "public_https_port": "HTTPS port in the links the appliance hands out",
    "session_key_max_ttl": "Longest session key lifetime (seconds)",
    "session_starts_per_address": "Sessions one address may start in 10 minutes (0: no limit)",
    "session_key_mail_subject": "Session key invitation: subject",
    "session_key_mail_body": "Session key invitation: body",
    "customer_reconnect_seconds": "A customer who lost their connection has this long to come back (seconds)",
    "console_reconnect_seconds": "A representative's console that lost its connection has this long to come back (seconds)",
    "screen_recording": "Record shared screens",
    "screen_max_fps": "Shared screen: most pictures a second",
    "screen_max_kbits": "Shared screen: most bandwidth (kbit/s)",
    "screen_max_width": "Shared screen: widest picture (pixels)",
    "screen_max_height": "Shared screen: tallest picture (pixels)",
    "backup_schedule_enabled": "Write a backup on the schedule",
    "backup_schedule_folder": "Folder",
    "backup_schedule": "When",
    "backup_schedule_keep": "Backups to keep",
    "backup_schedule_password": "Backup password",
    "restore_upload_max_mb": "Largest backup to restore from a file (MB)",
    "jump_connect_rate": "Jump Clients: new connections taken a second",
    "jump_statistics": "Jump Clients: statistics collected",
    "jump_statistics_interval": "Jump Clients: seconds between statistics",
    "jump_upgrade_rate": "Jump Clients: upgrades offered a minute",
    "jump_offline_days": "Jump Clients: remove those not seen for (days; 0: never)",
}


@dataclass(frozen=True)
class SettingField:
    key: str
    label: str
    help: str
    widget: str
    value: Any


def setting_fields(keys: Sequence[str], values: dict[str, Any]) -> list[SettingField]:
    return [
        SettingField(key, LABELS.get(key, key), SETTINGS[key].description, SETTINGS[key].widget, values[key])
        for key in keys
    ]


def submitted(page: Page, keys: Sequence[str]) -> dict[str, str]:
    raw: dict[str, str] = {}
    for key in keys:
        if SETTINGS[key].widget == "checkbox":
            raw[key] = "true" if page.flag(key) else "false"
        elif SETTINGS[key].widget == "password":
            # Never shown back: left empty it stays as it is, unless "remove" is ticked.
            if page.flag(f"{key}_clear"):
                raw[key] = ""
            elif value := page.raw(key, 4096):
                raw[key] = value
        else:
            raw[key] = page.raw(key, 4096).replace("\r\n", "\n")
    return raw


async def save_settings(page: Page, keys: Sequence[str]) -> str | None:
    """Save the form's settings; the first refusal (nothing saved then), or None."""
    raw = submitted(page, keys)

    def save(session: Session) -> None:
        for key, value in raw.items():
            set_setting(session, key, value)

    try:
        await page.write(save)
    except SettingError as problem:
        key, _, reason = str(problem).partition(": ")
        return f"{LABELS.get(key, key)}: {reason or problem}."
    return None


def shown_values(page: Page, keys: Sequence[str], settings: dict[str, Any]) -> dict[str, Any]:
    """What the form shows again after a refusal: what was typed."""
    raw = submitted(page, keys)
    typed = {k: (v == "true" if SETTINGS[k].widget == "checkbox" else v) for k, v in raw.items()}
    return {**settings, **{k: v for k, v in typed.items() if not SETTINGS[k].secret}}
