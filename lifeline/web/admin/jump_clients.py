"""Jump Clients: making installers (a key and a command shown once, and a download that
installs the client as a service), the installed Jump Clients and Jumpoints with search and
Delete, and the installers still listed.

Admins see and manage everything. A user with perm_jump_deploy sees only what is pinned to
the Jump Groups they are a member of (themselves or through a team) and to their personal
list, and makes installers for those alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session
from starlette.responses import Response

from lifeline.appliance.client_downloads import ClientDownloads, pin_of
from lifeline.appliance.tls import served_certificate
from lifeline.appliance.urls import public_base_url
from lifeline.db.base import utcnow
from lifeline.directory.models import User
from lifeline.jump import actions as jump
from lifeline.jump import install_scripts
from lifeline.jump.models import JumpClient, JumpGroup, JumpInstaller, JumpMode
from lifeline.jump.queries import group_ids_for
from lifeline.web.admin.base import Access, AdminPage, FormProblem, Page, problem_text

PAGE_ROWS = 100
PERSONAL = "personal"
UNITS = {"hours": 3600, "days": 86400}
MODES = {JumpMode.JUMP_CLIENT.value: "Jump Client", JumpMode.JUMPOINT.value: "Jumpoint"}


@dataclass(frozen=True)
class Target:
    key: str  # "group:ID" or "personal"
    name: str


@dataclass(frozen=True)
class ClientRow:
    client: JumpClient
    listed_in: str


@dataclass(frozen=True)
class InstallerRow:
    installer: JumpInstaller
    listed_in: str
    expired: bool


# --- who may see what ----------------------------------------------------------------------------


def _targets(session: Session, page: Page) -> list[Target]:
    """Where this user may put new Jump Clients: the groups they may use (an admin: all of
    them), and their personal list."""
    query = select(JumpGroup).order_by(JumpGroup.name)
    if not page.me.admin:
        query = query.where(JumpGroup.id.in_(group_ids_for(session, page.me.user_id)))
    return [Target(f"group:{g.id}", g.name) for g in session.scalars(query)] + [Target(PERSONAL, "My personal list")]


def _visible(session: Session, page: Page, owner: Any) -> ColumnElement[bool]:
    """The rows (JumpClient or JumpInstaller) this user may see and remove."""
    if page.me.admin:
        return true()
    return or_(
        owner.personal_user_id == page.me.user_id,
        owner.jump_group_id.in_(group_ids_for(session, page.me.user_id)),
    )


def _listed_in(groups: dict[int, str], users: dict[int, str], group_id: int | None, user_id: int | None) -> str:
    if group_id is not None:
        return groups.get(group_id, "")
    return f"Personal list of {users.get(user_id or 0, 'a removed user')}"


def _names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    groups = dict(session.execute(select(JumpGroup.id, JumpGroup.name)).tuples().all())
    users = dict(session.execute(select(User.id, User.display_name)).tuples().all())
    return groups, users


# --- the page --------------------------------------------------------------------------------------


async def show(page: Page, *, status: int = 200, error: str | None = None) -> Response:
    search = page.request.query_params.get("q", "")[:255].strip()
    offset_text = page.request.query_params.get("offset", "0")
    offset = int(offset_text) if offset_text.isdigit() and len(offset_text) < 8 else 0

    def load(session: Session) -> dict[str, Any]:
        groups, users = _names(session)
        query = select(JumpClient).where(JumpClient.revoked_at.is_(None), _visible(session, page, JumpClient))
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(
                or_(
                    *(
                        getattr(JumpClient, f).ilike(pattern, escape="\\")
                        for f in ("name", "hostname", "comments", "tag", "private_ip", "public_ip")
                    )
                )
            )
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        clients = session.scalars(query.order_by(JumpClient.name, JumpClient.id).offset(offset).limit(PAGE_ROWS))
        installers = session.scalars(
            select(JumpInstaller)
            .where(_visible(session, page, JumpInstaller))
            .order_by(JumpInstaller.created_at.desc())
        )
        now = utcnow()
        return {
            "clients": [ClientRow(c, _listed_in(groups, users, c.jump_group_id, c.personal_user_id)) for c in clients],
            "total": total,
            "installers": [
                InstallerRow(i, _listed_in(groups, users, i.jump_group_id, i.personal_user_id), i.expires_at <= now)
                for i in installers
            ],
            "targets": _targets(session, page),
        }

    found = await page.read(load)
    directory = await page.web.runtime.directory()
    form = {
        "mode": page.text("mode", 16) or JumpMode.JUMP_CLIENT.value,
        "name": page.text("name", 255),
        "target": page.text("target", 32),
        "site_id": page.text("site_id", 12),
        "comments": page.text("comments", 1024),
        "tag": page.text("tag", 255),
        "valid": page.text("valid", 6) or "7",
        "unit": page.text("unit", 8) or "days",
        "consent": page.flag("consent") if page.request.method == "POST" else True,
    }
    return await page.render(
        "admin/jump_clients.html",
        "Jump Clients",
        status=status,
        error=error,
        search=search,
        offset=offset,
        page_rows=PAGE_ROWS,
        sites=directory.sites,
        modes=MODES,
        form=form,
        **found,
    )


async def clients_page(page: Page) -> Response:
    return await show(page)


# --- making an installer -----------------------------------------------------------------------------


def _valid_seconds(page: Page) -> int:
    amount, unit = page.text("valid", 6), page.text("unit", 8)
    if not amount.isdigit() or unit not in UNITS or int(amount) < 1:
        raise FormProblem("say for how many hours or days the installer stays valid (a whole number)")
    return int(amount) * UNITS[unit]


async def _site_url(page: Page, site_id: int | None) -> str:
    directory = await page.web.runtime.directory()
    site = next((s for s in directory.sites if s.id == site_id), directory.default_site)
    settings = await page.web.runtime.settings()
    return public_base_url(site.primary_hostname, page.web.runtime.https_port_for_urls(settings))


def _downloads(page: Page) -> ClientDownloads:
    config = page.web.runtime.config
    return ClientDownloads(config.client_dir, config.tls_dir)


async def add_installer(page: Page) -> Response:
    mode = page.text("mode", 16)
    target, site_text = page.text("target", 32), page.text("site_id", 12)
    name, comments, tag = page.text("name", 255), page.text("comments", 1024), page.text("tag", 255)
    consent = page.flag("consent")

    def make(session: Session) -> tuple[JumpInstaller, str, str]:
        if mode not in MODES:
            raise FormProblem("choose a Jump Client or a Jumpoint")
        chosen = next((t for t in _targets(session, page) if t.key == target), None)
        if chosen is None:
            raise FormProblem("choose a Jump Group you are a member of, or your personal list")
        valid = _valid_seconds(page)
        installer, key = jump.add_installer(
            session,
            mode=mode,
            group_id=int(target[6:]) if target.startswith("group:") else None,
            personal_user_id=page.me.user_id if target == PERSONAL else None,
            public_site_id=int(site_text) if site_text.isdigit() and len(site_text) < 10 else None,
            name=name,
            comments=comments,
            tag=tag,
            valid_seconds=valid,
            consent_required=consent,
            created_by=page.me.user_id,
        )
        return installer, key, chosen.name

    try:
        installer, key, listed_in = await page.write(make)
    except (FormProblem, jump.JumpError) as problem:
        return await show(page, status=400, error=problem_text(problem))
    site = await _site_url(page, installer.public_site_id)
    certificate = served_certificate(page.web.runtime.config.tls_dir)
    build = _downloads(page).build()
    platforms = set(build.zipapps) if build else set()
    posix_dir, ca = install_scripts.POSIX_DIR_ROOT, "appliance.pem"
    return await page.render(
        "admin/jump_installer.html",
        "Jump Client installer",
        installer=installer,
        key=key,
        listed_in=listed_in,
        mode_name=MODES[installer.mode],
        site=site,
        pem=pin_of(certificate).pem if certificate is not None else "",
        command=install_scripts.install_command(site, key, posix_dir, ca, service=False),
        service_command=install_scripts.install_command(site, key, posix_dir, ca, service=True),
        posix=bool(platforms - {"windows-amd64"}),
        windows="windows-amd64" in platforms,
    )


async def download_installer(page: Page) -> Response:
    """The installer script of a key just made (the key page's download buttons post it)."""
    key, kind = page.text("key", 128), page.text("format", 8)

    def find(session: Session) -> JumpInstaller | None:
        return session.scalars(
            select(JumpInstaller).where(
                JumpInstaller.key_sha256 == jump.key_sha256(key), _visible(session, page, JumpInstaller)
            )
        ).first()

    installer = await page.read(find) if key else None
    if installer is None:
        return await page.render(
            "admin/message.html", "No such installer", status=404, message="That installer key is not known here."
        )
    if installer.expires_at <= utcnow():
        return await page.render(
            "admin/message.html",
            "Installer expired",
            status=400,
            message="That installer key has expired; make a new one.",
        )
    build = _downloads(page).build()
    if build is None:
        return await page.render(
            "admin/message.html",
            "No client to install",
            status=409,
            message="This appliance has no Lifeline client built to download; use the one-line command instead.",
        )
    site = await _site_url(page, installer.public_site_id)
    try:
        if kind == "cmd":
            body, name, media = (
                install_scripts.windows(site, key, build),
                "install-lifeline-jump.cmd",
                "application/octet-stream",
            )
        else:
            body, name, media = install_scripts.posix(site, key, build), "install-lifeline-jump.sh", "application/x-sh"
    except install_scripts.NotInstallable as problem:
        return await page.render(
            "admin/message.html", "No client to install", status=409, message=problem_text(problem)
        )
    return Response(
        body,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"},
    )


# --- removing ------------------------------------------------------------------------------------------


async def remove_client(page: Page) -> Response:
    client_id = page.path_id("jump_client_id")

    def remove(session: Session) -> str:
        client = session.scalars(
            select(JumpClient).where(
                JumpClient.id == client_id, JumpClient.revoked_at.is_(None), _visible(session, page, JumpClient)
            )
        ).first()
        if client is None:
            raise FormProblem("there is no such Jump Client, or you may not remove it")
        jump.revoke(session, client.id, by_user=page.me.user_id)
        return f"{client.name or client.hostname} was removed: it uninstalls itself when it next connects."

    try:
        message = await page.write(remove)
    except FormProblem as problem:
        return await show(page, status=400, error=problem_text(problem))
    return page.done("/login/jump-clients", message)


async def remove_installer(page: Page) -> Response:
    installer_id = page.path_id("installer_id")

    def remove(session: Session) -> str:
        installer = session.scalars(
            select(JumpInstaller).where(JumpInstaller.id == installer_id, _visible(session, page, JumpInstaller))
        ).first()
        if installer is None:
            raise FormProblem("there is no such installer, or you may not delete it")
        session.delete(installer)
        return "The installer was deleted: its key installs nothing more (what it installed stays)."

    try:
        message = await page.write(remove)
    except FormProblem as problem:
        return await show(page, status=400, error=problem_text(problem))
    return page.done("/login/jump-clients", message)


PAGES = [
    AdminPage("/login/jump-clients", clients_page, ("GET",), access=Access.JUMP_DEPLOY),
    AdminPage("/login/jump-clients/installers", add_installer, ("POST",), access=Access.JUMP_DEPLOY),
    AdminPage("/login/jump-clients/installers/download", download_installer, ("POST",), access=Access.JUMP_DEPLOY),
    AdminPage(
        "/login/jump-clients/installers/{installer_id:id}/remove",
        remove_installer,
        ("POST",),
        access=Access.JUMP_DEPLOY,
    ),
    AdminPage("/login/jump-clients/{jump_client_id:id}/remove", remove_client, ("POST",), access=Access.JUMP_DEPLOY),
]
