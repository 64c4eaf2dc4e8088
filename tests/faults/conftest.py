"""Private Redis and PostgreSQL servers for the tests that restart them (the machine's own
are shared with other programs and are never touched); they skip where none can start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.services import PrivatePostgres, PrivateRedis, available, private_postgres, private_redis

pytestmark = pytest.mark.skipif(bool(available()), reason=available() or "-")


@pytest.fixture(scope="module")
def redis_server() -> Iterator[PrivateRedis]:
    if available():
        pytest.skip(available())
    with private_redis() as server:
        yield server


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PrivatePostgres]:
    if available():
        pytest.skip(available())
    with private_postgres() as server:
        yield server
