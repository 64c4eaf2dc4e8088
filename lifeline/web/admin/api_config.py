"""API configuration: the namespaces answers carry, OAuth API accounts (client id shown,
a secret shown once; a new secret revokes every token), and the custom session attributes
that generate_session_key and set/get_session_attributes accept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from lifeline.directory import actions as directory
from lifeline.directory.models import ApiAccount, CommandAccess, CustomAttribute
from lifeline.web.admin.base import AdminPage, FormProblem, Page, problem_text
from lifeline.web.admin.settings_form import save_settings, setting_fields, shown_values

KEYS = (
    "command_api_namespace",
    "command_api_ns_namespace",
    "reporting_api_namespace",
    "reporting_api_ns_namespace",
    "api_token_lifetime",
)
COMMAND_ACCESS = (
    (CommandAccess.FULL, "Full access"),
    (CommandAccess.READ_ONLY, "Read only"),
    (CommandAccess.DENY, "No access"),
)


async def show_api(page: Page, *, status: int = 200, error: str | None = None, **context: Any) -> Response:
    settings = await page.web.runtime.settings()
    values = shown_values(page, KEYS, settings) if error and "namespaces" in context else settings

    def load(session: Session) -> tuple[list[ApiAccount], list[CustomAttribute]]:
        accounts = list(session.scalars(select(ApiAccount).order_by(ApiAccount.name)))
        attributes = list(session.scalars(select(CustomAttribute).order_by(CustomAttribute.code_name)))
        return accounts, attributes

    accounts, attributes = await page.read(load)
    return await page.render(
        "admin/api.html",
        "API configuration",
        status=status,
        error=error,
        fields=setting_fields(KEYS, values),
        accounts=accounts,
        attributes=attributes,
        command_access=COMMAND_ACCESS,
        **context,
    )


async def api_page(page: Page) -> Response:
    if page.request.method == "GET":
        return await show_api(page)
    error = await save_settings(page, KEYS)
    if error:
        return await show_api(page, status=400, error=error, namespaces=True)
    return page.done("/login/api", "The API settings were saved.")


def _access(page: Page) -> CommandAccess:
    value = page.text("command", 16)
    if value not in {c.value for c in CommandAccess}:
        raise FormProblem("choose the account's Command API access")
    return CommandAccess(value)


async def add_account(page: Page) -> Response:
    name = page.text("name", 100)
    reporting, backup = page.flag("reporting"), page.flag("backup")

    def add(session: Session) -> tuple[ApiAccount, str]:
        return directory.add_api_account(session, name, command=_access(page), reporting=reporting, backup=backup)

    try:
        account, secret = await page.write(add)
    except (FormProblem, directory.DirectoryError) as problem:
        return await show_api(page, status=400, error=problem_text(problem))
    return await page.render("admin/api_secret.html", f"API account {account.name}", account=account, secret=secret)


def _account(session: Session, account_id: int) -> ApiAccount:
    account = session.get(ApiAccount, account_id)
    if account is None:
        raise FormProblem("there is no such API account")
    return account


async def account_page(page: Page) -> Response:
    account_id = page.path_id("account_id")
    if page.request.method == "GET":
        account = await page.read(lambda session: session.get(ApiAccount, account_id))
        if account is None:
            return await page.not_found("API account")
        return await page.render(
            "admin/api_account.html", f"API account {account.name}", account=account, command_access=COMMAND_ACCESS
        )
    reporting, backup, enabled = page.flag("reporting"), page.flag("backup"), page.flag("enabled")

    def save(session: Session) -> str:
        account = _account(session, account_id)
        directory.update_api_account(
            session, account, command=_access(page), reporting=reporting, backup=backup, enabled=enabled
        )
        return account.name

    try:
        name = await page.write(save)
    except FormProblem as problem:
        return await page.render("admin/message.html", "Not saved", status=400, message=problem_text(problem))
    return page.done(f"/login/api/accounts/{account_id}", f"API account {name} was saved.")


async def new_secret(page: Page) -> Response:
    account_id = page.path_id("account_id")

    def renew(session: Session) -> tuple[ApiAccount, str]:
        account = _account(session, account_id)
        return account, directory.new_api_secret(session, account)

    try:
        account, secret = await page.write(renew)
    except FormProblem:
        return await page.not_found("API account")
    return await page.render(
        "admin/api_secret.html", f"API account {account.name}", account=account, secret=secret, renewed=True
    )


async def change_attributes(page: Page, change: Callable[[Session], str]) -> Response:
    try:
        message = await page.write(change)
    except (FormProblem, directory.DirectoryError) as problem:
        return await show_api(page, status=400, error=problem_text(problem))
    return page.done("/login/api#custom-attributes", message)


def _attribute(session: Session, attribute_id: int) -> CustomAttribute:
    attribute = session.get(CustomAttribute, attribute_id)
    if attribute is None:
        raise FormProblem("there is no such custom attribute")
    return attribute


async def add_attribute(page: Page) -> Response:
    code_name, display_name = page.text("code_name", 64), page.text("display_name", 100)

    def add(session: Session) -> str:
        attribute = directory.add_custom_attribute(session, code_name, display_name)
        return f"session.custom.{attribute.code_name} was defined."

    return await change_attributes(page, add)


async def rename_attribute(page: Page) -> Response:
    attribute_id, display_name = page.path_id("attribute_id"), page.text("display_name", 100)

    def rename(session: Session) -> str:
        attribute = directory.update_custom_attribute(session, _attribute(session, attribute_id), display_name)
        return f"session.custom.{attribute.code_name} was saved."

    return await change_attributes(page, rename)


async def remove_attribute(page: Page) -> Response:
    attribute_id = page.path_id("attribute_id")

    def remove(session: Session) -> str:
        attribute = _attribute(session, attribute_id)
        directory.remove_custom_attribute(session, attribute)
        return f"session.custom.{attribute.code_name} was removed."

    return await change_attributes(page, remove)


PAGES = [
    AdminPage("/login/api", api_page, ("GET", "POST")),
    AdminPage("/login/api/accounts", add_account, ("POST",)),
    AdminPage("/login/api/accounts/{account_id:id}", account_page, ("GET", "POST")),
    AdminPage("/login/api/accounts/{account_id:id}/secret", new_secret, ("POST",)),
    AdminPage("/login/api/attributes", add_attribute, ("POST",)),
    AdminPage("/login/api/attributes/{attribute_id:id}", rename_attribute, ("POST",)),
    AdminPage("/login/api/attributes/{attribute_id:id}/remove", remove_attribute, ("POST",)),
]
