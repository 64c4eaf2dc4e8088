"""Arbitrary parameters thrown at every report: always a valid answer (an XML document that
validates against the served XSD, or a recording file), never a 500 or a stack trace."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifeline.api.endpoint import INTERNAL
from lifeline.api.reporting.params import ALIASES, REPORT_TYPES, ReportParams
from tests.support.appliance import RunningAppliance
from tests.support.history import History
from tests.support.reporting import NS_17, NS_LATER, Reporters, ReportingApi

PARAM_NAMES = sorted(set(ReportParams.__dataclass_fields__) | set(ALIASES) | {"username", "password"})
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=500),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "-1",
            "all",
            "rep",
            "team",
            "site",
            "rep:1",
            "team:all",
            "members:1",
            "site:9",
            "2011-04-01",
            "2011-04-01 ",
            "9999-12-31",
            "0001-01-01",
            "1301644800",
            "253402300799",
            "99999999999999",
            "c69a8e10bea9428f816cfababe9815fe",
            "c69a8e10bea9428f816cfababe9815fe,a5eeaa58591047b88556f944804227b0",
            "%",
            "\x00",
            "\ufffe",
        ]
    ),
    st.integers().map(str),
)
param_dicts = st.dictionaries(st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=20)), values, max_size=8)


def check(reporting: ReportingApi, response: httpx.Response, ns: bool) -> None:
    assert response.status_code in (200, 206)
    if "xml" in response.headers["content-type"]:
        reporting.schemas.check(response, NS_17 if ns else NS_LATER)
        assert INTERNAL.encode() not in response.content  # every input has a real answer, not a caught crash
    else:
        assert response.headers["content-disposition"].startswith("attachment; filename=")


@FUZZ
@given(report=st.sampled_from(REPORT_TYPES), params=param_dicts, ns=st.booleans(), post=st.booleans())
def test_any_parameters_for_any_report_get_a_valid_answer(
    reporting: ReportingApi,
    reporters: Reporters,
    history: History,
    report: str,
    params: dict[str, str],
    ns: bool,
    post: bool,
) -> None:
    query = {**params, **reporters.everything.params, "generate_report": report}
    path = "/api/reporting.ns" if ns else "/api/reporting"
    response = reporting.client.post(path, data=query) if post else reporting.client.get(path, params=query)
    check(reporting, response, ns)


@FUZZ
@given(params=param_dicts, ns=st.booleans())
def test_any_credentials_and_reports_get_a_valid_answer(
    reporting: ReportingApi, params: dict[str, str], ns: bool
) -> None:
    response = reporting.client.get("/api/reporting.ns" if ns else "/api/reporting", params=params)
    check(reporting, response, ns)


@FUZZ
@given(raw=st.lists(st.tuples(st.binary(max_size=30), st.binary(max_size=60)), max_size=10), ns=st.booleans())
def test_any_bytes_in_the_query_string_get_a_valid_answer(
    reporting: ReportingApi, reporters: Reporters, raw: list[tuple[bytes, bytes]], ns: bool
) -> None:
    pieces = [f"{quote_from_bytes(name)}={quote_from_bytes(value)}" for name, value in raw]
    pieces += [f"username=reporter&password={reporters.everything.password}&generate_report=SupportSession"]
    response = reporting.client.get(("/api/reporting.ns" if ns else "/api/reporting") + "?" + "&".join(pieces))
    check(reporting, response, ns)


@FUZZ
@given(
    token=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=300),
    action=st.text(max_size=20),
)
def test_any_download_link_gets_an_answer_not_a_crash(reporting: ReportingApi, token: str, action: str) -> None:
    response = reporting.client.get("/session_download", params={"lsid": token, "dl_action": action, "view": "1"})
    assert response.status_code == 404


def test_nothing_crashed_while_fuzzing(appliance: RunningAppliance) -> None:
    """Runs last in this module: the appliance logged no traceback for any of the inputs above."""
    assert "Traceback" not in appliance.log_path.read_text()
