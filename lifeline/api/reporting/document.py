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
from lifeline.api.xml import XML_DECLARATION
from lifeline.db.stream import ChunkWriter

NO_DATA = "No Support report information matching your chosen criteria is available."

# A child is an element, or (for children too large to build whole) a function that
# writes itself to the xmlfile.
Piece = etree._Element | Callable[[Any], None]


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
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        if first is None and era is Era.LATER:
            with xf.element(f"{{{namespace}}}error", nsmap={None: namespace}):
                xf.write(NO_DATA)
        else:
            with xf.element(f"{{{namespace}}}{root}", nsmap={None: namespace}):
                xf.write("\n")
                for element in header:
                    xf.write(element, pretty_print=True)
                for piece in chain([first], remaining) if first is not None else ():
                    if callable(piece):
                        piece(xf)
                    else:
                        xf.write(piece, pretty_print=True)
    out.write(b"\n")
