"""Signing into /login from tests the way a browser does, and posting its forms."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support.appliance import RunningAppliance

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


class AdminClient:
    """One browser's worth of /login: a cookie jar, signed in as someone."""

    def __init__(self, appliance: RunningAppliance, *, source: str | None = None) -> None:
        self.client = appliance.client(source=source)
        self.csrf = ""

    def sign_in(self, username: str, password: str) -> httpx.Response:
        token = csrf_of(self.client.get("/login"))
        response = self.client.post("/login", data={"csrf": token, "username": username, "password": password})
        if response.status_code == 303 and "lifeline_session" in self.client.cookies:
            self.csrf = csrf_of(self.client.get("/login/password"))  # open even when a change is due
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, **kwargs)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def signed_in(appliance: RunningAppliance, username: str, password: str) -> AdminClient:
    admin = AdminClient(appliance)
    response = admin.sign_in(username, password)
    assert response.status_code == 303, response.text
    return admin
