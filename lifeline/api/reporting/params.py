"""The Reporting API's parameters, declared once, and the report windows and limits they name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lifeline.api.errors import ApiError
from lifeline.api.params import LSID, param, parse_params
from lifeline.reports.criteria import Limit, LimitKind, Window, WindowBy

REPORT_TYPES = (
    "SupportSession",
    "SupportSessionListing",
    "SupportSessionSummary",
    "SupportSessionRecording",
    "CommandShellRecording",
    "PresentationRecording",
    "SupportCustExitSurvey",
    "SupportRepExitSurvey",
    "SupportTeam",
)

# The 1.7 guide's own query examples spell some parameters differently from its tables
# (`sid`, `ids`, `Isid`; SupportSessionListing's "date and duration"). Its examples are a
# promise, so these names are read too; the tables' names win when both are sent.
ALIASES = {"sid": "lsid", "Isid": "lsid", "ids": "lsids", "date": "start_date"}
# Examples also carry a stray space (`start_date=2011-04-01 &duration=0`).
STRIPPED = ("start_date", "end_date", "start_time", "end_time", "duration", "lsid", "lsids", "limit", "id")

MAX_LSIDS = 1000
LATEST_TIME = 253402300799  # 9999-12-31T23:59:59Z
MAX_DAYS = 3_000_000
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LSID_LIST = re.compile(r"^[0-9a-fA-F]{32}(,[0-9a-fA-F]{32})*$")
LIMIT = re.compile(r"^(all|team:all|(rep|team|members|site):\d{1,9})$")
ID_OR_ALL = re.compile(r"^(all|\d{1,9})$")
LSID_HINT = "a 32-character hexadecimal session ID"


@dataclass(frozen=True)
class ReportParams:
    generate_report: str = param(required=True, max_length=64, choices=REPORT_TYPES)
    start_date: str = param(default="", max_length=10, pattern=DATE, pattern_hint="a date as YYYY-MM-DD")
    start_time: int | None = param(minimum=0, maximum=LATEST_TIME)
    end_date: str = param(default="", max_length=10, pattern=DATE, pattern_hint="a date as YYYY-MM-DD")
    end_time: int | None = param(minimum=0, maximum=LATEST_TIME)
    duration: int | None = param(minimum=0, maximum=LATEST_TIME)
    lsid: str = param(default="", max_length=32, pattern=LSID, pattern_hint=LSID_HINT)
    lsids: str = param(
        default="", max_length=33 * MAX_LSIDS, pattern=LSID_LIST, pattern_hint="a comma-separated list of session IDs"
    )
    limit: str = param(
        default="",
        max_length=20,
        pattern=LIMIT,
        pattern_hint="all, rep:ID, team:all, team:ID, members:ID or site:ID",
    )
    report_type: str = param(default="", max_length=16)
    id: str = param(default="", max_length=12, pattern=ID_OR_ALL, pattern_hint="all or a numeric ID")
    site_id: int | None = param(minimum=1)
    team_id: int | None = param(minimum=1)
    instance: int | None = param(minimum=0)


def report_type_of(raw: Mapping[str, str]) -> str:
    """The report asked for, checked before anything else (its root holds 1.7 errors)."""
    return parse_params(_ReportOnly, raw).generate_report


@dataclass(frozen=True)
class _ReportOnly:
    generate_report: str = param(required=True, max_length=64, choices=REPORT_TYPES)


def parse_report_params(raw: Mapping[str, str]) -> ReportParams:
    values = dict(raw)
    for alias, name in ALIASES.items():
        if alias in values and not values.get(name):
            values[name] = values[alias]
    for name in STRIPPED:
        if name in values:
            values[name] = values[name].strip()
    return parse_params(ReportParams, values)


def lsid_list(params: ReportParams) -> tuple[str, ...]:
    """The sessions named by lsid or lsids, lowercased, each once."""
    if params.lsid:
        return (params.lsid.lower(),)
    lsids = tuple(dict.fromkeys(part.lower() for part in params.lsids.split(","))) if params.lsids else ()
    if len(lsids) > MAX_LSIDS:
        raise ApiError(f"At most {MAX_LSIDS} session IDs can be given in lsids.")
    return lsids


WINDOW_NEEDED = "Specify start_date, start_time, end_date or end_time, with duration."


def window(params: ReportParams, zone: ZoneInfo) -> Window | None:
    """The time window the parameters name, or None when they name none.

    start_* covers sessions that began in the window (still in progress included), end_*
    closed sessions that ended in it. Dates are days in the appliance's time zone and
    then `duration` counts days; times are UNIX seconds and `duration` counts seconds;
    duration 0 runs to now. When several are sent (some integrations send start_date and
    start_time together), start_time wins over start_date, and start_* over end_*.
    """
    if params.start_time is not None:
        return _seconds_window(WindowBy.START, params.start_time, params.duration)
    if params.start_date:
        return _days_window(WindowBy.START, params.start_date, params.duration, zone)
    if params.end_time is not None:
        return _seconds_window(WindowBy.END, params.end_time, params.duration)
    if params.end_date:
        return _days_window(WindowBy.END, params.end_date, params.duration, zone)
    return None


def required_window(params: ReportParams, zone: ZoneInfo) -> Window:
    found = window(params, zone)
    if found is None:
        raise ApiError(WINDOW_NEEDED)
    return found


def _duration(duration: int | None) -> int:
    if duration is None:
        raise ApiError("The required parameter duration is missing.")
    return duration


def _seconds_window(by: WindowBy, start: int, duration: int | None) -> Window:
    seconds = _duration(duration)
    since = datetime.fromtimestamp(start, UTC)
    return Window(by, since, _after(since, timedelta(seconds=seconds)) if seconds else None)


def _days_window(by: WindowBy, day: str, duration: int | None, zone: ZoneInfo) -> Window:
    days = _duration(duration)
    if days > MAX_DAYS:
        raise ApiError(f"The parameter duration must be at most {MAX_DAYS} days.")
    try:
        first = date.fromisoformat(day)
    except ValueError:
        raise ApiError(f"{day} is not a date.") from None
    since = datetime.combine(first, time(0), tzinfo=zone)
    if not days:
        return Window(by, since, None)
    try:
        until = datetime.combine(first + timedelta(days=days), time(0), tzinfo=zone)
    except OverflowError:
        until = None  # past the year 9999: no end
    return Window(by, since, until)


def _after(since: datetime, span: timedelta) -> datetime | None:
    try:
        return since + span
    except OverflowError:
        return None


def limit_of(params: ReportParams) -> Limit:
    if not params.limit or params.limit == "all":
        return Limit()
    if params.limit == "team:all":
        return Limit(LimitKind.ALL_TEAMS)
    kind, _, ref = params.limit.partition(":")
    return Limit(LimitKind(kind), int(ref))
