"""The admin interface's tests: a real appliance per module with the personas, and
/login sessions signed in as them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.admin.helpers import AdminClient, signed_in
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas


@pytest.fixture(scope="module")
def admin(appliance: RunningAppliance, personas: Personas) -> Iterator[AdminClient]:
    client = signed_in(appliance, "admin", personas.admin.password)
    yield client
    client.close()


@pytest.fixture(scope="module")
def rep(appliance: RunningAppliance, personas: Personas) -> Iterator[AdminClient]:
    client = signed_in(appliance, "rep_a", personas.rep_a.password)
    yield client
    client.close()
