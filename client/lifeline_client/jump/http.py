"""Small HTTPS calls to the appliance for installing and removing (JSON in, JSON out), and
the download of an upgrade; always with the installation's own trust."""

from __future__ import annotations

import http.client
import json
import ssl
from typing import Any

from lifeline_client.errors import ClientError
from lifeline_client.start import Site

TIMEOUT = 20.0  # seconds for the appliance to answer
MAX_ANSWER = 64 * 1024  # bytes of a JSON answer read


class Refused(ClientError):
    """The appliance answered with an error: `status` and its own words."""

    def __init__(self, status: int, words: str) -> None:
        super().__init__(words)
        self.status = status


class Unreachable(ClientError):
    """No answer at all: the appliance is down, or the network."""


def post_json(site: Site, path: str, body: dict[str, Any], context: ssl.SSLContext) -> dict[str, Any]:
    connection = site.connection(context, timeout=TIMEOUT)
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "lifeline-client"},
        )
        response = connection.getresponse()
        raw = response.read(MAX_ANSWER)
    except ssl.SSLCertVerificationError as error:
        raise ClientError(f"{site.origin} is not trusted: {error.verify_message}") from None
    except (OSError, http.client.HTTPException) as error:
        raise Unreachable(f"cannot reach {site.origin}: {error}") from None
    finally:
        connection.close()
    try:
        answer = json.loads(raw) if raw else {}
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    if response.status >= 400:
        words = str(answer.get("error") or "").strip()[:500]
        raise Refused(response.status, words or f"the appliance refused it ({response.status} {response.reason})")
    return answer


def download(site: Site, path: str, context: ssl.SSLContext, limit: int) -> bytes:
    """GET `path` from the appliance, at most `limit` bytes (more is an error)."""
    connection = site.connection(context, timeout=TIMEOUT * 6)
    try:
        connection.request("GET", path, headers={"User-Agent": "lifeline-client"})
        response = connection.getresponse()
        if response.status != 200:
            raise ClientError(f"the appliance did not serve {path[:200]} ({response.status})")
        data = response.read(limit + 1)
    except ssl.SSLCertVerificationError as error:
        raise ClientError(f"{site.origin} is not trusted: {error.verify_message}") from None
    except (OSError, http.client.HTTPException) as error:
        raise ClientError(f"cannot download from {site.origin}: {error}") from None
    finally:
        connection.close()
    if len(data) > limit:
        raise ClientError(f"{path[:200]} is larger than announced")
    return data
