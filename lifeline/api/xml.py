"""Building XML answers: one declaration, a default namespace on the root, one element per line."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
XML_CONTENT_TYPE = "text/xml; charset=UTF-8"


class Builder:
    """Makes elements in one namespace, which the root declares as its default (never a prefix)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._prefix = "{" + namespace + "}"

    def root(self, tag: str, **attrs: str) -> etree._Element:
        element = etree.Element(self._prefix + tag, nsmap={None: self.namespace})  # type: ignore[dict-item]
        for name, value in attrs.items():
            element.set(name, value)
        return element

    def child(self, parent: etree._Element, tag: str, text: str | int | None = None, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, self._prefix + tag)
        for name, value in attrs.items():
            element.set(name, value)
        if text is not None:
            element.text = str(text)
        return element


def document(root: etree._Element) -> bytes:
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def error_document(namespace: str, message: str) -> bytes:
    builder = Builder(namespace)
    return document(_with_text(builder.root("error"), message))


def _with_text(element: etree._Element, text: str) -> etree._Element:
    element.text = text
    return element


def iso8601(moment: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with a numeric offset (never Z), seconds precision."""
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


def unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))
