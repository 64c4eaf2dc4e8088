"""Checks every XML answer the way integrations read it, and validates it against the XSD
the appliance itself serves."""

from __future__ import annotations

import re

import httpx
from lxml import etree

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class SchemaCheck:
    def __init__(self, client: httpx.Client, xsd_path: str) -> None:
        self.client = client
        self.xsd_path = xsd_path
        self._schemas: dict[str, etree.XMLSchema] = {}

    def schema(self, namespace: str) -> etree.XMLSchema:
        if namespace not in self._schemas:
            response = self.client.get(self.xsd_path, params={"namespace": namespace})
            assert response.status_code == 200, response.text
            self._schemas[namespace] = etree.XMLSchema(etree.fromstring(response.content))
        return self._schemas[namespace]

    def check(self, response: httpx.Response, namespace: str) -> etree._Element:
        """The answer's root after checking framing, namespace and the schema."""
        assert response.status_code == 200, (response.status_code, response.text[:500])
        assert "xml" in response.headers["content-type"]
        body = response.content
        assert body.startswith(DECLARATION), body[:80]
        assert re.match(rb"^<\?xml[^>]*\?>\s*<(\w+)[\s>]", body), "root not found the way integrations find it"
        root = etree.fromstring(body)
        assert root.prefix is None
        assert etree.QName(root).namespace == namespace, (etree.QName(root).namespace, namespace)
        schema = self.schema(namespace)
        if not schema.validate(root):
            raise AssertionError(f"does not validate: {schema.error_log}\n{body.decode()}")
        return root


def q(namespace: str, path: str) -> str:
    """An ElementPath in the answer's namespace: q(ns, "rep/display_name")."""
    return "/".join(f"{{{namespace}}}{part}" if part not in (".", "..", "*") else part for part in path.split("/"))


def texts(root: etree._Element, namespace: str, path: str) -> list[str]:
    return [element.text or "" for element in root.findall(q(namespace, path))]


def text_of(root: etree._Element, namespace: str, path: str) -> str:
    element = root.find(q(namespace, path))
    assert element is not None, f"{path} missing"
    return element.text or ""
