"""Calling the Command API as an integration does, and checking every answer."""

from __future__ import annotations

from typing import Any

import httpx
from lxml import etree

from tests.support.xmlcheck import SchemaCheck

NS_17 = "http://www.networkstreaming.com/namespaces/API"
NS_LATER = "https://www.bomgar.com/namespaces/API/command"


class CommandApi:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.schemas = SchemaCheck(client, "/api/command.xsd")

    def call(
        self,
        action: str | None,
        auth: dict[str, str] | str | None,
        *,
        ns: bool = False,
        method: str = "GET",
        namespace: str | None = None,
        **params: Any,
    ) -> etree._Element:
        """`auth` is username/password parameters, or a bearer token string."""
        path = "/api/command.ns" if ns else "/api/command"
        query: dict[str, Any] = {}
        headers: dict[str, str] = {}
        if isinstance(auth, dict):
            query.update(auth)
        elif isinstance(auth, str):
            headers["Authorization"] = f"Bearer {auth}"
        if action is not None:
            query["action"] = action
        query.update({key.replace("__", "."): value for key, value in params.items()})
        if method == "GET":
            response = self.client.get(path, params=query, headers=headers)
        else:
            response = self.client.post(path, data=query, headers=headers)
        return self.schemas.check(response, namespace or (NS_17 if ns else NS_LATER))


def error_of(root: etree._Element) -> str | None:
    """The error message, whether the error is the root or the only child of the expected root."""
    if etree.QName(root).localname == "error":
        return root.text or ""
    children = list(root)
    if len(children) == 1 and etree.QName(children[0]).localname == "error":
        return children[0].text or ""
    return None


def local(element: etree._Element) -> str:
    return etree.QName(element).localname
