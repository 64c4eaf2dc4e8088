"""Two appliance processes on one PostgreSQL with Redis between them, for the Jump tests that
cross processes (they skip without both)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.appliance import RunningAppliance, two_processes


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningAppliance, RunningAppliance]]:
    with two_processes(tmp_path_factory.mktemp("pair")) as pair:
        yield pair
