"""/login's Jump Groups and Jump Clients pages over HTTP, against a real appliance and its
database: an admin makes a group with members and an installer (its key shown once, only
its SHA-256 kept, the installer script carrying key, site and certificate); an installed Jump
Client is listed, searched and deleted (revoked); a user with perm_jump_deploy sees and
manages only their own groups and personal list, and one without it is refused."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lifeline.directory.models import User
from lifeline.jump.models import JumpClient, JumpGroup, JumpGroupMember, JumpInstaller
from tests.admin.helpers import AdminClient, signed_in
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas

KEY = re.compile(r'id="jump-key">([A-Za-z0-9_\-]+)<')


def jump_group(
    appliance: RunningAppliance, name: str, *, user_ids: tuple[int, ...] = (), team_ids: tuple[int, ...] = ()
) -> int:
    def make(session: Session) -> int:
        group = JumpGroup(name=name)
        session.add(group)
        session.flush()
        session.add_all(JumpGroupMember(jump_group_id=group.id, user_id=u) for u in user_ids)
        session.add_all(JumpGroupMember(jump_group_id=group.id, team_id=t) for t in team_ids)
        return group.id

    return appliance.with_session(make)


def installed(
    appliance: RunningAppliance,
    hostname: str,
    *,
    group_id: int | None = None,
    personal: int | None = None,
    **fields: object,
) -> int:
    """A Jump Client as `jump install` leaves it (the table is the contract)."""

    def make(session: Session) -> int:
        client = JumpClient(
            public_key=secrets.token_urlsafe(32),
            jump_group_id=group_id,
            personal_user_id=personal,
            name=hostname,
            hostname=hostname,
            os="Debian GNU/Linux 13",
            platform="linux",
            private_ip="10.0.0.7",
            client_version="0.1.0",
            **fields,
        )
        session.add(client)
        session.flush()
        return client.id

    return appliance.with_session(make)


def revoked_at(appliance: RunningAppliance, client_id: int) -> object:
    return appliance.with_session(lambda s: s.get(JumpClient, client_id).revoked_at)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def deployer(appliance: RunningAppliance, personas: Personas) -> Iterator[AdminClient]:
    """rep_b, who may deploy Jump Clients (and is in Team B)."""
    appliance.with_session(
        lambda s: s.execute(update(User).where(User.id == personas.rep_b.id).values(perm_jump_deploy=True))
    )
    client = signed_in(appliance, "rep_b", personas.rep_b.password)
    yield client
    client.close()


def test_an_admin_makes_a_jump_group_with_members(
    admin: AdminClient, appliance: RunningAppliance, personas: Personas
) -> None:
    created = admin.post("/login/jump-groups", {"name": "Servers", "comments": "the racks"})
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    saved = admin.post(
        url,
        {
            "name": "Servers",
            "comments": "the racks",
            "user_id": [str(personas.rep_a.id)],
            "team_id": [str(personas.team_b)],
        },
    )
    assert saved.status_code == 303, saved.text
    page = admin.get(url)
    assert "Jump Group Servers was saved." in page.text
    group_id = int(url.rsplit("/", 1)[1])
    members = appliance.with_session(
        lambda s: {
            (m.user_id, m.team_id)
            for m in s.scalars(select(JumpGroupMember).where(JumpGroupMember.jump_group_id == group_id))
        }
    )
    assert members == {(personas.rep_a.id, None), (None, personas.team_b)}
    listing = admin.get("/login/jump-groups")
    assert "Servers" in listing.text and "the racks" in listing.text

    duplicate = admin.post("/login/jump-groups", {"name": "servers"})
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.text
    empty = admin.post("/login/jump-groups", {"name": "  "})
    assert empty.status_code == 400

    doomed = jump_group(appliance, "Doomed")
    client_id = installed(appliance, "doomed-pc", group_id=doomed)
    removed = admin.post(f"/login/jump-groups/{doomed}/remove")
    assert removed.status_code == 303
    assert appliance.with_session(lambda s: s.get(JumpGroup, doomed)) is None
    assert appliance.with_session(lambda s: s.get(JumpClient, client_id)) is None


def test_an_installer_key_is_shown_once_with_its_command_and_download(
    admin: AdminClient, appliance: RunningAppliance
) -> None:
    group = jump_group(appliance, "Kiosks")
    made = admin.post(
        "/login/jump-clients/installers",
        {"mode": "jump_client", "target": f"group:{group}", "site_id": "1", "comments": "lobby", "tag": "kiosk",
         "valid": "2", "unit": "hours", "consent": "on"},
    )  # fmt: skip
    assert made.status_code == 200, made.text
    found = KEY.search(made.text)
    assert found, made.text
    key = found.group(1)
    assert "lifeline-client jump install https://" in made.text
    assert f"--key {key} --dir /var/lib/lifeline-jump --ca appliance.pem --service" in made.text
    assert "BEGIN CERTIFICATE" in made.text
    stored = appliance.with_session(
        lambda s: s.scalars(select(JumpInstaller).where(JumpInstaller.jump_group_id == group)).one()
    )
    assert stored.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert stored.consent_required and stored.comments == "lobby" and stored.tag == "kiosk"
    assert 7000 < (stored.expires_at - stored.created_at).total_seconds() <= 7200

    listing = admin.get("/login/jump-clients")
    assert key not in listing.text  # shown once: never again
    assert "lobby" in listing.text

    script = admin.post("/login/jump-clients/installers/download", {"key": key, "format": "sh"})
    if script.status_code == 409:
        pytest.skip("no client build here (scripts/install builds build/client)")
    assert script.status_code == 200, script.text
    assert script.headers["content-disposition"] == 'attachment; filename="install-lifeline-jump.sh"'
    body = script.text
    assert body.startswith("#!/bin/sh")
    assert f"key='{key}'" in body
    assert "BEGIN CERTIFICATE" in body
    assert 'jump install "$site" --key "$key" --dir "$dir" --ca "$cert" --service' in body
    windows = admin.post("/login/jump-clients/installers/download", {"key": key, "format": "cmd"})
    assert windows.status_code == 200, windows.text
    assert windows.headers["content-disposition"] == 'attachment; filename="install-lifeline-jump.cmd"'
    assert f'set "key={key}"\r\n' in windows.text
    assert 'jump install "%site%" --key "%key%" --dir "%dir%"' in windows.text and "--service" in windows.text
    unknown = admin.post("/login/jump-clients/installers/download", {"key": "x" * 43, "format": "sh"})
    assert unknown.status_code == 404

    bad = admin.post(
        "/login/jump-clients/installers",
        {"mode": "jump_client", "target": f"group:{group}", "valid": "soon", "unit": "days"},
    )
    assert bad.status_code == 400
    assert "hours or days" in bad.text


def test_installed_jump_clients_are_listed_searched_and_deleted(
    admin: AdminClient, appliance: RunningAppliance
) -> None:
    group = jump_group(appliance, "Branch office")
    first = installed(appliance, "till-01", group_id=group, comments="front desk", tag="pos")
    installed(appliance, "till-02", group_id=group, comments="back office")
    listing = admin.get("/login/jump-clients", params={"q": "front"})
    assert "till-01" in listing.text and "till-02" not in listing.text
    assert "Branch office" in listing.text

    deleted = admin.post(f"/login/jump-clients/{first}/remove")
    assert deleted.status_code == 303
    assert "till-01 was removed" in admin.get(deleted.headers["location"]).text
    assert revoked_at(appliance, first) is not None
    assert "till-01" not in admin.get("/login/jump-clients").text


def test_a_deployer_sees_and_manages_only_their_own(
    deployer: AdminClient, rep: AdminClient, appliance: RunningAppliance, personas: Personas
) -> None:
    theirs = jump_group(appliance, "Team B machines", team_ids=(personas.team_b,))
    others = jump_group(appliance, "Finance machines", user_ids=(personas.rep_a.id,))
    mine = installed(appliance, "b-laptop", group_id=theirs)
    personal = installed(appliance, "b-home", personal=personas.rep_b.id)
    foreign = installed(appliance, "finance-pc", group_id=others)

    page = deployer.get("/login/jump-clients")
    assert page.status_code == 200
    assert "b-laptop" in page.text and "b-home" in page.text
    assert "finance-pc" not in page.text
    assert f'value="group:{theirs}"' in page.text and f'value="group:{others}"' not in page.text

    refused = deployer.post(
        "/login/jump-clients/installers",
        {"mode": "jump_client", "target": f"group:{others}", "valid": "1", "unit": "days"},
    )
    assert refused.status_code == 400
    made = deployer.post(
        "/login/jump-clients/installers", {"mode": "jump_client", "target": "personal", "valid": "1", "unit": "days"}
    )
    assert made.status_code == 200 and KEY.search(made.text)

    assert deployer.post(f"/login/jump-clients/{foreign}/remove").status_code == 400
    assert revoked_at(appliance, foreign) is None
    assert deployer.post(f"/login/jump-clients/{personal}/remove").status_code == 303
    assert revoked_at(appliance, personal) is not None
    assert revoked_at(appliance, mine) is None

    assert deployer.get("/login/jump-groups").status_code == 403  # groups are the admins'
    assert "Jump Clients" in deployer.get("/login/account").text  # in their menu

    # rep_a may not deploy: refused, in words.
    page = rep.get("/login/jump-clients")
    assert page.status_code == 403
    assert "may deploy Jump Clients" in page.text
    assert rep.post(f"/login/jump-clients/{mine}/remove").status_code == 403


def test_the_jump_settings_are_in_the_appliance_page(admin: AdminClient) -> None:
    page = admin.get("/login/appliance")
    for key in (
        "jump_statistics",
        "jump_statistics_interval",
        "jump_connect_rate",
        "jump_offline_days",
        "jump_upgrade_rate",
    ):
        assert f'name="{key}"' in page.text, key


def test_the_users_page_gives_the_permission_to_deploy(admin: AdminClient, appliance: RunningAppliance) -> None:
    page = admin.get("/login/users/new")
    assert 'name="perm_jump_deploy"' in page.text and "May deploy Jump Clients" in page.text
    created = admin.post(
        "/login/users/new",
        {"username": "deployer", "password": "deployer-secret-1", "password_again": "deployer-secret-1",
         "display_name": "Dee Ployer", "kind": "Normal", "perm_view_reports": "none", "perm_support": "on",
         "perm_jump_deploy": "on"},
    )  # fmt: skip
    assert created.status_code == 303, created.text
    assert 'name="perm_jump_deploy" checked' in admin.get(created.headers["location"]).text
    with signed_in(appliance, "deployer", "deployer-secret-1") as dee:
        assert dee.get("/login/jump-clients").status_code == 200
