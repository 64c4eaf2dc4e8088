"""Routes of the pages: public site, embedded scripts, console, customer client, /login.
The sockets are realtime/routes.py's; app.py puts both in one router."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from lifeline.web.admin import admin_routes
from lifeline.web.chat import chat_page, customer_download, customer_upload
from lifeline.web.console import console_page, login_page, logout_page, rep_download, rep_upload
from lifeline.web.context import Web
from lifeline.web.embed import script_endpoint
from lifeline.web.jump import jump_endpoints
from lifeline.web.pages import HERE
from lifeline.web.presentation import attendee_page
from lifeline.web.public import StartFromLink, public_site_endpoint
from lifeline.web.transfers import transfer_endpoint
from lifeline.web.vendor import VendorFiles


def web_routes(web: Web, start_from_link: StartFromLink) -> list[BaseRoute]:
    """`start_from_link` starts the session of an invitation's link (/?ak=), as /api/start_session does."""
    install, uninstall = jump_endpoints(web)
    return [
        Route("/", public_site_endpoint(web, start_from_link)),
        Route("/jump/install", install, methods=["POST"]),
        Route("/jump/uninstall", uninstall, methods=["POST"]),
        Route("/api/clicktochat.js", script_endpoint("clicktochat.js"), methods=["GET", "HEAD"]),
        Route("/api/start_session.js", script_endpoint("start_session.js"), methods=["GET", "HEAD"]),
        Route("/chat/{token}", chat_page(web)),
        Route("/chat/{token}/files", customer_upload(web), methods=["POST"]),
        Route("/chat/{token}/files/{file_id:id}", customer_download(web)),
        Route("/presentation/{key}", attendee_page(web)),
        Route("/console", console_page(web)),
        Route("/console/login", login_page(web), methods=["GET", "POST"]),
        Route("/console/logout", logout_page(web), methods=["POST"]),
        Route("/console/sessions/{lsid}/files", rep_upload(web), methods=["POST"]),
        Route("/console/files/{file_id:id}", rep_download(web)),
        Route("/client/transfers/{transfer}", transfer_endpoint(web), methods=["GET", "HEAD", "PUT"]),
        *admin_routes(web),
        Mount("/static/vendor", VendorFiles(), name="vendor"),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
