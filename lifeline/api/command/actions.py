"""Every Command API action: who may call it, its parameters, and what it does.

Each handler parses nothing and renders nothing itself: parameters arrive parsed
(`params.py`), the work is one engine call in a database thread, and the answer is
built by `render.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from lifeline.api.command import params as p
from lifeline.api.command import render
from lifeline.api.command.key_issuer import KeyAsk, key_issuer
from lifeline.api.endpoint import ApiContext, Era
from lifeline.api.errors import ApiError
from lifeline.api.params import parse_params, prefixed
from lifeline.directory.models import CommandAccess, User
from lifeline.directory.queries import DirectorySnapshot, Principal
from lifeline.failover.service import FailoverError
from lifeline.failover.state import Role
from lifeline.jump import queries as jump
from lifeline.presence import queries as presence
from lifeline.presence.models import ClientKind
from lifeline.sessions import actions as engine
from lifeline.sessions import queries as session_queries
from lifeline.sessions.events import api_actor
from lifeline.sessions.keys import KeyRequest, SessionKeyError, key_site
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queues import Queue, QueueError, resolve_queue

INVALID_ACTION = "Invalid action"
NO_SUCH_SESSION = "No session with the given lsid exists"


class UserNeeds(enum.Enum):
    """What a user account needs beyond a valid login (API accounts: see `write`)."""

    NOTHING = "nothing"
    COMMAND_API = "command"
    SUPPORT = "support"
    ADMIN = "admin"


@dataclass(frozen=True)
class Action:
    name: str
    params: type
    user_needs: UserNeeds
    write: bool  # API accounts need full command access (read_only suffices otherwise)
    handler: Callable[[ApiContext, Any], Awaitable[bytes]]
    wrapper: str | None = None  # root that holds an <error> in 1.7 answers


ACTIONS: dict[str, Action] = {}


def action(
    name: str, params: type, user_needs: UserNeeds, *, write: bool, wrapper: str | None = None
) -> Callable[[Callable[[ApiContext, Any], Awaitable[bytes]]], Callable[[ApiContext, Any], Awaitable[bytes]]]:
    def register(
        handler: Callable[[ApiContext, Any], Awaitable[bytes]],
    ) -> Callable[[ApiContext, Any], Awaitable[bytes]]:
        ACTIONS[name] = Action(name, params, user_needs, write, handler, wrapper)
        return handler

    return register


def authorize(principal: Principal, command: Action) -> None:
    if command.user_needs is UserNeeds.NOTHING:
        return
    if principal.kind == "api_account":
        if principal.command is CommandAccess.DENY:
            raise ApiError("This API account does not have permission to use the command API")
        if command.write and principal.command is not CommandAccess.FULL:
            raise ApiError("This API account has read-only access to the command API")
        return
    if principal.command is CommandAccess.DENY:
        raise ApiError("This user does not have permission to use the command API")
    if command.user_needs is UserNeeds.SUPPORT and not principal.support:
        raise ApiError("This action requires permission to provide remote support")
    if command.user_needs is UserNeeds.ADMIN and not principal.admin:
        raise ApiError("This action requires administrator permission")


async def dispatch(context: ApiContext) -> bytes:
    name = context.request.params.get("action", "")
    command = ACTIONS.get(name)
    if command is None:
        raise ApiError(INVALID_ACTION)
    authorize(context.principal, command)
    if command.write and command.name != "set_failover_role":
        refusal = context.runtime.failover.refusal()
        if refusal is not None:
            raise ApiError(refusal)
    return await command.handler(context, parse_params(command.params, context.request.params))


def error_wrapper(params: dict[str, str], era: Era) -> str | None:
    if era is not Era.V1_7:
        return None
    command = ACTIONS.get(params.get("action", ""))
    return command.wrapper if command else None


# --- helpers ---------------------------------------------------------------------------


def custom_attributes(context: ApiContext, directory: DirectorySnapshot) -> dict[str, str]:
    """The `session.custom.*` parameters, checked against the attributes an admin defined."""
    values = prefixed(context.request.params, "session.custom.")
    problem = engine.attributes_problem(values, directory.custom_attributes)
    if problem is not None:
        raise ApiError(problem)
    return values


def _session_or_error(db: Session, lsid: str, *, to_change: bool = True) -> SupportSession:
    found = session_queries.session_by_lsid(db, lsid, to_change=to_change)
    if found is None:
        raise ApiError(NO_SUCH_SESSION)
    return found


def _queue_or_error(db: Session, spec: str) -> Queue:
    try:
        return resolve_queue(db, spec)
    except QueueError as error:
        raise ApiError(str(error)) from None


def _engine_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except (engine.SessionError, SessionKeyError) as error:
        raise ApiError(str(error)) from None


# --- actions ---------------------------------------------------------------------------


@action("generate_session_key", p.GenerateSessionKey, UserNeeds.SUPPORT, write=True)
async def generate_session_key_action(context: ApiContext, params: p.GenerateSessionKey) -> bytes:
    directory = await context.runtime.directory()
    attributes = custom_attributes(context, directory)
    external_key = params.external_key or attributes.pop("external_key", "")
    attributes.pop("external_key", None)
    site = key_site(directory, params.url_hostname or "")
    if site is None:
        raise ApiError("url_hostname is not a hostname of any public site of this appliance")
    principal = context.principal

    def request(queue: Queue) -> KeyRequest:
        return KeyRequest(
            queue=queue,
            ttl=params.ttl,
            external_key=external_key,
            url_hostname=site.hostname,
            public_site_id=site.id,
            attributes=attributes,
            created_by_user_id=principal.user_id,
            created_by_api_account_id=principal.id if principal.kind == "api_account" else None,
        )

    ask = KeyAsk(params.queue_id, request, context.settings["session_key_max_ttl"])
    queue, key = await key_issuer(context.runtime.db).issue(ask)
    generated = render.GeneratedKey(
        short_key=key.short_key,
        url_key=key.url_key,
        ttl=key.ttl,
        expires_at=key.expires_at,
        queue=queue,
        external_key=key.external_key,
    )
    available = (await context.runtime.on_duty()).covers(generated.queue)
    return render.session_key(context, generated, site.hostname, available)


@action("join_session", p.JoinSession, UserNeeds.ADMIN, write=True)
async def join_session_action(context: ApiContext, params: p.JoinSession) -> bytes:
    rep_id = params.rep_id or params.user_id
    if rep_id is None:
        raise ApiError("The required parameter rep_id is missing.")
    actor = api_actor(context.principal.name)

    def join(db: Session) -> None:
        support_session = _session_or_error(db, params.lsid)
        user = db.get(User, rep_id)
        if user is None:
            raise ApiError(f"No representative has the ID {rep_id}")
        connection = presence.live_rep_connection(db, user.id)
        if connection is None:
            raise ApiError("The representative is not logged in")
        _engine_call(engine.join_session, db, support_session, connection, user, performed_by=actor)

    await context.runtime.db.write(join)
    return render.success(context, "Representative successfully added")


@action("transfer_session", p.TransferSession, UserNeeds.ADMIN, write=True)
async def transfer_session_action(context: ApiContext, params: p.TransferSession) -> bytes:
    actor = api_actor(context.principal.name)

    def transfer(db: Session) -> None:
        support_session = _session_or_error(db, params.lsid)
        queue = _queue_or_error(db, params.queue_id)
        _engine_call(engine.transfer_session, db, support_session, queue, actor)

    await context.runtime.db.write(transfer)
    return render.success(context, "Successfully transferred")


@action("get_logged_in_reps", p.NoParams, UserNeeds.COMMAND_API, write=False, wrapper="logged_in_reps")
async def get_logged_in_reps_action(context: ApiContext, params: p.NoParams) -> bytes:
    return await render.cached(context, ("reps",), _render_reps)


async def _render_reps(context: ApiContext) -> bytes:
    reps = await context.runtime.logged_in_reps()
    directory = await context.runtime.directory()
    return render.logged_in_reps(context, reps, directory)


@action("get_support_teams", p.GetSupportTeams, UserNeeds.COMMAND_API, write=False, wrapper="support_teams")
async def get_support_teams_action(context: ApiContext, params: p.GetSupportTeams) -> bytes:
    async def build(context: ApiContext) -> bytes:
        return render.support_teams(context, await context.runtime.directory(), params.showmembers)

    return await render.cached(context, ("teams", params.showmembers), build)


@action("get_api_info", p.NoParams, UserNeeds.NOTHING, write=False)
async def get_api_info_action(context: ApiContext, params: p.NoParams) -> bytes:
    return render.api_information(context)


@action("set_session_attributes", p.SessionOnly, UserNeeds.ADMIN, write=True)
async def set_session_attributes_action(context: ApiContext, params: p.SessionOnly) -> bytes:
    directory = await context.runtime.directory()
    changes: dict[str, str | None] = dict(custom_attributes(context, directory))
    actor = api_actor(context.principal.name)

    def apply(db: Session) -> None:
        support_session = _session_or_error(db, params.lsid)
        if support_session.status == engine.SessionStatus.ENDED.value:
            raise ApiError("The session is not active")
        _engine_call(engine.set_attributes, db, support_session, changes, actor)

    await context.runtime.db.write(apply)
    return render.success(context, "Session attributes were set")


@action("get_session_attributes", p.SessionOnly, UserNeeds.ADMIN, write=False)
async def get_session_attributes_action(context: ApiContext, params: p.SessionOnly) -> bytes:
    directory = await context.runtime.directory()

    def read(db: Session) -> dict[str, str]:
        return session_queries.session_attributes(db, _session_or_error(db, params.lsid, to_change=False))

    values = await context.runtime.db.read(read)
    return render.custom_attributes(context, values, directory)


@action("terminate_session", p.SessionOnly, UserNeeds.ADMIN, write=True)
async def terminate_session_action(context: ApiContext, params: p.SessionOnly) -> bytes:
    actor = api_actor(context.principal.name)

    def terminate(db: Session) -> None:
        support_session = _session_or_error(db, params.lsid)
        _engine_call(engine.end_session, db, support_session, actor, reason="terminated")

    await context.runtime.db.write(terminate)
    return render.success(context, "Successfully terminated")


@action("get_appliances", p.NoParams, UserNeeds.COMMAND_API, write=False)
async def get_appliances_action(context: ApiContext, params: p.NoParams) -> bytes:
    directory = await context.runtime.directory()
    failover = context.runtime.failover
    state = failover.state()
    if not state.configured:
        return render.appliances(context, directory, [])
    peer = await failover.peer_status()
    return render.appliances(context, directory, render.failover_pair(state, failover.pairing(), peer))


def _client_types(raw: str) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(raw.split(",")))
    if "all" in wanted:
        return p.CLIENT_TYPES
    unknown = [name for name in wanted if name not in p.CLIENT_TYPES]
    if unknown:
        raise ApiError(f"Unknown client type {unknown[0]!r}; use all or {', '.join(p.CLIENT_TYPES)}")
    return wanted


@action("get_connected_client_list", p.ConnectedClientList, UserNeeds.COMMAND_API, write=False)
async def get_connected_client_list_action(context: ApiContext, params: p.ConnectedClientList) -> bytes:
    types = _client_types(params.type)
    kinds = types + ((ClientKind.PINNED_CLIENT.value,) if types == p.CLIENT_TYPES else ())

    def read(db: Session) -> tuple[list[presence.ConnectedClient], dict[str, int]]:
        # Jump Clients and Jumpoints are read from their own table (jump.queries says why);
        # a summary only counts them.
        clients = presence.connected_clients(db, kinds)
        if params.summary_only:
            counts = jump.online_counts(db)
            return clients, {kind: counts[kind] for kind in kinds if kind in counts}
        return clients + jump.connected_jump_clients(db, kinds), {}

    clients, counted = await context.runtime.db.read(read)
    return render.connected_client_list(context, clients, kinds, params.summary_only, counted)


@action("get_connected_clients", p.ConnectedClients, UserNeeds.COMMAND_API, write=False)
async def get_connected_clients_action(context: ApiContext, params: p.ConnectedClients) -> bytes:
    types = _client_types(params.type)
    ids: tuple[int, ...] | None = None
    if params.id:
        ids = tuple(dict.fromkeys(int(part) for part in params.id.split(",")))
        if len(ids) > 100:
            raise ApiError("At most 100 client IDs can be given")

    def read(db: Session) -> tuple[list[presence.ConnectedClient], dict[int, list[tuple[str, str, str]]]]:
        clients = presence.connected_clients(db, types, ids) + jump.connected_jump_clients(db, types, ids)
        sessions = (
            session_queries.live_participations(db, [c.gsnumber for c in clients]) if params.include_connections else {}
        )
        return clients, sessions

    clients, sessions = await context.runtime.db.read(read)
    return render.connected_clients(context, clients, sessions if params.include_connections else None)


@action("check_health", p.NoParams, UserNeeds.ADMIN, write=False)
async def check_health_action(context: ApiContext, params: p.NoParams) -> bytes:
    problem = await database_problem(context)
    failover = context.runtime.failover
    return render.health_check(
        context, await context.runtime.directory(), problem, failover.state(), failover.pairing()
    )


async def database_problem(context: ApiContext) -> str | None:
    try:
        await context.runtime.db.read(lambda db: db.execute(text("SELECT 1")).scalar_one())
    except Exception:
        return "The database is not answering"
    return None


@action("set_failover_role", p.SetFailoverRole, UserNeeds.ADMIN, write=True)
async def set_failover_role_action(context: ApiContext, params: p.SetFailoverRole) -> bytes:
    role: Role = "primary" if params.role == "primary" else "backup"
    try:
        message = await context.runtime.failover.set_role(
            role, data_sync_first=params.data_sync_first, force=params.force
        )
    except FailoverError as error:
        raise ApiError(str(error)) from None
    return render.success(context, message)
