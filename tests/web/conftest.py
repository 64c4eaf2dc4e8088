"""What the start_session tests share: a rep on duty, and session keys made as an integration makes them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.command import NS_LATER, CommandApi
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.support.xmlcheck import text_of


@pytest.fixture(scope="module")
def admin_on_duty(node: ConsoleNode, personas: Personas) -> Iterator[None]:
    gsnumber = node.log_in("admin")
    yield
    node.log_out(gsnumber)


def key(api: CommandApi, personas: Personas, **params: str) -> str:
    root = api.call("generate_session_key", personas.api_user.params, type="support", **params)
    return text_of(root, NS_LATER, "short_key")
