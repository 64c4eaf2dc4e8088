"""/api/start_session(.ns): every parameter set of the guide and later versions, the site of
the request's host, and a page saying what to do when nothing can start."""

from __future__ import annotations

import hashlib
import re
import ssl
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.db.base import utcnow
from lifeline.directory.models import PublicSite
from lifeline.presence.models import ClientConnection
from lifeline.sessions.models import SessionAttribute, SessionKey, SupportSession
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import CommandApi
from tests.support.personas import Personas
from tests.support.sockets import BROWSER
from tests.web.conftest import key

pytestmark = pytest.mark.usefixtures("team_a_on_duty")


@pytest.fixture(scope="module")
def web(appliance: RunningAppliance) -> Iterator[httpx.Client]:
    """A browser: it navigates with text/html in Accept (scripts without it get a download,
    tests/web/test_start_session_download.py)."""
    with appliance.client(follow_redirects=False, headers={"Host": "support.example.com", **BROWSER}) as client:
        yield client


def started(appliance: RunningAppliance, response: httpx.Response) -> SupportSession:
    assert response.status_code == 303, (response.status_code, response.text[:300])
    token = re.fullmatch(r"/chat/([\w-]+)", response.headers["location"])
    assert token is not None

    def read(session: Session) -> SupportSession:
        connection = session.scalars(
            select(ClientConnection).where(
                ClientConnection.resume_token_sha256 == hashlib.sha256(token.group(1).encode()).hexdigest()
            )
        ).one()
        found = session.get(SupportSession, connection.session_id)
        assert found is not None
        return found

    return appliance.with_session(read)


def test_a_session_key_starts_a_session_in_the_keys_queue(
    web: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    short_key = key(api, personas, queue_id=f"team:{personas.team_b}", external_key="K-1")
    found = started(appliance, web.get("/api/start_session.ns", params={"short_key": short_key}))
    assert (found.queue_kind, found.queue_ref_id, found.external_key, found.start_method) == (
        "team",
        personas.team_b,
        "K-1",
        "session_key",
    )
    assert found.public_site_id == 1


def test_an_external_key_typed_with_the_session_key_wins(
    web: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    short_key = key(api, personas, queue_id="general", external_key="FROM-API")
    response = web.post("/api/start_session", data={"short_key": f" {short_key} ", "external_key": "TYPED"})
    assert started(appliance, response).external_key == "TYPED"


def test_a_rep_link_starts_in_the_reps_queue_when_they_are_logged_in(
    web: httpx.Client, appliance: RunningAppliance, admin_on_duty: None
) -> None:
    link = {"id": "1", "name": "Admin", "customer_name": "Rhea Link"}
    found = started(appliance, web.get("/api/start_session.ns", params=link))
    assert (found.queue_kind, found.queue_ref_id, found.start_method) == ("rep", 1, "representative")
    assert found.customer_name == "Rhea Link"
    # The guide's platform link is a download even from a browser; tests/web/test_start_session_download.py.
    found = started(appliance, web.get("/api/start_session.ns", params={**link, "platform": "web"}))
    assert found.queue_kind == "rep"


def test_a_rep_link_without_the_customers_name_asks_it_and_starts_nothing(
    web: httpx.Client, appliance: RunningAppliance, admin_on_duty: None
) -> None:
    def sessions(session: Session) -> int:
        return session.scalar(select(func.count()).select_from(SupportSession)) or 0

    before = appliance.with_session(sessions)
    for params in ({"id": "1", "name": "Admin"}, {"id": "1", "name": "Admin", "customer_name": " "}):
        response = web.get("/api/start_session.ns", params=params)
        assert response.status_code == 200
        assert 'name="customer_name"' in response.text
        assert '<input type="hidden" name="id" value="1">' in response.text
        assert web.head("/api/start_session.ns", params=params).status_code == 200
    assert appliance.with_session(sessions) == before
    # Carried values are escaped like every other.
    response = web.get("/api/start_session.ns", params={"id": "1", "name": '"><script>'})
    assert 'value="&#34;&gt;&lt;script&gt;"' in response.text


def test_the_issue_submission_survey_with_every_field(
    web: httpx.Client, appliance: RunningAppliance, personas: Personas
) -> None:
    query = (
        "issue_menu=1&customer_name=John%20Doe&customer_company=Company%20Name&customer_company_code=1234"
        f"&customer_desc=I%20need%20support&id={personas.issue_error}&external_key=1234"
    )
    found = started(appliance, web.get(f"/api/start_session.ns?{query}"))
    assert (found.queue_kind, found.queue_ref_id) == ("team", personas.team_a)
    assert (found.customer_name, found.customer_company, found.customer_company_code, found.customer_details) == (
        "John Doe",
        "Company Name",
        "1234",
        "I need support",
    )
    assert (found.customer_issue, found.external_key, found.start_method) == (
        str(personas.issue_error),
        "1234",
        "issue",
    )


def test_the_later_parameters(web: httpx.Client, appliance: RunningAppliance, personas: Personas) -> None:
    appliance.cli("custom-attribute", "add", "serial", "Serial number")
    data = {
        "issue_menu": "1",
        "codeName": "i_need_help_getting_started",
        "customer.name": "Kim Later",
        "customer.company": "Initech",
        "customer.company_code": "IN-1",
        "customer.details": "Cannot print",
        "session.custom.external_key": "NoMAD",
        "session.custom.serial": "C02XYZ",
        "c2cjs": "1",
        "locale": "en-us",
    }
    found = started(appliance, web.post("/api/start_session", data=data))
    assert (found.queue_ref_id, found.customer_name, found.customer_company, found.external_key) == (
        personas.team_a,
        "Kim Later",
        "Initech",
        "NoMAD",
    )


def test_no_issue_goes_to_the_general_queue_while_it_is_open(web: httpx.Client, appliance: RunningAppliance) -> None:
    for params in ({"issue_menu": "1"}, {"issue_menu": "1", "id": "0"}, {"issue_menu": "1", "id": ""}):
        assert started(appliance, web.get("/api/start_session", params=params)).queue_kind == "general"


def test_the_session_belongs_to_the_site_of_the_requests_host(
    appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    site = appliance.cli_json("site", "add", "remote.example.com")
    with appliance.client(follow_redirects=False, headers={"Host": "remote.example.com", **BROWSER}) as remote:

        def on_remote_site() -> None:
            found = started(appliance, remote.get("/api/start_session", params={"issue_menu": "1"}))
            assert found.public_site_id == site["id"]

        eventually(on_remote_site)


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"short_key": "1111111"}, 404, "That session key is not valid"),
        ({"id": "3", "name": "Bob Rep"}, 409, "not available right now"),
        ({"id": "999999", "name": "Nobody"}, 409, "not available right now"),
        ({"issue_menu": "1", "id": "424242"}, 404, "That issue is not offered here"),
        ({"issue_menu": "1", "codeName": "no_such_issue"}, 404, "That issue is not offered here"),
        ({}, 400, "Enter your session key"),
        ({"issue_menu": "1", "customer_name": "x" * 101}, 400, "Your name can be at most 100 characters"),
        ({"issue_menu": "1", "customer_desc": "x" * 1025}, 400, "at most 1024 characters"),
        ({"issue_menu": "1", "customer.details": "é" * 600}, 400, "at most 1024 characters"),
        ({"issue_menu": "1", "customer_name": "bell\x07"}, 400, "not allowed"),
    ],
)
def test_what_cannot_start_gets_a_page_saying_what_to_do(
    web: httpx.Client, params: dict[str, str], status: int, says: str
) -> None:
    response = web.get("/api/start_session", params=params)
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]
    assert says in response.text


def test_used_and_expired_keys_say_so(
    web: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    short_key = key(api, personas, queue_id="general")
    started(appliance, web.get("/api/start_session", params={"short_key": short_key}))
    again = web.get("/api/start_session", params={"short_key": short_key})
    assert again.status_code == 410
    assert "already been used" in again.text
    expiring = key(api, personas, queue_id="general")

    def expire(session: Session) -> None:
        session.execute(
            update(SessionKey)
            .where(SessionKey.short_key == expiring)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    appliance.with_session(expire)
    response = web.get("/api/start_session", params={"short_key": expiring})
    assert (response.status_code, "has expired" in response.text) == (410, True)


def test_a_closed_general_queue_asks_for_an_issue(web: httpx.Client, appliance: RunningAppliance) -> None:
    def close(session: Session) -> None:
        site = session.get(PublicSite, 1)
        assert site is not None
        site.general_queue_open = False
        stamps.bump(session, stamps.DIRECTORY)

    appliance.with_session(close)
    response = web.get("/api/start_session", params={"issue_menu": "1"})
    assert (response.status_code, "Please choose an issue" in response.text) == (400, True)


def test_head_starts_nothing_and_answers_with_the_status_of_a_get(
    web: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    def count(session: Session) -> int:
        return session.scalar(select(func.count()).select_from(SupportSession)) or 0

    before = appliance.with_session(count)
    assert (
        web.head("/api/start_session", params={"issue_menu": "1", "id": str(personas.issue_error)}).status_code == 200
    )
    short_key = key(api, personas, queue_id="general")
    assert web.head("/api/start_session", params={"short_key": short_key}).status_code == 200
    assert web.head("/api/start_session", params={"issue_menu": "1", "id": "424242"}).status_code == 404
    assert appliance.with_session(count) == before
    started(appliance, web.get("/api/start_session", params={"short_key": short_key}))  # HEAD left the key unused


def test_guessing_keys_is_limited_per_address(web: httpx.Client) -> None:
    statuses = [
        web.get("/api/start_session", params={"short_key": f"{n:07d}"}).status_code for n in range(1000001, 1000026)
    ]
    assert statuses[:19] == [404] * 19
    assert statuses[-1] == 429


def attributes_of(appliance: RunningAppliance, found: SupportSession) -> dict[str, str]:
    return appliance.with_session(
        lambda session: {
            row.code_name: row.value
            for row in session.scalars(select(SessionAttribute).where(SessionAttribute.session_id == found.id))
        }
    )


@pytest.fixture(scope="module")
def eleven_attributes(appliance: RunningAppliance) -> list[str]:
    names = [f"field_{n}" for n in range(11)]
    for name in names:
        appliance.cli("custom-attribute", "add", name, name.replace("_", " ").title())
    return names


def test_a_customer_sets_only_defined_attributes_within_the_command_apis_limits(
    web: httpx.Client, appliance: RunningAppliance, personas: Personas, eleven_attributes: list[str]
) -> None:
    issue = {"issue_menu": "1", "id": str(personas.issue_started)}

    def defined_ones_only() -> None:
        response = web.post(
            "/api/start_session",
            data={**issue, "session.custom.field_0": "kept", "session.custom.made_up": "dropped"},
        )
        assert attributes_of(appliance, started(appliance, response)) == {"field_0": "kept"}

    eventually(defined_ones_only)
    too_long = web.post("/api/start_session", data={**issue, "session.custom.field_1": "x" * 1025})
    assert too_long.status_code == 400
    assert "session.custom.field_1 is longer than 1024 characters" in too_long.text
    together = {f"session.custom.{name}": "y" * 1000 for name in eleven_attributes}
    over = web.post("/api/start_session", data={**issue, **together})
    assert over.status_code == 400
    assert "longer than 10 KB together" in over.text
    undefined_and_huge = {f"session.custom.junk_{n}": "z" * 1024 for n in range(195)}
    response = web.post("/api/start_session", data={**issue, **undefined_and_huge})
    assert attributes_of(appliance, started(appliance, response)) == {}


def test_the_customer_cannot_overwrite_what_the_integration_set_on_the_key(
    web: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas, eleven_attributes: list[str]
) -> None:
    def keyed() -> str:
        return key(api, personas, queue_id="general", **{"session.custom.field_2": "FROM-API"})

    short_key = eventually(keyed)
    with from_address(appliance, "127.0.0.6") as customer:  # this module's wrong keys blocked 127.0.0.1
        response = customer.post(
            "/api/start_session",
            data={"short_key": short_key, "session.custom.field_2": "FORGED", "session.custom.field_3": "added"},
        )
    assert attributes_of(appliance, started(appliance, response)) == {"field_2": "FROM-API", "field_3": "added"}


def test_an_address_starts_at_most_so_many_sessions_in_ten_minutes(
    appliance: RunningAppliance, personas: Personas
) -> None:
    issue = {"issue_menu": "1", "id": str(personas.issue_started)}
    appliance.cli_settled("settings", "set", "session_starts_per_address", "3")
    try:
        with from_address(appliance, "127.0.0.7") as office:
            for _ in range(3):
                started(appliance, office.post("/api/start_session", data=issue))
            refused = office.post("/api/start_session", data=issue)
            assert refused.status_code == 429
            assert "Too many support sessions were started from your network" in refused.text
            assert office.head("/api/start_session", params={**issue}).status_code == 429
        with from_address(appliance, "127.0.0.8") as elsewhere:
            started(appliance, elsewhere.post("/api/start_session", data=issue))
    finally:
        appliance.cli_settled("settings", "set", "session_starts_per_address", "60")


def from_address(appliance: RunningAppliance, address: str) -> httpx.Client:
    """A browser on another loopback address (another customer network, as the appliance sees it)."""
    context = ssl.create_default_context(cafile=str(appliance.cert_path))
    context.check_hostname = False
    return httpx.Client(
        base_url=appliance.https,
        transport=httpx.HTTPTransport(verify=context, local_address=address),
        follow_redirects=False,
        headers={"Host": "support.example.com", **BROWSER},
        timeout=30,
    )
