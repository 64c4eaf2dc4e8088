"""Where the session is and the customer's token for it: from a chat URL (`attach`), or by
starting a session through the Session Generation API (`connect`, `rep`, `issue`) as a
browser would, reading the token from the redirect to `/chat/<token>`."""

from __future__ import annotations

import asyncio
import html
import http.client
import re
import ssl
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode, urlsplit

from lifeline_client.errors import ClientError

HTTP_TIMEOUT = 20.0  # seconds for the appliance to answer a start
MAX_PAGE = 64 * 1024  # bytes of an error page read to explain a refusal
BROWSER_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"  # a browser's start: no launcher
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


@dataclass(frozen=True)
class Site:
    """An appliance's public site: always HTTPS."""

    host: str  # as in the URL (an IPv6 address in brackets)
    port: int

    @property
    def origin(self) -> str:
        return f"https://{self.host}" if self.port == 443 else f"https://{self.host}:{self.port}"

    @property
    def server_hostname(self) -> str:
        return self.host.strip("[]")

    def connection(self, context: ssl.SSLContext, timeout: float = HTTP_TIMEOUT) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.server_hostname, self.port, context=context, timeout=timeout)


@dataclass(frozen=True)
class Target:
    """A session to join: its site and the customer's token (secret: never printed)."""

    site: Site
    token: str

    def __repr__(self) -> str:
        return f"Target(site={self.site!r}, token=…)"


def parse_site(url: str) -> Site:
    """`https://SITE[:port][/]` or a bare host name; plain http is refused."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise ClientError(f"not a site address: {url[:200]}") from None
    if parts.scheme != "https":
        raise ClientError("the site address must start with https://")
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    if not _HOST.fullmatch(host) or parts.username or parts.password:
        raise ClientError(f"not a site address: {url[:200]}")
    return Site(host, port)


def parse_chat_url(url: str) -> Target:
    """`https://HOST/chat/TOKEN`, as a launcher passes it."""
    site = parse_site(url)
    path = urlsplit(url.strip()).path
    match = re.fullmatch(r"/chat/([^/]+)/?", path)
    if match is None or not _TOKEN.fullmatch(match.group(1)):
        raise ClientError("the chat address must look like https://HOST/chat/TOKEN")
    return Target(site, match.group(1))


async def start_session(site: Site, params: dict[str, str], context: ssl.SSLContext) -> Target:
    """Start a session with the Session Generation API and take its customer token."""
    query = urlencode({name: value for name, value in params.items() if value})
    location, status, page = await asyncio.to_thread(_get, site, f"/api/start_session?{query}", context)
    if status in (301, 302, 303, 307, 308) and location:
        match = re.fullmatch(r"/chat/([A-Za-z0-9_-]{1,128})", urlsplit(location).path)
        if match:
            return Target(site, match.group(1))
    if status == 200 and "customer_name" in page:
        raise ClientError("the site asks for your name first: add --name")
    raise ClientError(f"the site did not start a session ({status}): {_explain(page)}")


def _get(site: Site, path: str, context: ssl.SSLContext) -> tuple[str, int, str]:
    connection = site.connection(context)
    try:
        connection.request("GET", path, headers={"Accept": BROWSER_ACCEPT, "User-Agent": "lifeline-client"})
        response = connection.getresponse()
        page = response.read(MAX_PAGE).decode("utf-8", errors="replace")
        return response.getheader("Location", ""), response.status, page
    except ssl.SSLCertVerificationError as error:
        raise ClientError(f"{site.origin} is not trusted: {error.verify_message}") from None
    except (OSError, http.client.HTTPException) as error:
        raise ClientError(f"cannot reach {site.origin}: {error}") from None
    finally:
        connection.close()


def _explain(page: str) -> str:
    """The refusal page's own words: its heading and first paragraph, as plain text."""
    said = [
        re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>", "", found))).strip()
        for found in re.findall(r"<(?:h1|p)[^>]*>(.*?)</(?:h1|p)>", page, flags=re.S | re.I)[:2]
    ]
    return ": ".join(text for text in said if text)[:300] or "no reason given"


def key_params(key: str) -> dict[str, str]:
    return {"short_key": "".join(key.split())}


_REP_LINK = re.compile(r'href="/api/start_session\?id=(\d{1,9})&amp;name=([^"]*)"')


async def rep_params(site: Site, rep: str, name: str, context: ssl.SSLContext) -> dict[str, str]:
    """A representative link (`id` and the rep's `name`): a name is looked up on the public
    site's list of representatives, as a customer would pick it there."""
    rep = rep.strip()
    if rep.isdigit():
        return {"id": rep, "customer_name": name}
    _, status, page = await asyncio.to_thread(_get, site, "/", context)
    for rep_id, quoted in _REP_LINK.findall(page if status == 200 else ""):
        shown = unquote_plus(html.unescape(quoted))
        if shown.casefold() == rep.casefold():
            return {"id": rep_id, "name": shown, "customer_name": name}
    raise ClientError(f"no representative named {rep[:100]!r} is on the site's list now; use their id")


def issue_params(issue: str, name: str, details: str) -> dict[str, str]:
    return {"issue_menu": "1", "id": issue.strip(), "customer_name": name, "customer_desc": details}
