"""get_api_info: the API version, the server's clock, and the caller's permissions."""

from __future__ import annotations

import time

from tests.support.command import NS_17, CommandApi, error_of
from tests.support.personas import Personas
from tests.support.xmlcheck import q, text_of


def permissions(root, namespace):  # type: ignore[no-untyped-def]
    return {p.get("name"): p.text for p in root.findall(q(namespace, "permissions/permission"))}


def test_it_reports_an_admins_permissions_as_the_17_guide_names_them(api: CommandApi, personas: Personas) -> None:
    root = api.call("get_api_info", personas.admin.params, ns=True)
    assert root.tag == f"{{{NS_17}}}api_information"
    assert permissions(root, NS_17) == {
        "perm_use_command_api": "1",
        "perm_use_reporting_api": "1",
        "perm_admin": "1",
        "perm_view_reports": "all_sessions",
        "perm_view_sd_recordings": "1",
        "perm_sd_allowed": "1",
    }
    assert text_of(root, NS_17, "user_id") == "1"


def test_its_timestamp_is_the_appliances_now_in_unix_seconds(api: CommandApi, personas: Personas) -> None:
    root = api.call("get_api_info", personas.rep_a.params, ns=True)
    assert abs(int(text_of(root, NS_17, "timestamp")) - time.time()) < 5


def test_it_answers_users_without_command_api_permission(api: CommandApi, personas: Personas) -> None:
    root = api.call("get_api_info", personas.no_api.params)
    namespace = root.nsmap[None]
    assert permissions(root, namespace)["perm_use_command_api"] == "0"
    assert text_of(root, namespace, "user_id") == str(personas.no_api.id)


def test_it_reports_an_api_accounts_later_permissions(api: CommandApi, personas: Personas, client) -> None:  # type: ignore[no-untyped-def]
    root = api.call("get_api_info", personas.readonly.token(client))
    namespace = root.nsmap[None]
    assert permissions(root, namespace) == {
        "perm_command": "read_only",
        "perm_reporting_support": "1",
        "perm_backup": "0",
    }
    assert root.find(q(namespace, "user_id")) is None
    assert text_of(root, namespace, "company_name") == "Lifeline"


def test_it_rejects_a_wrong_password(api: CommandApi, personas: Personas) -> None:
    root = api.call("get_api_info", {"username": "rep_a", "password": "wrong"}, ns=True)
    assert error_of(root) == "Login failed"
