"""Every report of the Reporting API: who may ask for it, which parameters it takes, and
what it answers. Reports are read in a thread of their own and streamed (see
`lifeline.db.stream`); recordings are files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.etree import _Element as Element
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.api.endpoint import ApiContext, Era, Reply
from lifeline.api.errors import ApiError
from lifeline.api.reporting import render, session_xml
from lifeline.api.reporting.document import Piece, write_document
from lifeline.api.reporting.links import DownloadLinks
from lifeline.api.reporting.params import (
    ReportParams,
    limit_of,
    lsid_list,
    parse_report_params,
    report_type_of,
    required_window,
    window,
)
from lifeline.api.reporting.responses import StreamedXml, recording_file
from lifeline.api.xml import Builder, document
from lifeline.appliance.settings import APPLIANCE_SECRET
from lifeline.db.base import utcnow
from lifeline.db.stream import ChunkWriter
from lifeline.directory.models import ViewReports
from lifeline.directory.queries import DirectorySnapshot, Principal
from lifeline.recordings.actions import RecordingKind, download_name
from lifeline.recordings.queries import StoredRecording, find_recording
from lifeline.recordings.store import RecordingStore
from lifeline.reports.criteria import Selection, Viewer, Window
from lifeline.reports.sessions import Part, session_chunks
from lifeline.reports.summary import SummaryBy, summarize
from lifeline.reports.surveys import questions_now, submitted_surveys
from lifeline.reports.teams import TeamActivity, team_activities
from lifeline.sessions.models import SupportSession
from lifeline.text import xml_safe

NO_REPORTING_USER = "This user does not have permission to use the reporting API"
NO_REPORTS = "This user does not have permission to view reports"
NO_REPORTING_ACCOUNT = "This API account does not have permission to use the reporting API"
NO_RECORDINGS = "This user does not have permission to view session recordings"
NO_TEAM_REPORTS = "Team activity requires permission to view your teams' sessions or all sessions"
SESSIONS_NEEDED = "Specify start_date, start_time, end_date or end_time with duration, or lsid or lsids."
NO_SUCH_RECORDING = "There is no such recording for this session."
EXPIRED = "This recording has expired and can no longer be viewed or downloaded."
UNFINISHED = "This recording is still in progress."

Handler = Callable[[ApiContext, ReportParams, Viewer], Awaitable[Reply]]


@dataclass(frozen=True)
class Report:
    name: str
    root: str | None  # the list root that holds an <error> in 1.7 answers; None for files
    handler: Handler
    recordings: bool  # needs permission to view recordings


REPORTS: dict[str, Report] = {}


def report(name: str, root: str | None, *, recordings: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        REPORTS[name] = Report(name, root, handler, recordings)
        return handler

    return register


def viewer_of(principal: Principal) -> Viewer:
    if principal.kind == "api_account":
        if not principal.reporting:
            raise ApiError(NO_REPORTING_ACCOUNT)
    else:
        if not principal.reporting:
            raise ApiError(NO_REPORTING_USER)
        if principal.view_reports is ViewReports.NONE:
            raise ApiError(NO_REPORTS)
    return Viewer(principal.view_reports, principal.user_id, principal.view_recordings)


async def dispatch(context: ApiContext) -> Reply:
    chosen = REPORTS[report_type_of(context.request.params)]
    viewer = viewer_of(context.principal)
    if chosen.recordings and not viewer.recordings:
        raise ApiError(NO_RECORDINGS)
    return await chosen.handler(context, parse_report_params(context.request.params), viewer)


def error_wrapper(params: dict[str, str], era: Era) -> str | None:
    if era is not Era.V1_7:
        return None
    chosen = REPORTS.get(params.get("generate_report", ""))
    return chosen.root if chosen else None


# --- helpers -----------------------------------------------------------------------------


def _zone(context: ApiContext) -> ZoneInfo:
    return ZoneInfo(context.settings["timezone"])


def _base_url(context: ApiContext, directory: DirectorySnapshot) -> str:
    """Links point at the public site the caller used, or else at the default site."""
    host = context.request.host
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if directory.site_for_hostname(hostname) is None:
        hostname = directory.default_site.primary_hostname
    return context.base_url(hostname.lower())


async def _view(context: ApiContext, viewer: Viewer) -> render.View:
    directory = await context.runtime.directory()
    links = DownloadLinks(context.settings[APPLIANCE_SECRET], _base_url(context, directory))
    return render.View(
        era=context.era,
        zone=_zone(context),
        links=links,
        recordings=viewer.recordings,
        now=utcnow(),
        questions={},
        attribute_names=dict(directory.custom_attributes),
    )


def _stream(
    context: ApiContext, root: str, produce: Callable[[Session], Iterator[Piece]], *, header: Sequence[Element] = ()
) -> Reply:
    """The report as a streamed document whose children `produce` yields."""
    namespace, era = context.namespace, context.era

    def write(db: Session, out: ChunkWriter) -> None:
        write_document(out, namespace, era, root, produce(db), header=header)

    def error_document(message: str) -> bytes:
        builder = Builder(namespace)
        if era is Era.V1_7:
            holder = builder.root(root)
            builder.child(holder, "error", message)
        else:
            holder = builder.root("error")
            holder.text = message
        return document(holder)

    return StreamedXml(
        context.runtime.db,
        write,
        error_document,
        root,
        caller=f"{context.principal.kind}:{context.principal.id}",
        stall_seconds=context.runtime.config.limits.stall_seconds,
    )


def _load_questions(db: Session, view: render.View) -> None:
    view.questions = {kind: questions_now(db, kind) for kind in ("customer", "representative")}


# --- session reports ---------------------------------------------------------------------


@report("SupportSession", "session_list")
async def support_session(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    lsids = lsid_list(params)
    if lsids:
        selection = Selection(lsids=lsids)  # limit is ignored beside lsid and lsids, as the guide says
    else:
        found = window(params, _zone(context))
        if found is None:
            raise ApiError(SESSIONS_NEEDED)
        selection = Selection(window=found, limit=limit_of(params))
    view = await _view(context, viewer)

    def produce(db: Session) -> Iterator[Piece]:
        _load_questions(db, view)
        writer = session_xml.SessionWriter(view)
        for chunk in session_chunks(db, selection, viewer, Part.EVERYTHING, now=view.now):
            for session in chunk:
                yield writer.session(session)

    return _stream(context, "session_list", produce)


@report("SupportSessionListing", "session_summary_list")
async def support_session_listing(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    selection = Selection(window=required_window(params, _zone(context)))

    def produce(db: Session) -> Iterator[Piece]:
        for chunk in session_chunks(db, selection, viewer, Part.RECORDINGS):
            for session in chunk:
                yield render.listing_element(session)

    return _stream(context, "session_summary_list", produce)


@report("SupportSessionSummary", "summary_list")
async def support_session_summary(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    found = required_window(params, _zone(context))
    if params.report_type not in ("rep", "team", "site"):
        raise ApiError("The parameter report_type must be rep, team or site.")
    by, zone = SummaryBy(params.report_type), _zone(context)

    def produce(db: Session) -> Iterator[Piece]:
        for summary in summarize(db, found, viewer, by, zone):
            yield render.summary_element(summary)

    return _stream(context, "summary_list", produce)


# --- exit surveys ------------------------------------------------------------------------


def _survey_selection(params: ReportParams, found: Window) -> Selection:
    if params.report_type not in ("rep", "team"):
        raise ApiError("The parameter report_type must be rep or team.")
    if not params.id:
        raise ApiError("The required parameter id is missing.")
    ref = None if params.id == "all" else int(params.id)
    # Without site_id only the default public site's surveys, as the guide says.
    site_id = params.site_id or 1
    if params.report_type == "rep":
        return Selection(window=found, site_id=site_id, primary_rep_id=ref)
    return Selection(window=found, site_id=site_id, primary_team_id=ref, in_any_team=ref is None)


async def _exit_survey(context: ApiContext, params: ReportParams, viewer: Viewer, survey: str) -> Reply:
    selection = _survey_selection(params, required_window(params, _zone(context)))
    view = await _view(context, viewer)

    def produce(db: Session) -> Iterator[Piece]:
        _load_questions(db, view)
        for session, answers in submitted_surveys(db, selection, viewer, survey, now=view.now):
            yield render.exit_survey_element(view, session, answers)

    return _stream(context, "exit_survey_list", produce)


@report("SupportCustExitSurvey", "exit_survey_list")
async def support_cust_exit_survey(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    return await _exit_survey(context, params, viewer, "customer")


@report("SupportRepExitSurvey", "exit_survey_list")
async def support_rep_exit_survey(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    return await _exit_survey(context, params, viewer, "representative")


# --- team activity -----------------------------------------------------------------------


@report("SupportTeam", "team_activity_list")
async def support_team(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    if viewer.level not in (ViewReports.TEAM_SESSIONS, ViewReports.ALL_SESSIONS):
        raise ApiError(NO_TEAM_REPORTS)
    found = required_window(params, _zone(context))
    view = await _view(context, viewer)
    header = etree.Element("holder")
    view.time(header, "start_time", found.since)
    view.time(header, "end_time", found.until or view.now)

    def produce(db: Session) -> Iterator[Piece]:
        for activity in team_activities(db, found, viewer, params.team_id):
            yield _team_piece(activity)

    return _stream(context, "team_activity_list", produce, header=list(header))


def _team_piece(activity: TeamActivity) -> Piece:
    def write(xf: Any) -> None:
        with xf.element("team_activity", id=str(activity.id), name=xml_safe(activity.name)):
            xf.write("\n")
            xf.write(render.logged_in_element(activity.logged_in), pretty_print=True)
            with xf.element("events"):
                xf.write("\n")
                for event in activity.events:
                    xf.write(render.team_event_element(event), pretty_print=True)
            xf.write("\n")

    return write


# --- recordings --------------------------------------------------------------------------


def _lsid_of(params: ReportParams) -> str:
    if not params.lsid:
        raise ApiError("The required parameter lsid is missing.")
    return params.lsid.lower()


async def _recording(context: ApiContext, viewer: Viewer, lsid: str, kind: RecordingKind, instance: int) -> Reply:
    def find(db: Session) -> StoredRecording | None:
        visible = db.scalar(select(SupportSession.id).where(SupportSession.lsid == lsid, viewer.condition()))
        return find_recording(db, lsid, kind.value, instance) if visible is not None else None

    found = await context.runtime.db.read(find)
    if found is None:
        raise ApiError(NO_SUCH_RECORDING)
    if not found.finished:
        raise ApiError(UNFINISHED)
    store = RecordingStore(context.runtime.config.recordings_dir)
    path = store.path_for(found.storage_name)
    if not path.is_file():
        raise ApiError(EXPIRED)
    return recording_file(path, found.content_type, download_name(lsid, kind, instance))


@report("SupportSessionRecording", None, recordings=True)
async def support_session_recording(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    return await _recording(context, viewer, _lsid_of(params), RecordingKind.SCREEN, 0)


@report("CommandShellRecording", None, recordings=True)
async def command_shell_recording(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    lsid = _lsid_of(params)
    if params.instance is None:
        raise ApiError("The required parameter instance is missing.")
    return await _recording(context, viewer, lsid, RecordingKind.COMMAND_SHELL, params.instance)


@report("PresentationRecording", None, recordings=True)
async def presentation_recording(context: ApiContext, params: ReportParams, viewer: Viewer) -> Reply:
    return await _recording(context, viewer, _lsid_of(params), RecordingKind.PRESENTATION, 0)
