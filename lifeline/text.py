"""Text rules shared by every input: lengths and characters XML 1.0 can carry, and JSON
read from outside."""

from __future__ import annotations

import json
import re
from typing import Any

# Characters outside XML 1.0's Char production (C0 controls other than tab, LF, CR;
# surrogates; U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def is_xml_safe(value: str) -> bool:
    return _NOT_XML.search(value) is None


def xml_safe(value: str) -> str:
    """`value` with the characters XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def check_text(value: str, limit: int, *, allow_empty: bool = False) -> str | None:
    """Why `value` is not acceptable as a stored name or field, or None when it is."""
    if not value and not allow_empty:
        return "must not be empty"
    if len(value) > limit:
        return f"must be at most {limit} characters"
    if not is_xml_safe(value):
        return "contains control characters"
    return None


def parse_json(data: str | bytes | bytearray) -> Any:
    """JSON that came from outside; ValueError for anything unreadable. Nesting deeper than
    the parser recurses (a few thousand `[`) is unreadable too, not a RecursionError."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
