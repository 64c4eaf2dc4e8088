"""Pages any adapter answers with: the Jinja2 environment over the public site's templates
(web/templates: /api/start_session's browser answers are pages of the public site), and the
security headers every page carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

# The templates stay with the pages that are most of them; the loader finds them by path.
TEMPLATES = Path(__file__).parent.parent / "web" / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))

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
