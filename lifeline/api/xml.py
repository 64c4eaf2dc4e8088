"""Building XML answers: one declaration, a default namespace on the root, one element per line."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from lxml import etree

from lifeline.text import is_xml_safe, xml_safe

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
    """ISO 8601 with a numeric offset (never Z), seconds precision, for an aware moment."""
    return _iso8601_at(int(moment.timestamp() // 1), moment, zone)


def unix_and_iso8601(moment: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """`unix(moment)` and `iso8601(moment, zone)`, the moment read once (a report writes
    both for every time)."""
    stamp = moment.timestamp()
    return str(int(stamp)), _iso8601_at(int(stamp // 1), moment, zone)


def _iso8601_at(seconds: int, moment: datetime, zone: ZoneInfo) -> str:
    hour = seconds // 3600
    shift, suffix = _OFFSETS.get((zone, hour)) or _offset_through_the_hour(zone, hour)
    if not suffix:  # the hour of a clock change: the slow way
        return _iso8601_exactly(moment, zone)
    day, second = divmod(seconds + shift, 86400)
    day_text = _DATES.get(day) or _date(day)
    return f"{day_text}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}{suffix}"


def _iso8601_exactly(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


# Converting through ZoneInfo costs some 6 µs a time, and a report writes two times per
# session. A zone's offset is looked up once per UTC hour it is the same for all through;
# an hour in which the clock changes is written the slow way. Both caches stay small: a
# report walks its sessions in time order, and they are emptied when they grow.
_CHANGES = (0, "")
_OFFSETS: dict[tuple[ZoneInfo, int], tuple[int, str]] = {}
_DATES: dict[int, str] = {}
_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _offset_through_the_hour(zone: ZoneInfo, hour: int) -> tuple[int, str]:
    """The hour's offset in seconds and as written after the time, or `_CHANGES`."""
    if len(_OFFSETS) > 4096:
        _OFFSETS.clear()
    start = datetime.fromtimestamp(hour * 3600, UTC).astimezone(zone)
    end = datetime.fromtimestamp(hour * 3600 + 3599, UTC).astimezone(zone)
    offset = start.utcoffset()
    if offset is None or offset != end.utcoffset() or offset.microseconds:
        found = _CHANGES
    else:
        found = (int(offset.total_seconds()), start.isoformat()[19:])
    _OFFSETS[(zone, hour)] = found
    return found


def _date(day: int) -> str:
    if len(_DATES) > 4096:
        _DATES.clear()
    written = _DATES[day] = date.fromordinal(day + _UNIX_EPOCH_ORDINAL).isoformat()
    return written


def unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


# Escaping as libxml2 does it, for answers written as text rather than built as elements.


# What makes text need more than copying: markup characters, CR, and what XML cannot carry.
_NEEDS_ESCAPING = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """Element text as libxml2 escapes it; characters XML cannot carry become U+FFFD."""
    if _NEEDS_ESCAPING.search(value) is None:  # nearly always: one scan and done
        return value
    if not is_xml_safe(value):
        value = xml_safe(value)
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"}
)


def xml_attr(value: str) -> str:
    """An attribute value (already XML-safe) as libxml2 escapes it."""
    return value.translate(_ATTRIBUTE)
