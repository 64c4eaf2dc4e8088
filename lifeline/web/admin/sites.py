"""Public sites: their hostnames, whether the general queue is open, whether the
representative list is shown, and whether the issue menu lists representatives."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.responses import Response

from lifeline.directory import actions as directory
from lifeline.directory.models import PublicSite
from lifeline.web.admin.base import AdminPage, FormProblem, Page, problem_text

FLAGS = (
    ("general_queue_open", "The general queue is open: customers may start a session without a key or an issue"),
    ("show_rep_list", "Show the representatives on duty, so customers can pick one"),
    ("show_reps_in_issue_menu", "The issue menu lists representatives instead of the teams' issues"),
)


def _site(session: Session, site_id: int) -> PublicSite:
    site = session.scalars(
        select(PublicSite).where(PublicSite.id == site_id).options(selectinload(PublicSite.hostnames))
    ).first()
    if site is None:
        raise FormProblem("there is no such public site")
    return site


def primary_first(site: PublicSite) -> list[str]:
    return [h.hostname for h in sorted(site.hostnames, key=lambda h: (not h.is_primary, h.id))]


async def list_sites(page: Page, *, status: int = 200, error: str | None = None) -> Response:
    def load(session: Session) -> list[tuple[PublicSite, list[str]]]:
        sites = session.scalars(select(PublicSite).options(selectinload(PublicSite.hostnames)).order_by(PublicSite.id))
        return [(site, primary_first(site)) for site in sites]

    values = {"name": page.text("name", 100), "hostname": page.text("hostname", 253)}
    return await page.render(
        "admin/sites.html", "Public sites", status=status, sites=await page.read(load), values=values, error=error
    )


async def sites_page(page: Page) -> Response:
    if page.request.method == "GET":
        return await list_sites(page)
    name, hostname = page.text("name", 100), page.text("hostname", 253)
    try:
        site_id = await page.write(lambda session: directory.add_site(session, name or hostname, hostname).id)
    except directory.DirectoryError as problem:
        return await list_sites(page, status=400, error=problem_text(problem))
    return page.done(f"/login/sites/{site_id}", f"Public site {name or hostname} was created.")


async def show_site(page: Page, *, status: int = 200, error: str | None = None) -> Response:
    site_id = page.path_id("site_id")

    def load(session: Session) -> tuple[PublicSite, list[str]] | None:
        try:
            site = _site(session, site_id)
        except FormProblem:
            return None
        return site, primary_first(site)

    found = await page.read(load)
    if found is None:
        return await page.not_found("public site")
    site, hostnames = found
    on_duty = [rep for rep in await page.web.runtime.logged_in_reps() if rep.showing_on_rep_list]
    return await page.render(
        "admin/site.html",
        f"Public site {site.name}",
        status=status,
        site=site,
        hostnames=hostnames,
        flags=FLAGS,
        on_duty=on_duty,
        error=error,
    )


async def change_site(page: Page, change: Callable[[Session, PublicSite], str]) -> Response:
    site_id = page.path_id("site_id")

    def run(session: Session) -> str:
        return change(session, _site(session, site_id))

    try:
        message = await page.write(run)
    except (FormProblem, directory.DirectoryError) as problem:
        return await show_site(page, status=400, error=problem_text(problem))
    return page.done(f"/login/sites/{site_id}", message)


async def site_page(page: Page) -> Response:
    if page.request.method == "GET":
        return await show_site(page)
    changes = directory.SiteChanges(name=page.text("name", 100), **{name: page.flag(name) for name, _ in FLAGS})

    def save(session: Session, site: PublicSite) -> str:
        directory.update_site(session, site, changes)
        return f"{site.name} was saved."

    return await change_site(page, save)


async def add_hostname(page: Page) -> Response:
    hostname, primary = page.text("hostname", 253), page.flag("primary")

    def add(session: Session, site: PublicSite) -> str:
        directory.add_site_hostname(session, site, hostname, primary=primary)
        return f"{directory.check_hostname(hostname)} now leads to {site.name}."

    return await change_site(page, add)


async def make_primary(page: Page) -> Response:
    hostname = page.text("hostname", 253)

    def primary(session: Session, site: PublicSite) -> str:
        if hostname not in [h.hostname for h in site.hostnames]:
            raise FormProblem(f"{hostname} is not a hostname of this site")
        directory.set_primary_hostname(session, site, hostname)
        return f"{hostname} is the primary hostname of {site.name}."

    return await change_site(page, primary)


async def remove_hostname(page: Page) -> Response:
    hostname = page.text("hostname", 253)

    def remove(session: Session, site: PublicSite) -> str:
        directory.remove_site_hostname(session, site, hostname)
        return f"{hostname} was removed from {site.name}."

    return await change_site(page, remove)


PAGES = [
    AdminPage("/login/sites", sites_page, ("GET", "POST")),
    AdminPage("/login/sites/{site_id:id}", site_page, ("GET", "POST")),
    AdminPage("/login/sites/{site_id:id}/hostnames", add_hostname, ("POST",)),
    AdminPage("/login/sites/{site_id:id}/hostnames/primary", make_primary, ("POST",)),
    AdminPage("/login/sites/{site_id:id}/hostnames/remove", remove_hostname, ("POST",)),
]
