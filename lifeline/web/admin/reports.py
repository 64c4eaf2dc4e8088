"""Reports in /login: find sessions, read one session's whole story (summary, event log,
chat, files, surveys, recordings), and team summaries with a chart. Admins see every
session; other users what their `perm_view_reports` allows; recordings play for those with
`perm_view_sd_recordings` (`recordings.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.responses import Response

from lifeline.reports import browse
from lifeline.reports.browse import DayRange, Search
from lifeline.reports.criteria import Viewer
from lifeline.web.admin import recordings
from lifeline.web.admin.base import Access, AdminPage, FormProblem, Page, problem_text, report_viewer
from lifeline.web.files import download

MAX_DAYS = 366


def viewer_of(page: Page) -> Viewer:
    return report_viewer(page.me)


def window_from(page: Page, zone: ZoneInfo, default_days: int) -> DayRange:
    today = datetime.now(zone).date()
    try:
        since_text = page.request.query_params.get("since", "")[:10]
        until_text = page.request.query_params.get("until", "")[:10]
        until = date.fromisoformat(until_text) if until_text else today
        since = date.fromisoformat(since_text) if since_text else until - timedelta(days=default_days - 1)
    except ValueError:
        raise FormProblem("dates are written YYYY-MM-DD") from None
    if since > until:
        raise FormProblem("the first day comes after the last one")
    if (until - since).days >= MAX_DAYS:
        raise FormProblem(f"a report covers at most {MAX_DAYS} days")
    return DayRange(since, until, zone)


def chosen_id(page: Page, name: str) -> int | None:
    value = page.request.query_params.get(name, "")[:12]
    return int(value) if value.isdigit() else None


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


async def zone_of(page: Page) -> ZoneInfo:
    return ZoneInfo((await page.web.runtime.settings())["timezone"])


async def find_sessions(page: Page) -> Response:
    viewer = viewer_of(page)
    zone = await zone_of(page)
    query: dict[str, Any] = {key: page.request.query_params.get(key, "")[:64] for key in ("rep", "team", "site")}
    external_key = page.request.query_params.get("external_key", "")[:1024].strip()
    error = None
    rows: list[browse.SessionRow] = []
    more = False
    try:
        window = window_from(page, zone, 7)
    except FormProblem as problem:
        error, window = problem_text(problem), window_from_defaults(zone, 7)
    else:
        search = Search(window, chosen_id(page, "rep"), chosen_id(page, "team"), chosen_id(page, "site"), external_key)
        rows, more = await page.read(browse.find_sessions, search, viewer)
    choices = await page.read(browse.search_choices, viewer)
    return await page.render(
        "admin/reports.html",
        "Reports: sessions",
        status=400 if error else 200,
        error=error,
        rows=rows,
        more=more,
        window=window,
        query=query,
        external_key=external_key,
        choices=choices,
        duration=duration,
        max_rows=browse.MAX_ROWS,
    )


def window_from_defaults(zone: ZoneInfo, days: int) -> DayRange:
    today = datetime.now(zone).date()
    return DayRange(today - timedelta(days=days - 1), today, zone)


async def session_page(page: Page) -> Response:
    viewer = viewer_of(page)
    report = await page.read(browse.session_report, page.request.path_params["lsid"], viewer)
    if report is None:
        return await page.not_found("session among the reports you may view")
    return await page.render(
        "admin/report_session.html",
        f"Session {report.summary.lseq}",
        report=report,
        s=report.summary,
        duration=duration,
        recordings=recordings.listed(page, report.recordings, viewer),
        may_play=viewer.recordings,
        size_text=recordings.size_text,
    )


async def session_file(page: Page) -> Response:
    row = await page.read(browse.visible_file, page.path_id("file_id"), viewer_of(page))
    if row is None:
        return await page.not_found("file among the reports you may view")
    return download(page.web.files, row)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


CHART_WIDTH, CHART_HEIGHT, CHART_BOTTOM = 720, 160, 20


def bars(per_day: list[tuple[date, int]]) -> list[Bar]:
    """A bar per day, scaled to the busiest day (drawn as inline SVG, no script)."""
    if not per_day:
        return []
    top = max(count for _, count in per_day) or 1
    slot = CHART_WIDTH / len(per_day)
    return [
        Bar(
            day.strftime("%m-%d"),
            count,
            n * slot + slot * 0.1,
            CHART_HEIGHT - CHART_BOTTOM - (CHART_HEIGHT - CHART_BOTTOM - 10) * count / top,
            slot * 0.8,
            (CHART_HEIGHT - CHART_BOTTOM - 10) * count / top,
        )
        for n, (day, count) in enumerate(per_day)
    ]


async def teams_page(page: Page) -> Response:
    viewer = viewer_of(page)
    zone = await zone_of(page)
    error = None
    try:
        window = window_from(page, zone, 30)
    except FormProblem as problem:
        error, window = problem_text(problem), window_from_defaults(zone, 30)
    team_id = chosen_id(page, "team")

    def load(session: Session) -> tuple[list[browse.TeamSummary], list[tuple[date, int]], list[browse.TeamEvent]]:
        summaries = browse.team_summaries(session, window, viewer)
        per_day = browse.sessions_per_day(session, window, viewer, team_id)
        activity = browse.team_activity(session, team_id, window, viewer) if team_id is not None else []
        return summaries, per_day, activity

    summaries, per_day, activity = await page.read(load)
    label_every = 1 if len(per_day) <= 14 else 7  # day labels that fit under the bars
    return await page.render(
        "admin/report_teams.html",
        "Reports: teams",
        status=400 if error else 200,
        error=error,
        window=window,
        team_id=team_id,
        summaries=summaries,
        bars=bars(per_day),
        label_every=label_every,
        chart=(CHART_WIDTH, CHART_HEIGHT),
        total=sum(count for _, count in per_day),
        activity=activity,
        duration=duration,
    )


PAGES = [
    AdminPage("/login/reports", find_sessions, access=Access.REPORTS),
    AdminPage("/login/reports/teams", teams_page, access=Access.REPORTS),
    AdminPage("/login/reports/sessions/{lsid}", session_page, access=Access.REPORTS),
    AdminPage("/login/reports/files/{file_id:id}", session_file, access=Access.REPORTS),
]
