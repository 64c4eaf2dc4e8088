"""Backup: download a backup now, restore one from a file in place of this appliance's data
(checked and staged first, then confirmed), and the scheduled backup to a folder.

A restore runs what `lifeline restore` runs (backup.restore): the upload is restored into a
private scratch database, refused with the reason if anything is wrong, and only replaces
the appliance's data once the admin confirms what the file holds. The staged backup waits
in the data directory under a random token, for the admin who uploaded it, for an hour.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import shutil
import time
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from lifeline.appliance.settings import APPLIANCE_ID
from lifeline.backup import queries
from lifeline.backup.actions import SCHEDULED_BY, request_run
from lifeline.backup.archive import Manifest
from lifeline.backup.download import CONTENT_TYPE, MAX_PASSWORD, take_backup
from lifeline.backup.models import BackupKind
from lifeline.backup.restore import (
    STAGE_HOURS,
    RestoreError,
    Staged,
    copy_staged_files,
    describe,
    forget_stale_stages,
    replace_data,
    stage_backup,
    stage_folder,
    staged,
)
from lifeline.http.pages import SECURITY_HEADERS
from lifeline.web.admin.base import AdminPage, Page
from lifeline.web.admin.settings_form import save_settings, setting_fields, shown_values

log = logging.getLogger("lifeline.admin")

KEYS = (
    "backup_schedule_folder",
    "backup_schedule_enabled",
    "backup_schedule",
    "backup_schedule_keep",
    "backup_schedule_password",
)
UPLOAD_KEYS = ("restore_upload_max_mb",)
STAGE_TOKEN = re.compile(r"[0-9a-f]{32}")
OWNER = "owner"
FILE_NAME = "file-name"
URL = "/login/backup"

_one_restore_at_a_time = asyncio.Lock()


# --- the page ----------------------------------------------------------------------------


def said(entry: queries.LoggedBackup) -> str:
    """How a backup was made, in words."""
    if entry.kind == BackupKind.DOWNLOAD:
        return f"downloaded by {entry.performed_by}"
    if entry.kind == BackupKind.API:
        return f"taken through the Backup API by {entry.performed_by}"
    if entry.performed_by == SCHEDULED_BY:
        return "written on schedule"
    return f"written to the folder when {entry.performed_by} asked (Run now)"


async def backup_page(page: Page, *, status: int = 200, error: str | None = None, typed: bool = False) -> Response:
    settings = await page.web.runtime.settings()
    values = shown_values(page, KEYS, settings) if typed else settings
    last = await page.read(queries.last_backup)
    return await page.render(
        "admin/backup.html",
        "Backup",
        status=status,
        error=error,
        schedule=setting_fields(KEYS, values),
        upload_limit=setting_fields(UPLOAD_KEYS, settings),
        max_mb=settings["restore_upload_max_mb"],
        last=last,
        last_said=said(last) if last else "",
        last_run=await page.read(queries.last_scheduled_run),
        state=await page.read(queries.schedule_state),
        log=await page.read(queries.recent_backups),
        max_password=MAX_PASSWORD,
    )


async def show(page: Page) -> Response:
    return await backup_page(page)


# --- download now ------------------------------------------------------------------------


async def download(page: Page) -> Response:
    password = page.raw("password", MAX_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return await backup_page(
            page, status=400, error=f"The backup password is longer than {MAX_PASSWORD} characters."
        )
    runtime = page.web.runtime
    try:
        taken = await take_backup(
            runtime.db,
            page.web.files,
            runtime.config.scratch_dir,
            await runtime.directory(),
            kind=BackupKind.DOWNLOAD,
            taken_by=page.me.username,
            password=password or None,
        )
    except Exception:
        log.exception("a backup for %s failed", page.me.username)
        return await backup_page(page, status=500, error="The backup failed; the appliance's log says why.")
    log.info("%s downloaded a backup (%s)", page.me.username, "encrypted" if taken.encrypted else "not encrypted")
    return FileResponse(
        taken.path,
        media_type=CONTENT_TYPE,
        headers={**SECURITY_HEADERS, "content-disposition": f"attachment; filename={taken.name}"},
        background=BackgroundTask(taken.path.unlink, missing_ok=True),
    )


# --- restore from a file -------------------------------------------------------------------


def _stages(page: Page) -> Path:
    return page.web.runtime.config.scratch_dir


def _stage(source: Path, password: str | None, folder: Path, owner: int, file_name: str) -> Staged:
    forget_stale_stages(folder.parent)
    backup = stage_backup(source, password, folder)
    (folder / OWNER).write_text(str(owner))
    (folder / FILE_NAME).write_text(file_name)
    return backup


async def upload(page: Page) -> Response:
    if page.upload is None:
        return await backup_page(page, status=400, error="Choose a backup file (.nsb) to restore.")
    password = page.raw("password", MAX_PASSWORD) or None
    token = secrets.token_hex(16)
    folder = stage_folder(_stages(page), token)
    try:
        backup = await asyncio.to_thread(
            _stage, page.upload.path, password, folder, page.me.user_id, page.upload.filename
        )
    except RestoreError as refused:
        log.info("%s tried to restore %s; refused: %s", page.me.username, page.upload.filename, refused)
        return await backup_page(page, status=400, error=f"{page.upload.filename} was not restored: {refused}")
    current = await page.read(queries.data_counts)
    return await page.render(
        "admin/backup_confirm.html",
        "Restore this backup?",
        token=token,
        file_name=page.upload.filename,
        manifest=backup.manifest,
        created_at=_when(backup.manifest),
        backup_counts=queries.counts_in(backup.manifest),
        current=current,
        rows=backup.rows,
    )


def _when(manifest: Manifest) -> str:
    return manifest.created_at.replace("T", " ").replace("+00:00", " UTC")


def _staged_for(page: Page) -> tuple[Staged, str] | None:
    token = page.text("token", 64)
    if not STAGE_TOKEN.fullmatch(token):
        return None
    folder = stage_folder(_stages(page), token)
    try:
        owner = int((folder / OWNER).read_text())
        file_name = (folder / FILE_NAME).read_text()
    except (OSError, ValueError):
        return None
    backup = staged(folder)
    if backup is None or owner != page.me.user_id or folder.stat().st_mtime < time.time() - STAGE_HOURS * 3600:
        return None
    return backup, file_name


async def confirm(page: Page) -> Response:
    found = _staged_for(page)
    if found is None:
        return await backup_page(
            page,
            status=400,
            error="That restore is no longer waiting (it was cancelled or done, or an hour passed); upload the file again.",
        )
    backup, file_name = found
    runtime = page.web.runtime
    async with _one_restore_at_a_time:
        try:
            await asyncio.to_thread(copy_staged_files, backup, page.web.files)
            settings = await runtime.settings()
            rows = await runtime.db.write(
                replace_data,
                backup,
                appliance_id=settings[APPLIANCE_ID],
                performed_by=page.me.username,
                file_name=file_name,
            )
        except Exception:
            log.exception("%s could not replace the appliance's data with %s", page.me.username, file_name)
            return await backup_page(
                page,
                status=500,
                error="The restore failed and changed nothing (the appliance's log says why); upload the file again.",
            )
        finally:
            shutil.rmtree(backup.folder, ignore_errors=True)
    log.warning("%s replaced the appliance's data with %s: %s", page.me.username, file_name, describe(backup.manifest))
    return await page.render(
        "admin/backup_restored.html",
        "Backup restored",
        file_name=file_name,
        manifest=backup.manifest,
        created_at=_when(backup.manifest),
        counts=queries.counts_in(backup.manifest),
        rows=rows,
    )


async def cancel(page: Page) -> Response:
    found = _staged_for(page)
    if found is not None:
        shutil.rmtree(found[0].folder, ignore_errors=True)
    return page.done(URL, "Nothing was restored.")


# --- the scheduled backup --------------------------------------------------------------------


async def schedule(page: Page) -> Response:
    error = await save_settings(page, KEYS)
    if error is not None:
        return await backup_page(page, status=400, error=error, typed=True)
    page.web.runtime.backups.wake()
    return page.done(URL, "The scheduled backup settings were saved.")


async def upload_limit(page: Page) -> Response:
    error = await save_settings(page, UPLOAD_KEYS)
    if error is not None:
        return await backup_page(page, status=400, error=error)
    return page.done(URL, "The upload limit was saved.")


async def run_now(page: Page) -> Response:
    settings = await page.web.runtime.settings()
    if not settings["backup_schedule_folder"]:
        return await backup_page(page, status=400, error="Set the scheduled backup's folder first.")
    await page.write(request_run, page.me.username)
    page.web.runtime.backups.wake()
    return page.done(URL, "A scheduled backup starts within seconds; its outcome shows below.")


PAGES = [
    AdminPage(URL, show),
    AdminPage(f"{URL}/download", download, ("POST",)),
    AdminPage(f"{URL}/restore", upload, ("POST",), upload="backup"),
    AdminPage(f"{URL}/restore/confirm", confirm, ("POST",)),
    AdminPage(f"{URL}/restore/cancel", cancel, ("POST",)),
    AdminPage(f"{URL}/schedule", schedule, ("POST",)),
    AdminPage(f"{URL}/upload-limit", upload_limit, ("POST",)),
    AdminPage(f"{URL}/run", run_now, ("POST",)),
]
