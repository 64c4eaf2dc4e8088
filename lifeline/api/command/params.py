"""The parameters of every Command API action, declared once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lifeline.api.params import LSID, MAX_INT, param

QUEUE_HINT = "general, rep:ID, rep_username:USERNAME, team:ID, embassy:ID or issue:CODE_NAME"
CLIENT_TYPES = ("representative", "support_customer", "presentation_attendee", "push_agent")
ID_LIST = re.compile(r"^\d{1,12}(,\d{1,12})*$")
TYPE_LIST = re.compile(r"^[a-z_]+(,[a-z_]+)*$")


@dataclass(frozen=True)
class NoParams:
    pass


@dataclass(frozen=True)
class GenerateSessionKey:
    type: str = param(required=True, choices=("support",))
    queue_id: str = param(required=True, max_length=300)
    ttl: int | None = param(minimum=1, maximum=MAX_INT)
    external_key: str = param(default="", max_length=1024)
    url_hostname: str = param(default="", max_length=255)


@dataclass(frozen=True)
class JoinSession:
    lsid: str = param(required=True, pattern=LSID, pattern_hint="a 32-character hexadecimal session ID")
    rep_id: int | None = param(minimum=1, maximum=MAX_INT)
    user_id: int | None = param(minimum=1, maximum=MAX_INT)  # the later name of rep_id


@dataclass(frozen=True)
class TransferSession:
    lsid: str = param(required=True, pattern=LSID, pattern_hint="a 32-character hexadecimal session ID")
    queue_id: str = param(required=True, max_length=300)


@dataclass(frozen=True)
class SessionOnly:
    lsid: str = param(required=True, pattern=LSID, pattern_hint="a 32-character hexadecimal session ID")


@dataclass(frozen=True)
class GetSupportTeams:
    showmembers: bool = param(default=False, flag=True)


@dataclass(frozen=True)
class ConnectedClientList:
    type: str = param(
        default="all", max_length=200, pattern=TYPE_LIST, pattern_hint="a comma-separated list of client types"
    )
    summary_only: bool = param(default=False)


@dataclass(frozen=True)
class ConnectedClients:
    type: str = param(
        default="all", max_length=200, pattern=TYPE_LIST, pattern_hint="a comma-separated list of client types"
    )
    id: str = param(default="", max_length=1400, pattern=ID_LIST, pattern_hint="a comma-separated list of client IDs")
    include_connections: bool = param(default=False)


@dataclass(frozen=True)
class SetFailoverRole:
    role: str = param(required=True, choices=("primary", "backup"))
    data_sync_first: bool = param(default=False)
    force: bool = param(default=False)
