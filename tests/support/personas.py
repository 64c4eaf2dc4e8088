"""The people of a small help desk, provisioned through the `lifeline` command:

- admin: the administrator made on first start (every permission)
- rep_a: a representative in Team A, shown on the public rep list
- rep_b: a representative in Team B
- embassy_rep: a member of the Partner Embassy
- api_user: a user with command API access who may give remote support, not an admin
- no_api: a representative without command API access
- integration / readonly / noaccess: OAuth API accounts with full, read-only and no command access
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance


@dataclass(frozen=True)
class User:
    username: str
    password: str
    id: int

    @property
    def params(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}


@dataclass(frozen=True)
class Account:
    name: str
    client_id: str
    client_secret: str

    def token(self, client: httpx.Client) -> str:
        response = client.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(self.client_id, self.client_secret)
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@dataclass(frozen=True)
class Personas:
    admin: User
    rep_a: User
    rep_b: User
    embassy_rep: User
    api_user: User
    no_api: User
    integration: Account
    readonly: Account
    noaccess: Account
    team_a: int
    team_b: int
    embassy: int
    issue_started: int
    issue_error: int


def provision(appliance: RunningAppliance) -> Personas:
    def user(username: str, display: str, *flags: str) -> User:
        record = appliance.cli_json(
            "user", "add", username, "--password", f"{username}-password", "--display-name", display, *flags
        )
        return User(username, f"{username}-password", record["id"])

    def account(name: str, command: str) -> Account:
        record = appliance.cli_json("api-account", "add", name, "--command", command, "--reporting")
        return Account(name, record["client_id"], record["client_secret"])

    rep_a = user("rep_a", "Alice Rep", "--support", "--show-on-rep-list")
    rep_b = user("rep_b", "Bob Rep", "--support", "--show-on-rep-list")
    embassy_rep = user("embassy_rep", "Erin Partner", "--support")
    api_user = user("api_user", "Integration User", "--command-api", "--support")
    no_api = user("no_api", "Nora NoApi", "--support")
    team_a = appliance.cli_json(
        "team",
        "add",
        "Team A",
        "--member",
        "rep_a",
        "--issue",
        "I need help getting started",
        "--issue",
        "I am receiving an error",
    )
    team_b = appliance.cli_json("team", "add", "Team B", "--member", "rep_b")
    embassy = appliance.cli_json("team", "add", "Partner Embassy", "--embassy", "--member", "embassy_rep")
    return Personas(
        admin=User("admin", ADMIN_PASSWORD, 1),
        rep_a=rep_a,
        rep_b=rep_b,
        embassy_rep=embassy_rep,
        api_user=api_user,
        no_api=no_api,
        integration=account("integration", "full"),
        readonly=account("readonly", "read_only"),
        noaccess=account("noaccess", "deny"),
        team_a=team_a["id"],
        team_b=team_b["id"],
        embassy=embassy["id"],
        issue_started=team_a["issues"][0]["id"],
        issue_error=team_a["issues"][1]["id"],
    )
