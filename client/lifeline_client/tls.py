"""Whom the client trusts (the contract's "Trust"): by hand, the system's certificate
authorities plus `--ca FILE`; from a launcher, `--pin FILE`: only the certificate(s) in it.
Hostnames are always checked and verification is never turned off."""

from __future__ import annotations

import ssl
from pathlib import Path

from lifeline_client.errors import ClientError

MAX_CERT_FILE = 1024 * 1024  # a PEM bundle larger than this is not a certificate file


def trust(*, ca: Path | None = None, pin: Path | None = None) -> ssl.SSLContext:
    """The TLS context for every connection to the appliance (socket and HTTP alike)."""
    if pin is not None:
        # Only the pinned certificate(s): no system store at all.
        context = ssl.create_default_context(cafile=_pem(pin, "--pin"))
    else:
        context = ssl.create_default_context()
        if ca is not None:
            _load(context, ca, "--ca")
    # The appliance's own certificate is a leaf (CA:FALSE): let it be a trust anchor itself.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _pem(path: Path, option: str) -> str:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ClientError(f"{option} {path}: {error.strerror or error}") from None
    if size > MAX_CERT_FILE:
        raise ClientError(f"{option} {path}: too large for a certificate file")
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError):
        raise ClientError(f"{option} {path}: holds no PEM certificate") from None
    return str(path)


def _load(context: ssl.SSLContext, path: Path, option: str) -> None:
    try:
        context.load_verify_locations(cafile=_pem(path, option))
    except (ssl.SSLError, OSError):
        raise ClientError(f"{option} {path}: holds no PEM certificate") from None
