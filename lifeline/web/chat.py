"""The browser customer client: its page, and files sent to and from the customer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from lifeline.http.pages import render
from lifeline.presence.queries import connection_by_resume_token
from lifeline.sessions import actions as engine
from lifeline.sessions.events import Actor, ActorType
from lifeline.sessions.models import SessionFile, SupportSession
from lifeline.web.context import Web
from lifeline.web.files import download, store_and_record


def chat_page(web: Web) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        token = request.path_params["token"]
        connection = await web.runtime.db.read(connection_by_resume_token, token)
        common = await web.common()
        if connection is None or connection.disconnected_at is not None:
            return render(
                request,
                "message.html",
                {
                    **common,
                    "heading": "This support session is over",
                    "message": "Thank you for contacting us.",
                    "back_url": "/",
                    "back_label": "Back to the support site",
                },
                status=410,
            )
        return render(request, "chat.html", {**common, "token": token})

    return page


def customer_upload(web: Web) -> Callable[[Request], Awaitable[Response]]:
    async def upload(request: Request) -> Response:
        token = request.path_params["token"]

        def find_session(session: Session) -> SupportSession | None:
            connection = connection_by_resume_token(session, token)
            if connection is None or connection.disconnected_at is not None or connection.session_id is None:
                return None
            return session.get(SupportSession, connection.session_id)

        def who(session: Session, support_session: SupportSession) -> Actor:
            connection = connection_by_resume_token(session, token)
            assert connection is not None
            actor = engine.customer_actor(session, support_session)
            return (
                actor
                if actor.gsnumber == connection.gsnumber
                else Actor(ActorType.CUSTOMER, connection.gsnumber, "Customer")
            )

        return await store_and_record(request, web.files, web.runtime.db, who, find_session)

    return upload


def customer_download(web: Web) -> Callable[[Request], Awaitable[Response]]:
    async def get(request: Request) -> Response:
        token = request.path_params["token"]
        file_id = request.path_params["file_id"]

        def find(session: Session) -> SessionFile | None:
            connection = connection_by_resume_token(session, token)
            row = session.get(SessionFile, file_id)
            if connection is None or row is None or row.session_id != connection.session_id:
                return None
            return row

        row = await web.runtime.db.read(find)
        if row is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        return download(web.files, row)

    return get
