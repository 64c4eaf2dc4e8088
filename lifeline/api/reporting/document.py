"""Writing one streamed XML answer: the declaration, the root in the answer's namespace,
then each child as the report produces it.

What a report with nothing in it answers depends on the URL's era (see docs/decisions.md):
`.ns` answers the 1.7 guide's empty list; `/api/reporting` answers the `<error>` later
appliances send, which integrations written against them take as "no data".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

from lxml import etree

from lifeline.api.endpoint import Era
from lifeline.api.xml import XML_DECLARATION, xml_attr
from lifeline.db.stream import ChunkWriter

NO_DATA = "No Support report information matching your chosen criteria is available."

# A child is an element; XML already written, in UTF-8 (`session_xml`); or, for children
# too large to build whole, a function that writes itself (one element) to an lxml xmlfile.
Piece = etree._Element | bytes | Callable[[Any], None]


def write_document(
    out: ChunkWriter,
    namespace: str,
    era: Era,
    root: str,
    pieces: Iterable[Piece],
    *,
    header: Sequence[etree._Element] = (),
) -> None:
    remaining = iter(pieces)
    first = next(remaining, None)  # read before anything is written: a failure here is still an error answer
    out.write(XML_DECLARATION)
    xmlns = xml_attr(namespace)
    if first is None and era is Era.LATER:
        out.write(f'<error xmlns="{xmlns}">{NO_DATA}</error>\n'.encode())
        return
    out.write(f'<{root} xmlns="{xmlns}">\n'.encode())
    for element in header:
        out.write(_serialized(element))
    for piece in chain([first], remaining) if first is not None else ():
        if isinstance(piece, bytes):
            out.write(piece)
        elif callable(piece):
            with etree.xmlfile(out, encoding="UTF-8") as xf:
                piece(xf)
            out.write(b"\n")
        else:
            out.write(_serialized(piece))
    out.write(f"</{root}>\n".encode())


def _serialized(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False, pretty_print=True)
