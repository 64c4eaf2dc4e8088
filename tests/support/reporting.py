"""Calling the Reporting API as an integration does, checking every XML answer against the
XSD the appliance serves, and the people who ask for reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from lxml import etree

from tests.support.appliance import RunningAppliance
from tests.support.personas import Account, User
from tests.support.xmlcheck import SchemaCheck

NS_17 = "http://www.networkstreaming.com/namespaces/API"
NS_LATER = "https://www.bomgar.com/namespaces/API/reporting"
NO_DATA = "No Support report information matching your chosen criteria is available."


class ReportingApi:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.schemas = SchemaCheck(client, "/api/reporting.xsd")

    def raw(
        self,
        report: str | None,
        auth: dict[str, str] | str | None,
        *,
        ns: bool = False,
        method: str = "GET",
        **params: Any,
    ) -> httpx.Response:
        """`auth` is username/password parameters, or a bearer token string."""
        path = "/api/reporting.ns" if ns else "/api/reporting"
        query: dict[str, Any] = {}
        headers: dict[str, str] = {}
        if isinstance(auth, dict):
            query.update(auth)
        elif isinstance(auth, str):
            headers["Authorization"] = f"Bearer {auth}"
        if report is not None:
            query["generate_report"] = report
        query.update(params)
        if method == "GET":
            return self.client.get(path, params=query, headers=headers)
        return self.client.post(path, data=query, headers=headers)

    def call(
        self, report: str | None, auth: dict[str, str] | str | None, *, ns: bool = False, **params: Any
    ) -> etree._Element:
        response = self.raw(report, auth, ns=ns, **params)
        return self.schemas.check(response, NS_17 if ns else NS_LATER)

    def check(self, response: httpx.Response, *, ns: bool) -> etree._Element:
        return self.schemas.check(response, NS_17 if ns else NS_LATER)


def children(root: etree._Element, tag: str) -> list[etree._Element]:
    return [child for child in root if etree.QName(child).localname == tag]


def child(element: etree._Element, tag: str) -> etree._Element:
    found = [c for c in element if etree.QName(c).localname == tag]
    assert len(found) == 1, (tag, [etree.QName(c).localname for c in element])
    return found[0]


def has(element: etree._Element, tag: str) -> bool:
    return any(etree.QName(c).localname == tag for c in element)


def text(element: etree._Element, path: str) -> str:
    for part in path.split("/"):
        element = child(element, part)
    return element.text or ""


def tags(element: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in element]


def sessions_by_lsid(root: etree._Element) -> dict[str, etree._Element]:
    return {s.get("lsid") or "": s for s in children(root, "session")}


@dataclass(frozen=True)
class Reporters:
    """People who ask for reports:

    - everything: reporting API, all sessions, recordings
    - no_recordings: reporting API, all sessions, no recordings
    - lead_a: a member of Team A who sees their teams' sessions (takes none themselves)
    - own_b: rep_b, who sees their own sessions
    - no_view: reporting API but no permission to view reports
    - no_api: views all reports but may not use the reporting API
    - test: the guide's `test` user (an administrator with every permission)
    - integration: an API account with reporting (from the personas)
    - noreport: an API account without reporting
    """

    everything: User
    no_recordings: User
    lead_a: User
    own_b: User
    no_view: User
    no_api: User
    test: User
    integration: Account
    noreport: Account


def provision_reporters(appliance: RunningAppliance, rep_b: User, integration: Account) -> Reporters:
    def user(username: str, *flags: str) -> User:
        record = appliance.cli_json("user", "add", username, "--password", f"{username}-password", *flags)
        return User(username, f"{username}-password", record["id"])

    everything = user("reporter", "--reporting-api", "--view-reports", "all_sessions", "--view-recordings")
    no_recordings = user("auditor", "--reporting-api", "--view-reports", "all_sessions")
    lead_a = user("lead_a", "--reporting-api", "--view-reports", "team_sessions", "--support")
    appliance.cli("team", "set", "Team A", "--member", "lead_a")
    appliance.cli("user", "set", "rep_b", "--reporting-api", "--view-reports", "user_sessions", "--view-recordings")
    no_view = user("no_view", "--reporting-api")
    no_api = user("no_reporting_api", "--view-reports", "all_sessions")
    test = user("test", "--admin", "--reporting-api", "--view-reports", "all_sessions", "--view-recordings")
    record = appliance.cli_json("api-account", "add", "noreport", "--command", "full")
    noreport = Account("noreport", record["client_id"], record["client_secret"])
    return Reporters(everything, no_recordings, lead_a, rep_b, no_view, no_api, test, integration, noreport)
