"""Requests to the peer appliance: HTTPS that trusts only the peer's pinned certificate,
each request signed with the pair's key (`pairing.sign`)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from lifeline.failover.pairing import SIGNATURE_HEADER, Pairing, peer_certificate_path, sign

TIMEOUT_SECONDS = 10.0


class PeerUnreachable(Exception):
    """The peer did not answer, or not as a paired appliance does; the text says which."""


@dataclass(frozen=True)
class Peer:
    url: str
    pairing: Pairing
    certificate: Path

    @classmethod
    def of(cls, data_dir: Path, url: str, pairing: Pairing) -> Peer:
        return cls(url.rstrip("/"), pairing, peer_certificate_path(data_dir))

    def _context(self) -> ssl.SSLContext:
        if not self.certificate.is_file():
            raise PeerUnreachable("the peer's certificate is missing (lifeline failover setup --peer-certificate)")
        context = ssl.create_default_context(cafile=str(self.certificate))
        # Trust is the pinned certificate alone, so the name in it need not match the
        # address we dial; PARTIAL_CHAIN lets a CA-issued leaf be pinned by itself.
        context.check_hostname = False
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        return context

    def open(self, method: str, target: str, body: bytes = b"", *, timeout: float = TIMEOUT_SECONDS) -> IO[bytes]:
        """The answer's body as a stream (the caller closes it); PeerUnreachable otherwise."""
        if not self.url.startswith("https://"):
            raise PeerUnreachable(f"the peer's address {self.url} is not an HTTPS origin")
        # Only https:// reaches here (checked above), so no file: or other scheme is opened.
        request = urllib.request.Request(  # noqa: S310
            self.url + target, data=body if method == "POST" else None, method=method
        )
        request.add_header(SIGNATURE_HEADER, sign(self.pairing.signing_key, method, target, body))
        request.add_header("content-type", "application/octet-stream")
        try:
            answer = urllib.request.urlopen(request, timeout=timeout, context=self._context())  # noqa: S310
            return cast(IO[bytes], answer)
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode(errors="replace").strip()
            raise PeerUnreachable(f"the peer at {self.url} refused: {detail or error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise PeerUnreachable(f"the peer at {self.url} is not answering ({reason})") from None

    def json(self, method: str, target: str, payload: Any = None, *, timeout: float = TIMEOUT_SECONDS) -> Any:
        body = json.dumps(payload).encode() if payload is not None else b""
        with self.open(method, target, body, timeout=timeout) as answer:
            try:
                return json.loads(answer.read())
            except (ValueError, OSError) as error:
                raise PeerUnreachable(f"the peer at {self.url} answered badly ({type(error).__name__})") from None
