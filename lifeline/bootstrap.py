"""First start and every start: migrate the database and make sure the appliance has
its identity, its default public site and an admin account."""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.appliance.models import Setting
from lifeline.appliance.settings import APPLIANCE_ID, APPLIANCE_SECRET
from lifeline.config import Config, ConfigError
from lifeline.db import migrate
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.models import PublicSite, User, ViewReports

DEFAULT_SITE_NAME = "Default"


@dataclass(frozen=True)
class FirstStart:
    """What a first start made that the operator needs to hear about once."""

    admin_password: str | None  # generated, to print once; None if it came from the environment


class NoAppliance(Exception):
    """The data directory (or DATABASE_URL's database) holds no appliance."""


def make_data_dir(config: Config) -> None:
    """The data directory, private to its owner (0700)."""
    data_dir = config.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"the data directory {data_dir} is a file, not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise ConfigError(f"cannot create the appliance's data in {data_dir}: {error.strerror}") from None


def make_database_file(config: Config) -> None:
    """A new SQLite database private to its owner (0600; SQLite gives its WAL and
    shared-memory files the database's mode)."""
    if not config.is_sqlite:
        return
    try:
        os.close(os.open(config.sqlite_file, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as error:
        raise ConfigError(f"cannot create the appliance's data in {config.data_dir}: {error.strerror}") from None


def open_database(config: Config) -> Database:
    """For `serve` and `init`, which make the appliance if there is none yet."""
    make_data_dir(config)
    make_database_file(config)
    db = Database(config.effective_database_url)
    migrate.upgrade(db.engine)
    return db


def open_appliance(config: Config) -> Database:
    """For every other command: an appliance that exists. A mistyped --data-dir must not
    quietly become a new appliance with a new admin password."""
    where = str(config.data_dir) if config.is_sqlite else "the database DATABASE_URL names"
    if config.is_sqlite and not config.sqlite_file.is_file():
        if config.data_dir.exists() and not config.data_dir.is_dir():
            raise ConfigError(f"the data directory {config.data_dir} is a file, not a directory")
        raise NoAppliance(f"no appliance in {where} (check --data-dir; lifeline init creates one)")
    db = Database(config.effective_database_url)
    try:
        if not _holds_appliance(db):
            raise NoAppliance(f"no appliance in {where} (check --data-dir; lifeline init creates one)")
        migrate.upgrade(db.engine)
    except BaseException:
        db.close()
        raise
    return db


def _holds_appliance(db: Database) -> bool:
    if not inspect(db.engine).has_table(Setting.__tablename__):
        return False
    return db.call(lambda session: session.get(Setting, APPLIANCE_ID) is not None)


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
