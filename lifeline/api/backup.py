"""The Backup API (/api/backup and /api/backup.ns): a `.nsb` download for administrators
and API accounts with the backup permission.

Backup scripts tell a failure by the text `Invalid credentials` in a 2xx answer (and save
anything else as the backup), so every refusal, bad login or missing permission alike,
answers an error document that says `Invalid credentials`. A backup password comes, as
in later versions, in a JSON body: `{"password": "..."}`.
"""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from lifeline.api.auth import BAD_CREDENTIALS, BAD_TOKEN, NO_CREDENTIALS
from lifeline.api.endpoint import ApiContext, Era, Reply, XmlApiEndpoint
from lifeline.api.errors import ApiError
from lifeline.backup.download import CONTENT_TYPE, MAX_PASSWORD, take_backup
from lifeline.backup.models import BackupKind
from lifeline.recordings.filestore import FileStore
from lifeline.text import parse_json

log = logging.getLogger("lifeline.api")

INVALID_CREDENTIALS = "Invalid credentials"
NOT_ALLOWED = "Invalid credentials: this account may not back up the appliance"


class BackupEndpoint(XmlApiEndpoint):
    def error_document(self, namespace: str, message: str, params: dict[str, str]) -> bytes:
        if not message.startswith(INVALID_CREDENTIALS) and _is_about_credentials(message):
            message = INVALID_CREDENTIALS
        return super().error_document(namespace, message, params)


def _is_about_credentials(message: str) -> bool:
    return message in (BAD_CREDENTIALS, BAD_TOKEN, NO_CREDENTIALS)


def backup_password(context: ApiContext) -> str | None:
    body = context.request.json_body
    if not body:
        return None
    try:
        parsed = parse_json(body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("password", ""), str):
        raise ApiError('The request body must be JSON like {"password": "..."}.')
    password = parsed.get("password") or None
    if password is not None and len(password) > MAX_PASSWORD:
        raise ApiError(f"The backup password is longer than {MAX_PASSWORD} characters.")
    return password


async def dispatch(context: ApiContext) -> Reply:
    principal = context.principal
    if not principal.backup:  # users: administrators; API accounts: the backup permission
        raise ApiError(NOT_ALLOWED)
    password = backup_password(context)
    runtime = context.runtime
    taken = await take_backup(
        runtime.db,
        FileStore(runtime.config.file_store_dir),
        runtime.config.scratch_dir,
        await runtime.directory(),
        kind=BackupKind.API,
        taken_by=principal.name,
        password=password,
    )
    log.info("%s %s took a backup through the Backup API", principal.kind, principal.name)
    return FileResponse(
        taken.path,
        media_type=CONTENT_TYPE,
        headers={"content-disposition": f"attachment; filename={taken.name}", "cache-control": "no-store"},
        background=BackgroundTask(taken.path.unlink, missing_ok=True),
    )


def error_wrapper(params: dict[str, str], era: Era) -> str | None:
    return None
