"""Process configuration from the command line and the environment.

Everything an operator can change at run time lives in the database (see
`lifeline.settings`); this module only holds what a process needs before it can
open the database: where the data lives, which database, which ports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A setting from the environment or the command line is unusable."""


def default_data_dir() -> Path:
    env = os.environ.get("LIFELINE_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "lifeline"


def default_client_dir() -> Path:
    """Where the client downloads are: LIFELINE_CLIENT_DIR, else `build/client` of the
    checkout this package runs from, where scripts/install builds them."""
    env = os.environ.get("LIFELINE_CLIENT_DIR")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "build" / "client"


def env_int(name: str, default: int, *, low: int = 0, high: int = 65535) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    return value


def normalize_database_url(url: str) -> str:
    """Accept the URL forms people paste (postgres://, postgresql://) and pick our driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("postgresql+psycopg://", "sqlite:///")):
        return url
    raise ConfigError(
        f"DATABASE_URL must be a postgresql:// URL (or sqlite:///PATH); got one starting {url.split(':', 1)[0]!r}"
    )


@dataclass(frozen=True)
class Limits:
    """How long and how much one client may hold of the appliance (see docs/install.md,
    "Limits that keep one client from taking the appliance"), in seconds and counts;
    0 for `max_connections` means "from the process's file-handle limit"."""

    header_seconds: int = 10  # to send a request's headers, from connecting or the previous answer
    idle_seconds: int = 5  # a kept-alive connection with no request
    per_address: int = 500  # open connections from one client address
    max_connections: int = 0
    stall_seconds: int = 30  # a client that takes nothing of an answer for this long is cut off
    ping_seconds: int = 20  # a WebSocket is pinged this often, and closed when it answers none this long

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            **{
                name: env_int(variable, getattr(cls, name), low=low, high=high)
                for name, (variable, low, high) in LIMIT_VARIABLES.items()
            }
        )


# Each limit's variable in the environment, and the values it accepts.
LIMIT_VARIABLES = {
    "header_seconds": ("LIFELINE_HEADER_TIMEOUT", 1, 3600),
    "idle_seconds": ("LIFELINE_IDLE_TIMEOUT", 1, 3600),
    "per_address": ("LIFELINE_MAX_CONNECTIONS_PER_ADDRESS", 1, 1_000_000),
    "max_connections": ("LIFELINE_MAX_CONNECTIONS", 0, 1_000_000),
    "stall_seconds": ("LIFELINE_STALL_TIMEOUT", 1, 3600),
    "ping_seconds": ("LIFELINE_PING_TIMEOUT", 1, 3600),
}


@dataclass(frozen=True)
class Config:
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""
    redis_url: str = ""
    limits: Limits = field(default_factory=Limits)
    client_dir: Path = field(default_factory=default_client_dir)

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> Config:
        raw_db = os.environ.get("DATABASE_URL", "")
        return cls(
            data_dir=(data_dir or default_data_dir()).resolve(),
            database_url=normalize_database_url(raw_db) if raw_db else "",
            redis_url=os.environ.get("REDIS_URL", ""),
            limits=Limits.from_env(),
        )

    @property
    def sqlite_file(self) -> Path:
        """The database when DATABASE_URL names none."""
        return self.data_dir / "lifeline.db"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_file}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    @property
    def file_store_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def scratch_dir(self) -> Path:
        """Private scratch files: backups on their way to a download, uploads, staged restores."""
        return self.data_dir / "tmp"
