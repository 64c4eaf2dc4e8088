"""Declarative base and the column types every domain package shares."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names so that Alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest values the id columns hold: INTEGER ids (users, teams, files ...) and BIGINT
# ones (gsnumbers, event ids). A larger number from outside names nothing: say so before
# the database driver refuses it.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1


def parse_id(text: str, *, most: int = MAX_ID) -> int | None:
    """The id written in `text` (digits only), or None when it is not one the column holds."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(most)):
        return None
    value = int(text)
    return value if value <= most else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, stored naive-UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


# Characters a database cannot take in text: PostgreSQL refuses NUL, and neither database
# driver encodes a lone surrogate (JavaScript's escape() can send one as %uD800).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ExactText(TypeDecorator[str]):
    """Text kept exactly as it came, even characters a database cannot store (PostgreSQL
    refuses NUL; neither database takes lone surrogates), as chat can carry anything. Such
    a value is stored as base64 behind a marker; everything else is stored as it is."""

    impl = Text
    cache_ok = True
    MARKER = "\x01base64:"

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if UNSTORABLE.search(value) or value.startswith(self.MARKER):
            return self.MARKER + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is not None and value.startswith(self.MARKER):
            return base64.b64decode(value[len(self.MARKER) :]).decode("utf-8", "surrogatepass")
        return value  # type: ignore[no-any-return]


def utcnow() -> datetime:
    return datetime.now(UTC)
