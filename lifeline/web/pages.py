"""Rendering pages: the Jinja2 environment, security headers, and small request helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

MAX_FORM_FIELDS = 50
MAX_FORM_BYTES = 64 * 1024

# Pages run only our own scripts and styles; nothing may frame them.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200) -> Response:
    response: HTMLResponse = templates.TemplateResponse(request, template, context or {}, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


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
