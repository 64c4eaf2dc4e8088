"""Appliance settings an admin changes at run time, declared once with their types and defaults.

Values live in the `settings` table as text; `SETTINGS` says how to read and check them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lifeline_protocol import screen
from lifeline_protocol.jump import STATISTICS
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.appliance.models import Setting
from lifeline.appliance.schedule import ScheduleError, check_folder, parse_schedule
from lifeline.appliance.secrets import decrypt, encrypt
from lifeline.appliance.stamps import bump

NS_17 = "http://www.networkstreaming.com/namespaces/API"
NS_COMMAND_LATER = "https://www.bomgar.com/namespaces/API/command"
NS_REPORTING_LATER = "https://www.bomgar.com/namespaces/API/reporting"


class SettingError(ValueError):
    pass


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingError(f"expected true or false, not {raw!r}")


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise SettingError(f"expected an integer, not {raw!r}") from None
        if not low <= value <= high:
            raise SettingError(f"expected an integer from {low} to {high}, not {value}")
        return value

    return parse


def _namespace(raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("http://", "https://", "urn:")) or any(c.isspace() for c in value):
        raise SettingError(f"a namespace must be an absolute URI without spaces, not {raw!r}")
    if len(value) > 255:
        raise SettingError("a namespace must be at most 255 characters")
    return value


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(f"unknown time zone {raw!r} (use an IANA name such as Europe/Paris)") from None
    return raw.strip()


def _text(limit: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) > limit:
            raise SettingError(f"at most {limit} characters")
        return raw

    return parse


def _statistics(raw: str) -> str:
    """A comma list of what Jump Clients send (lifeline_protocol.jump.STATISTICS); empty: nothing."""
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in STATISTICS]
    if unknown:
        raise SettingError(f"unknown statistics {', '.join(unknown)}; known: {', '.join(STATISTICS)}")
    return ",".join(dict.fromkeys(names))


def _absolute_folder(raw: str) -> str:
    value = raw.strip()
    if value and not value.startswith("/"):
        raise SettingError(f"the folder must be an absolute path (starting with /), not {value!r}")
    if len(value) > 1024:
        raise SettingError("at most 1024 characters")
    return value


def _usable_folder(session: Session, value: Any) -> None:
    try:
        check_folder(str(value))
    except ScheduleError as problem:
        raise SettingError(str(problem)) from None


def _schedule(raw: str) -> Any:
    try:
        return parse_schedule(raw)
    except ScheduleError as problem:
        raise SettingError(str(problem)) from None


def _needs_folder(session: Session, value: Any) -> None:
    if value:
        session.flush()
        folder = session.get(Setting, "backup_schedule_folder")
        if folder is None or not folder.value:
            raise SettingError("set the folder (backup_schedule_folder) before turning the scheduled backup on")


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: str
    parse: Callable[[str], Any]
    description: str
    widget: str = "text"  # how a form shows it: text, checkbox, number, textarea or password
    # Checked only when the setting is changed, with the other changes of the same save
    # (the folder must exist when it is set, not every time settings are read).
    check: Callable[[Session, Any], None] | None = None
    # Stored encrypted (see secrets.py); never shown, listed or logged. Read it with read_secret.
    secret: bool = False


SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in [
        SettingSpec("xml_api_enabled", "true", _bool, "Answer the XML APIs (command, reporting, backup).", "checkbox"),
        SettingSpec(
            "xml_api_allow_http",
            "false",
            _bool,
            "Also answer the XML APIs over plain HTTP (not recommended).",
            "checkbox",
        ),
        SettingSpec(
            "command_api_namespace",
            NS_COMMAND_LATER,
            _namespace,
            "Default namespace of /api/command answers.",
        ),
        SettingSpec(
            "command_api_ns_namespace",
            NS_17,
            _namespace,
            "Default namespace of /api/command.ns answers.",
        ),
        SettingSpec(
            "reporting_api_namespace",
            NS_REPORTING_LATER,
            _namespace,
            "Default namespace of /api/reporting answers.",
        ),
        SettingSpec(
            "reporting_api_ns_namespace",
            NS_17,
            _namespace,
            "Default namespace of /api/reporting.ns answers.",
        ),
        SettingSpec(
            "session_key_max_ttl",
            "86400",
            _int_between(60, 31 * 86400),
            "Maximum session key lifetime in seconds; also the lifetime of a key generated without ttl.",
            "number",
        ),
        SettingSpec(
            "session_starts_per_address",
            "60",
            _int_between(0, 100_000),
            "Support sessions one network address may start in 10 minutes (customers behind one office's "
            "router share an address); 0 means no limit.",
            "number",
        ),
        SettingSpec("timezone", "UTC", _timezone, "Time zone of the times the appliance reports."),
        SettingSpec("company_name", "Lifeline", _text(100), "Company name shown to customers and in get_api_info."),
        SettingSpec(
            "session_key_mail_subject",
            "Remote Support Invitation",
            _text(255),
            "Subject of the session key invitation; {company}, {key}, {url}, {site} and {expires} are filled in.",
        ),
        SettingSpec(
            "session_key_mail_body",
            "Click on the link below and follow the directions.\n\n{url}\n\n"
            "Or go to {site} and enter the session key {key}.\n"
            "The key expires at {expires}.\n\n"
            "{company} support will be able to see your screen only once you allow it,\n"
            "and you can end the session at any time.",
            _text(4096),
            "Body of the session key invitation; {company}, {key}, {url}, {site} and {expires} are filled in.",
            "textarea",
        ),
        SettingSpec(
            "public_https_port",
            "0",
            _int_between(0, 65535),
            "HTTPS port in the URLs the appliance hands out (key URLs, links); 0 means the port it listens on.",
            "number",
        ),
        SettingSpec(
            "customer_reconnect_seconds",
            "45",
            _int_between(1, 3600),
            "Seconds a customer whose client closed (a reload, a network blip, a closed tab) has to come "
            "back before they are gone: a session nobody took ends as abandoned, a session with a "
            "representative ends at the moment the customer left.",
            "number",
        ),
        SettingSpec(
            "console_reconnect_seconds",
            "120",
            _int_between(1, 3600),
            "Seconds a representative's console whose connection closed has to come back before the "
            "representative is logged out (their sessions go back to the queues).",
            "number",
        ),
        SettingSpec(
            "screen_recording",
            "true",
            _bool,
            "Record every shared screen of a support session (SupportSessionRecording); off: shared screens "
            "are seen live only.",
            "checkbox",
        ),
        SettingSpec(
            "screen_max_fps",
            str(screen.DEFAULT_MAX_FPS),
            _int_between(1, 60),
            "Pictures a second a shared screen may send, at most.",
            "number",
        ),
        SettingSpec(
            "screen_max_kbits",
            str(screen.DEFAULT_MAX_KBITS),
            _int_between(50, 100_000),
            "Bandwidth a shared screen may use, in kbit/s; frames past twice this in a second are dropped.",
            "number",
        ),
        SettingSpec(
            "screen_max_width",
            str(screen.DEFAULT_MAX_WIDTH),
            _int_between(1, screen.MAX_SCREEN_DIMENSION),
            "Widest shared picture, in pixels; a larger screen is scaled down to fit.",
            "number",
        ),
        SettingSpec(
            "screen_max_height",
            str(screen.DEFAULT_MAX_HEIGHT),
            _int_between(1, screen.MAX_SCREEN_DIMENSION),
            "Tallest shared picture, in pixels; a larger screen is scaled down to fit.",
            "number",
        ),
        SettingSpec(
            "api_token_lifetime",
            "3600",
            _int_between(60, 86400),
            "Lifetime in seconds of OAuth access tokens.",
            "number",
        ),
        SettingSpec(
            "password_max_age_days",
            "0",
            _int_between(0, 3650),
            "Days a password lasts before its owner must choose a new one; 0 means passwords do not expire. "
            "Users marked 'password never expires' are exempt.",
            "number",
        ),
        SettingSpec(
            "login_lockout_attempts",
            "10",
            _int_between(0, 1000),
            "Wrong passwords for one account from one client address (sign-in pages and the APIs alike) before "
            "each further one makes the next attempt from there wait twice as long; 0 means never wait.",
            "number",
        ),
        SettingSpec(
            "login_lockout_minutes",
            "15",
            _int_between(1, 10080),
            "The longest wait, in minutes, between attempts after wrong passwords (an admin can end waits sooner).",
            "number",
        ),
        SettingSpec(
            "backup_schedule_folder",
            "",
            _absolute_folder,
            "Folder the scheduled backup writes to: an absolute path the appliance may write to "
            "(with several appliance processes, a folder they all reach).",
            check=_usable_folder,
        ),
        SettingSpec(
            "backup_schedule_enabled",
            "false",
            _bool,
            "Write a backup into the folder on the schedule.",
            "checkbox",
            check=_needs_folder,
        ),
        SettingSpec(
            "backup_schedule",
            "daily 02:00",
            _schedule,
            "When: 'daily HH:MM' (the appliance's time zone) or 'every N hours' (on the hour, N from 1 to 24).",
        ),
        SettingSpec(
            "backup_schedule_keep",
            "7",
            _int_between(1, 1000),
            "How many scheduled backups to keep in the folder; older ones are removed.",
            "number",
        ),
        SettingSpec(
            "backup_schedule_password",
            "",
            _text(1024),
            "Encrypt scheduled backups with this password; empty: not encrypted.",
            "password",
            secret=True,
        ),
        SettingSpec(
            "restore_upload_max_mb",
            "2048",
            _int_between(1, 1024 * 1024),
            "Largest backup file, in MB, that /login accepts to restore.",
            "number",
        ),
        SettingSpec(
            "jump_connect_rate",
            "200",
            _int_between(1, 100_000),
            "New Jump Client connections each appliance process takes in a second; the others are told "
            "to try again later (after an outage, clients come back spread out).",
            "number",
        ),
        SettingSpec(
            "jump_statistics",
            "console_user,cpu,disk,uptime",
            _statistics,
            "What every Jump Client sends for the Jump list, comma-separated: "
            + ", ".join(STATISTICS)
            + " (empty: nothing).",
        ),
        SettingSpec(
            "jump_statistics_interval",
            "60",
            _int_between(5, 86400),
            "Seconds between two statistics of a Jump Client (at least 5).",
            "number",
        ),
        SettingSpec(
            "jump_upgrade_rate",
            "5",
            _int_between(0, 10_000),
            "Jump Clients older than the appliance told to upgrade themselves, per minute and appliance "
            "process (0: none).",
            "number",
        ),
        SettingSpec(
            "jump_offline_days",
            "0",
            _int_between(0, 3650),
            "Jump Clients not seen for this many days are removed; 0 means never.",
            "number",
        ),
    ]
}

# Values not meant to be set by hand but kept with the settings.
APPLIANCE_ID = "appliance_id"
APPLIANCE_SECRET = "appliance_secret"


def parse_setting(key: str, raw: str) -> Any:
    spec = SETTINGS.get(key)
    if spec is None:
        raise SettingError(f"unknown setting {key!r}; known: {', '.join(sorted(SETTINGS))}")
    try:
        return spec.parse(raw)
    except SettingError as exc:
        raise SettingError(f"{key}: {exc}") from None


def set_setting(session: Session, key: str, raw: str) -> Any:
    value = parsed = parse_setting(key, raw)
    spec = SETTINGS[key]
    stored = raw.strip() if isinstance(value, bool | int) else str(value)
    if isinstance(value, bool):
        stored = "true" if value else "false"
    if spec.secret:
        stored = encrypt(value, _appliance_secret(session), key) if value else ""
        value = bool(value)
    row = session.get(Setting, key)
    if spec.check is not None and stored != (row.value if row is not None else spec.default):
        try:
            spec.check(session, parsed)
        except SettingError as exc:
            raise SettingError(f"{key}: {exc}") from None
    if row is None:
        session.add(Setting(key=key, value=stored))
    else:
        row.value = stored
    bump(session, "settings")
    return value


def load_settings(session: Session) -> dict[str, Any]:
    """Every declared setting, typed, with defaults for those never set."""
    stored = dict(session.execute(select(Setting.key, Setting.value)).all())
    values: dict[str, Any] = {}
    for key, spec in SETTINGS.items():
        raw = stored.get(key, spec.default)
        if spec.secret:
            values[key] = bool(raw)  # whether one is set; never the secret itself
            continue
        try:
            values[key] = spec.parse(raw)
        except SettingError:
            values[key] = spec.parse(spec.default)
    values[APPLIANCE_ID] = stored.get(APPLIANCE_ID, "")
    values[APPLIANCE_SECRET] = stored.get(APPLIANCE_SECRET, "")
    return values


def _appliance_secret(session: Session) -> str:
    row = session.get(Setting, APPLIANCE_SECRET)
    if row is None or not row.value:
        raise SettingError("the appliance has no secret yet; start it once (lifeline init) first")
    return row.value


def read_secret(session: Session, key: str) -> str | None:
    """An encrypted setting in clear, or None when it is not set. UnreadableSecret when it cannot be opened."""
    assert SETTINGS[key].secret, key
    row = session.get(Setting, key)
    if row is None or not row.value:
        return None
    return decrypt(row.value, _appliance_secret(session), key)
