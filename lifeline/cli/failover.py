"""`lifeline failover setup` and `lifeline failover status`: pair this appliance with another."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from lifeline.appliance.tls import CERT_NAME
from lifeline.bootstrap import open_appliance
from lifeline.cli.base import CliError, Commands, config_of, data_dir_and_json, emit
from lifeline.failover.pairing import (
    DEFAULT_SYNC_SECONDS,
    Pairing,
    PairingError,
    new_appliance_id,
    new_pairing_key,
    peer_certificate_path,
    read_pairing,
    signing_key_of,
    write_pairing,
)
from lifeline.failover.state import read_state, update_state


def add_commands(commands: Commands) -> None:
    failover = commands.add_parser("failover", help="pair this appliance with a backup (or a primary)")
    actions = failover.add_subparsers(dest="failover_action", required=True, metavar="ACTION")
    setup = actions.add_parser("setup", help="set this appliance's role, both addresses and the pairing")
    setup.set_defaults(run=run_setup)
    setup.add_argument("--role", required=True, choices=("primary", "backup"))
    setup.add_argument(
        "--own-url", required=True, help="this appliance's HTTPS origin, e.g. https://a.example.com:8443"
    )
    setup.add_argument("--peer-url", required=True, help="the other appliance's HTTPS origin")
    setup.add_argument(
        "--peer-certificate", required=True, type=Path, help="the other appliance's TLS certificate (PEM), pinned"
    )
    setup.add_argument(
        "--pairing-key-file",
        help="file holding the pairing key the primary's setup printed (- for standard input); "
        "required on the backup; on the primary, replaces the key",
    )
    setup.add_argument(
        "--new-pairing-key", action="store_true", help="on the primary: make and print a new pairing key"
    )
    setup.add_argument(
        "--sync-interval",
        type=float,
        default=None,
        help=f"seconds between data syncs (default {DEFAULT_SYNC_SECONDS:.0f})",
    )
    setup.add_argument(
        "--takeover-after",
        type=float,
        default=None,
        help="on the backup: become the primary after the primary has not answered for this many seconds (0: never, the default)",
    )
    status = actions.add_parser("status", help="this appliance's role, peer and last data sync")
    status.set_defaults(run=run_status)
    data_dir_and_json(setup, status)


def _origin(option: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise CliError(f"{option} must be an HTTPS origin such as https://support.example.com:8443, not {url!r}")
    return f"https://{parts.netloc}"


def _read_key(source: str) -> str:
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    return text.strip()


def _fingerprint(pem: bytes) -> str:
    certificate = x509.load_pem_x509_certificate(pem)
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


def run_setup(args: argparse.Namespace) -> None:
    config = config_of(args)
    open_appliance(config).close()  # refuses a data directory that holds no appliance
    own_url, peer_url = _origin("--own-url", args.own_url), _origin("--peer-url", args.peer_url)
    if own_url == peer_url:
        raise CliError("--own-url and --peer-url must be different appliances")
    pem = args.peer_certificate.read_bytes()
    try:
        _fingerprint(pem)
    except ValueError:
        raise CliError(f"{args.peer_certificate} is not a PEM certificate") from None
    for option, value in (("--sync-interval", args.sync_interval), ("--takeover-after", args.takeover_after)):
        if value is not None and not 0 <= value <= 86400:
            raise CliError(f"{option} must be between 0 and 86400 seconds")
    if args.sync_interval is not None and args.sync_interval < 0.5:
        raise CliError("--sync-interval must be at least 0.5 seconds")
    existing = read_pairing(config.data_dir)
    printed_key: str | None = None
    try:
        if args.pairing_key_file:
            signing_key = signing_key_of(_read_key(args.pairing_key_file))
        elif args.role == "backup" and (existing is None or args.new_pairing_key):
            raise CliError(
                "the backup needs the primary's pairing key: --pairing-key-file FILE (or - for standard input)"
            )
        elif existing is None or args.new_pairing_key:
            printed_key = new_pairing_key()
            signing_key = signing_key_of(printed_key)
        else:
            signing_key = existing.signing_key
    except PairingError as error:
        raise CliError(str(error)) from None
    pairing = Pairing(
        signing_key=signing_key,
        appliance_id=existing.appliance_id if existing else new_appliance_id(),
        sync_interval=args.sync_interval if args.sync_interval is not None else (
            existing.sync_interval if existing else DEFAULT_SYNC_SECONDS
        ),
        takeover_after=args.takeover_after if args.takeover_after is not None else (
            existing.takeover_after if existing else 0.0
        ),
        peer_appliance_id=existing.peer_appliance_id if existing else None,
        # An operator's word: of two primaries, the one set up (or taken over) last keeps it.
        primary_since=time.time() if args.role == "primary" else 0.0,
    )  # fmt: skip
    certificate = peer_certificate_path(config.data_dir)
    scratch = certificate.with_suffix(".tmp")
    shutil.copyfile(args.peer_certificate, scratch)
    os.replace(scratch, certificate)
    write_pairing(config.data_dir, pairing)
    state = update_state(config.data_dir, role=args.role, own_url=own_url, peer_url=peer_url)
    record = {"role": state.role, "own_url": own_url, "peer_url": peer_url, "appliance_id": pairing.appliance_id}
    text = f"This appliance is the {state.role}; its peer is {peer_url}."
    if printed_key:
        record["pairing_key"] = printed_key
        text += f"\nPairing key, shown only this once (give it to the backup's setup):\n    {printed_key}"
    emit(args, record, text)


def run_status(args: argparse.Namespace) -> None:
    config = config_of(args)
    state, pairing = read_state(config.data_dir), read_pairing(config.data_dir)
    certificate = peer_certificate_path(config.data_dir)
    own_certificate = Path(os.environ.get("LIFELINE_TLS_CERT") or config.tls_dir / CERT_NAME)
    record = {
        "role": state.role,
        "own_url": state.own_url,
        "peer_url": state.peer_url,
        "appliance_id": pairing.appliance_id if pairing else None,
        "paired": pairing is not None,
        "sync_interval": pairing.sync_interval if pairing else None,
        "takeover_after": pairing.takeover_after if pairing else None,
        "last_sync_time": state.last_sync_time,
        "last_sync_status": state.last_sync_status,
        "peer_certificate_sha256": _fingerprint(certificate.read_bytes()) if certificate.is_file() else None,
        "own_certificate": str(own_certificate),
    }
    if not state.configured:
        text = f"Failover is not configured. This appliance's certificate, for its peer: {own_certificate}"
    else:
        when = (
            datetime.fromtimestamp(state.last_sync_time, UTC).isoformat(timespec="seconds")
            if state.last_sync_time
            else "never"
        )
        text = "\n".join(
            [
                f"role: {state.role}",
                f"this appliance: {state.own_url}",
                f"peer: {state.peer_url} (certificate SHA-256 {record['peer_certificate_sha256']})",
                f"sync every {record['sync_interval']} s; automatic takeover after {record['takeover_after']} s (0: off)",
                f"last data sync: {when}: {state.last_sync_status or 'none yet'}",
                f"this appliance's certificate, for its peer: {own_certificate}",
            ]
        )
    emit(args, record, text)
