"""The Command API's answers as XML, built from typed records."""

from __future__ import annotations

import html
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from lifeline import __version__
from lifeline.api.endpoint import ApiContext, Era
from lifeline.api.xml import document, iso8601, unix
from lifeline.appliance import stamps
from lifeline.appliance.invitations import invitation
from lifeline.appliance.settings import APPLIANCE_ID
from lifeline.directory.models import CommandAccess
from lifeline.directory.queries import DirectorySnapshot
from lifeline.failover.pairing import Pairing
from lifeline.failover.state import FailoverState
from lifeline.presence.queries import ConnectedClient
from lifeline.sessions.duty import LoggedInRep
from lifeline.sessions.queues import Queue

API_VERSION = "1.19.0"


# --- render cache for the answers integrations poll --------------------------------------


async def cached(
    context: ApiContext, key: tuple[Hashable, ...], build: Callable[[ApiContext], Awaitable[bytes]]
) -> bytes:
    """The same bytes until the directory, presence or settings change (no database work)."""
    runtime = context.runtime
    depends = tuple(runtime.generations[name] for name in (stamps.DIRECTORY, stamps.PRESENCE, stamps.SETTINGS))
    # The Host header decides the links' site (see site_base_url), so it is part of the key.
    full_key = (key, context.namespace, context.era, context.request.host)
    hit = runtime.rendered.get(full_key)
    if hit is not None and hit[0] == depends:
        return hit[1]
    body = await build(context)
    if depends == tuple(runtime.generations[name] for name in (stamps.DIRECTORY, stamps.PRESENCE, stamps.SETTINGS)):
        if len(runtime.rendered) > 256:
            runtime.rendered.clear()
        runtime.rendered[full_key] = (depends, body)
    return body


def site_base_url(context: ApiContext, directory: DirectorySnapshot) -> str:
    """Links point at the public site the caller used, or else at the default site."""
    host = context.request.host
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if directory.site_for_hostname(hostname) is None:
        hostname = directory.default_site.primary_hostname
    return context.base_url(hostname.lower())


# --- generate_session_key ----------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedKey:
    short_key: str
    url_key: str
    ttl: int
    expires_at: datetime
    queue: Queue
    external_key: str


def session_key(context: ApiContext, key: GeneratedKey, hostname: str, available: bool) -> bytes:
    b = context.builder
    root = b.root("session_key")
    b.child(root, "type", "support")
    b.child(root, "ttl", key.ttl)
    expires = unix(key.expires_at)
    # Integer text (what old integrations read) and the attribute (what later ones read first).
    b.child(root, "expires", expires, timestamp=expires)
    b.child(root, "queue", key.queue.kind.value, available="1" if available else "0")
    b.child(root, "queue_id", key.queue.ref_id)
    b.child(root, "external_key", key.external_key)
    b.child(root, "short_key", key.short_key)
    mail = invitation(context.settings, context.base_url(hostname), key.short_key, key.url_key, key.expires_at)
    b.child(root, "key_url", mail.key_url)
    b.child(root, "mail_subject", mail.mail_subject)
    b.child(root, "mail_body", mail.mail_body)
    return document(root)


def success(context: ApiContext, message: str) -> bytes:
    root = context.builder.root("success")
    root.text = message
    return document(root)


# --- get_logged_in_reps, get_support_teams --------------------------------------------------


def logged_in_reps(context: ApiContext, reps: list[LoggedInRep], directory: DirectorySnapshot) -> bytes:
    b = context.builder
    root = b.root("logged_in_reps")
    zone = ZoneInfo(context.settings["timezone"])
    base = site_base_url(context, directory)
    start_path = "/api/start_session.ns" if context.era is Era.V1_7 else "/api/start_session"
    for rep in reps:
        element = b.child(root, "rep", id=str(rep.id))
        b.child(element, "display_name", rep.display_name)
        if context.era is Era.LATER:
            b.child(element, "public_display_name", rep.display_name)
            b.child(element, "private_display_name", rep.private_display_name)
        b.child(element, "type", rep.kind)
        href = f"{base}{start_path}?{urlencode({'id': rep.id, 'name': rep.display_name})}"
        link = f'<a href="{html.escape(href)}">{html.escape(rep.display_name)}</a>'
        b.child(element, "direct_link", link)
        b.child(
            element,
            "logged_in_since",
            iso8601(rep.logged_in_since, zone),
            timestamp=unix(rep.logged_in_since),
        )
        b.child(element, "presentation_count", rep.presentation_count)
        b.child(element, "support_session_count", rep.support_session_count)
        b.child(element, "showing_on_rep_list", 1 if rep.showing_on_rep_list else 0)
    if not reps:
        root.text = "\n"  # an open and a close tag, never a self-closing root
    return document(root)


def support_teams(context: ApiContext, directory: DirectorySnapshot, show_members: bool) -> bytes:
    b = context.builder
    root = b.root("support_teams")
    for team in directory.teams:
        element = b.child(root, "support_team", id=str(team.id))
        b.child(element, "name", team.name)
        if context.era is Era.LATER:
            b.child(element, "code_name", team.code_name)
        if team.is_embassy:
            b.child(element, "embassy", 1)
        issues = b.child(element, "issues")
        for issue in team.issues:
            item = b.child(issues, "issue", id=str(issue.id))
            b.child(item, "title", issue.title)
            b.child(item, "code_name", issue.code_name)
        if show_members:
            members = b.child(element, "members")
            for member in team.members:
                rep = b.child(members, "representative", id=str(member.id))
                b.child(rep, "username", member.username)
                b.child(rep, "display_name", member.display_name)
    if not directory.teams:
        root.text = "\n"
    return document(root)


# --- get_api_info ------------------------------------------------------------------------


def api_information(context: ApiContext) -> bytes:
    b = context.builder
    principal = context.principal
    root = b.root("api_information")
    b.child(root, "api_version", API_VERSION)
    if context.era is Era.LATER:
        b.child(root, "company_name", context.settings["company_name"])
    b.child(root, "timestamp", int(time.time()))
    permissions = b.child(root, "permissions")
    if principal.kind == "user":
        granted: list[tuple[str, str]] = [
            ("perm_use_command_api", _flag(principal.command is CommandAccess.FULL)),
            ("perm_use_reporting_api", _flag(principal.reporting)),
            ("perm_admin", _flag(principal.admin)),
            ("perm_view_reports", principal.view_reports.value),
            ("perm_view_sd_recordings", _flag(principal.view_recordings)),
            ("perm_sd_allowed", _flag(principal.support)),
        ]
    else:
        command = {
            CommandAccess.FULL: "full_access",
            CommandAccess.READ_ONLY: "read_only",
            CommandAccess.DENY: "deny",
        }[principal.command]
        granted = [
            ("perm_command", command),
            ("perm_reporting_support", _flag(principal.reporting)),
            ("perm_backup", _flag(principal.backup)),
        ]
    for name, value in granted:
        b.child(permissions, "permission", value, name=name)
    if principal.user_id is not None:
        b.child(root, "user_id", principal.user_id)
    return document(root)


def _flag(value: bool) -> str:
    return "1" if value else "0"


# --- session attributes ------------------------------------------------------------------


def custom_attributes(context: ApiContext, values: dict[str, str], directory: DirectorySnapshot) -> bytes:
    b = context.builder
    root = b.root("custom_attributes")
    names = {"external_key": "External Key", **directory.custom_attributes}
    for code_name, display_name in names.items():
        b.child(root, "custom_attribute", values.get(code_name, ""), display_name=display_name, code_name=code_name)
    return document(root)


# --- appliance and clients ---------------------------------------------------------------


def _timezone_offset(context: ApiContext) -> int:
    offset = datetime.now(ZoneInfo(context.settings["timezone"])).utcoffset()
    return int(offset.total_seconds()) if offset else 0


@dataclass(frozen=True)
class PairMember:
    """One appliance of a failover pair as get_appliances lists it."""

    id: str
    hostname: str
    failover_role: str
    accepting_connections: bool


def failover_pair(state: FailoverState, pairing: Pairing | None, peer: Mapping[str, Any] | None) -> list[PairMember]:
    """This appliance and its peer. The peer's role is what it says, or (when it does not
    answer) the other role of the pair, marked as not accepting connections."""
    own = PairMember(pairing.appliance_id if pairing else "", _host(state.own_url), state.role, state.role != "backup")
    other_role = "backup" if state.role == "primary" else "primary"
    if peer is not None:
        peer_role = str(peer.get("role") or other_role)
        other = PairMember(str(peer.get("appliance_id") or ""), _host(state.peer_url), peer_role, peer_role != "backup")
    else:
        known = pairing.peer_appliance_id if pairing else None
        other = PairMember(known or "", _host(state.peer_url), other_role, False)
    return [own, other]


def _host(url: str | None) -> str:
    return urlsplit(url).hostname or "" if url else ""


def appliances(context: ApiContext, directory: DirectorySnapshot, pair: list[PairMember]) -> bytes:
    """A single appliance, or both of a failover pair (this one first)."""
    b = context.builder
    root = b.root("appliances")
    hostname = directory.default_site.primary_hostname
    members = pair or [PairMember(context.settings[APPLIANCE_ID], hostname, "none", True)]
    for member in members:
        appliance = b.child(root, "appliance", id=member.id or context.settings[APPLIANCE_ID])
        b.child(appliance, "name", member.hostname or hostname)
        b.child(appliance, "public_hostname", hostname)
        b.child(appliance, "cluster_role", "single")
        b.child(appliance, "failover_role", member.failover_role)
        b.child(appliance, "accepting_connections", 1 if member.accepting_connections else 0)
        b.child(appliance, "timezone_offset", _timezone_offset(context))
    return document(root)


def connected_client_list(
    context: ApiContext,
    clients: list[ConnectedClient],
    kinds: tuple[str, ...],
    summary_only: bool,
    counted: Mapping[str, int] | None = None,
) -> bytes:
    """`counted`: clients of some kinds counted but not in `clients` (a summary's Jump Clients)."""
    b = context.builder
    root = b.root("connected_client_list")
    summary = b.child(root, "connected_client_summary")
    appliance = b.child(summary, "appliance_summary", id=context.settings[APPLIANCE_ID])
    counts = Counter(c.kind for c in clients)
    counts.update(counted or {})
    for kind in kinds:
        b.child(appliance, "count", counts[kind], type=kind)
    if not summary_only:
        for client in clients:
            b.child(root, "connected_client", type=client.kind, id=str(client.gsnumber))
    return document(root)


def connected_clients(
    context: ApiContext,
    clients: list[ConnectedClient],
    sessions: dict[int, list[tuple[str, str, str]]] | None,
) -> bytes:
    b = context.builder
    zone = ZoneInfo(context.settings["timezone"])
    root = b.root("connected_clients")
    for client in clients:
        element = b.child(root, f"connected_{client.kind}", id=str(client.gsnumber))
        b.child(element, "hostname", client.hostname)
        b.child(element, "platform", client.platform)
        b.child(element, "timezone_offset", client.timezone_offset)
        b.child(element, "connected_since", iso8601(client.connected_since, zone), ts=unix(client.connected_since))
        if sessions is not None:
            connections = b.child(element, "connections")
            for session_type, lsid, role in sessions.get(client.gsnumber, []):
                kind = "presentation" if session_type == "presentation" else "support_session"
                b.child(connections, "connection", type=kind, lsid=lsid, role=role)
    return document(root)


def health_check(
    context: ApiContext,
    directory: DirectorySnapshot,
    problem: str | None,
    failover: FailoverState,
    pairing: Pairing | None,
) -> bytes:
    b = context.builder
    root = b.root("health_check")
    appliance_id = pairing.appliance_id if pairing and failover.configured else context.settings[APPLIANCE_ID]
    b.child(root, "appliance", directory.default_site.primary_hostname, id=appliance_id)
    b.child(root, "version", f"{__version__} (lifeline)")
    b.child(root, "success", 0 if problem else 1)
    if problem:
        b.child(root, "error_message", problem)
    b.child(root, "failover_role", failover.role)
    if failover.configured:
        # On the backup its own last sync; on the primary the last the backup reported.
        if failover.last_sync_time is not None:
            moment = datetime.fromtimestamp(failover.last_sync_time, UTC)
            zone = ZoneInfo(context.settings["timezone"])
            b.child(root, "last_data_sync_time", iso8601(moment, zone), ts=unix(moment))
        b.child(root, "last_data_sync_status", failover.last_sync_status or "No data sync yet")
    return document(root)
