"""Checking Client Scripting API answers the way browsers and integrations take them."""

from __future__ import annotations

import re

import httpx
from lxml import etree

from lifeline.clientscript import Script, parse_script
from tests.support.command import NS_17, NS_LATER
from tests.support.xmlcheck import SchemaCheck


class ClientScriptApi:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        # Errors are Command API error documents, so the Command API's schema describes them.
        self.schemas = SchemaCheck(client, "/api/command.xsd")

    def download(self, response: httpx.Response) -> tuple[str, Script]:
        """The file name and the script of a download, after checking how it is offered."""
        assert response.status_code == 200, (response.status_code, response.text[:500])
        assert response.headers["content-type"] == "application/octet-stream", response.text[:500]
        assert response.headers["cache-control"] == "no-store"
        disposition = response.headers["content-disposition"]
        match = re.fullmatch(r"attachment; filename=([\w.-]+)", disposition)
        assert match, disposition
        name = match.group(1)
        # A shell script's `grep -o 'filename=.*$'` and a VBScript's "after the first =" agree.
        assert re.search(r"filename=.*$", disposition).group(0) == f"filename={name}"  # type: ignore[union-attr]
        assert disposition[disposition.index("=") + 1 :] == name
        assert int(response.headers["content-length"]) == len(response.content)
        return name, parse_script(response.content)

    def error(self, response: httpx.Response, *, ns: bool) -> str:
        """The message of an error answer, after validating it against the served schema."""
        root = self.schemas.check(response, NS_17 if ns else NS_LATER)
        assert etree.QName(root).localname == "error"
        assert len(root) == 0 and not root.attrib
        assert "content-disposition" not in response.headers
        return root.text or ""
