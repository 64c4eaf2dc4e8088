"""First start and every start: migrate the database and make sure the appliance has
its identity, its default public site and an admin account."""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.appliance.models import Setting
from lifeline.appliance.settings import APPLIANCE_ID, APPLIANCE_SECRET
from lifeline.config import Config
from lifeline.db import migrate
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.models import PublicSite, User, ViewReports

DEFAULT_SITE_NAME = "Default"


@dataclass(frozen=True)
class FirstStart:
    """What a first start made that the operator needs to hear about once."""

    admin_password: str | None  # generated, to print once; None if it came from the environment


def open_database(config: Config) -> Database:
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(config.effective_database_url)
    migrate.upgrade(db.engine)
    return db


def ensure_appliance(session: Session, hostname: str | None = None) -> FirstStart:
    """Idempotent: create what a working appliance needs, change nothing that exists."""
    stamps.ensure_rows(session)
    identity = {APPLIANCE_ID: uuid.uuid4().hex, APPLIANCE_SECRET: secrets.token_hex(32)}
    for key, value in identity.items():
        if session.get(Setting, key) is None:
            session.add(Setting(key=key, value=value))
    site = session.get(PublicSite, 1)
    if site is None:
        site = directory.add_site(session, DEFAULT_SITE_NAME, hostname or "localhost")
    elif hostname:
        directory.set_primary_hostname(session, site, hostname)
    generated: str | None = None
    if session.scalars(select(User).limit(1)).first() is None:
        password = os.environ.get("LIFELINE_ADMIN_PASSWORD") or None
        if password is None:
            generated = password = secrets.token_urlsafe(12)
        directory.add_user(
            session,
            "admin",
            password,
            directory.UserChanges(
                display_name="Administrator",
                perm_admin=True,
                perm_command_api=True,
                perm_reporting_api=True,
                perm_view_reports=ViewReports.ALL_SESSIONS,
                perm_view_recordings=True,
                perm_support=True,
                perm_show_on_rep_list=True,
            ),
        )
    return FirstStart(admin_password=generated)
