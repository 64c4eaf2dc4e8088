"""Where the pages' files are, and reading their small forms. Rendering is http/pages.py's."""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import FormData
from starlette.requests import Request

HERE = Path(__file__).parent

MAX_FORM_FIELDS = 50
MAX_FORM_BYTES = 64 * 1024


async def small_form(request: Request) -> FormData | None:
    """A form of at most 50 fields and 64 KB, or None when it is bigger or unreadable."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return None
    try:
        return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except Exception:
        return None


def field(form: FormData, name: str, limit: int = 1024) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
