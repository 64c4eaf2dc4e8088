"""A forgiving decoder for query strings and form bodies.

Integrations in the field send what they send: raw `%` signs in passwords (`8$54%RGx`),
Latin-1 bytes (`%E9`), JavaScript `escape()` output (`%u00E9`), unencoded spaces and
quotes. A real appliance accepted all of it, so we do too: an escape that is not one
is kept as text, and bytes that are not UTF-8 are read as Latin-1. Nothing here fails.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(rb"%u([0-9A-Fa-f]{4})|%([0-9A-Fa-f]{2})")


def _unescape(raw: bytes) -> str:
    raw = raw.replace(b"+", b" ")
    if b"%" not in raw:
        return _decode(raw)
    parts: list[str] = []
    pending = bytearray()
    last = 0
    for match in _ESCAPE.finditer(raw):
        pending += raw[last : match.start()]
        if match.group(1):  # %uXXXX from JavaScript's escape()
            parts.append(_decode(bytes(pending)))
            pending.clear()
            parts.append(chr(int(match.group(1), 16)))
        else:
            pending.append(int(match.group(2), 16))
        last = match.end()
    pending += raw[last:]
    parts.append(_decode(bytes(pending)))
    text = "".join(parts)
    # escape() writes a character beyond U+FFFF as two %u escapes (a surrogate pair): join
    # them, and make a lone half U+FFFD, which everything downstream can encode.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_query(raw: bytes, *, max_fields: int) -> list[tuple[str, str]]:
    """Name/value pairs in order; a name without `=` (`&showmembers`) has the value ""."""
    pairs: list[tuple[str, str]] = []
    for piece in raw.split(b"&"):
        if not piece:
            continue
        if len(pairs) >= max_fields:
            raise ValueError(f"more than {max_fields} parameters")
        name, _, value = piece.partition(b"=")
        pairs.append((_unescape(name), _unescape(value)))
    return pairs
