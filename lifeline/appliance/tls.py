"""The appliance's TLS certificate: self-signed for the site hostname on first start,
or the operator's own through LIFELINE_TLS_CERT and LIFELINE_TLS_KEY."""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lifeline.config import ConfigError

CERT_NAME = "appliance.crt"
KEY_NAME = "appliance.key"


def certificate_file(tls_dir: Path) -> Path:
    """The certificate the appliance serves: the operator's, else its own."""
    return Path(os.environ.get("LIFELINE_TLS_CERT") or tls_dir / CERT_NAME)


def served_certificate(tls_dir: Path) -> x509.Certificate | None:
    """The certificate the appliance presents (the first of the file: its own, before any
    chain), which the launchers carry as their only trust; None before the first start."""
    try:
        return x509.load_pem_x509_certificates(certificate_file(tls_dir).read_bytes())[0]
    except (OSError, ValueError):
        return None


def ensure_certificate(tls_dir: Path, hostname: str) -> tuple[Path, Path]:
    custom_cert, custom_key = os.environ.get("LIFELINE_TLS_CERT"), os.environ.get("LIFELINE_TLS_KEY")
    if custom_cert or custom_key:
        if not (custom_cert and custom_key):
            raise ConfigError("set both LIFELINE_TLS_CERT and LIFELINE_TLS_KEY, or neither")
        for path in (custom_cert, custom_key):
            if not Path(path).is_file():
                raise ConfigError(f"{path} does not exist")
        return Path(custom_cert), Path(custom_key)
    cert_path, key_path = tls_dir / CERT_NAME, tls_dir / KEY_NAME
    if cert_path.exists() and key_path.exists() and _covers(cert_path, hostname):
        return cert_path, key_path
    tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_self_signed(cert_path, key_path, hostname)
    return cert_path, key_path


def _covers(cert_path: Path, hostname: str) -> bool:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    still_valid = cert.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=7)
    return still_valid and hostname in names.get_values_for_type(x509.DNSName)


def _write_self_signed(cert_path: Path, key_path: Path, hostname: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(hostname)]
    if hostname != "localhost":
        alt_names.append(x509.DNSName("localhost"))
    alt_names += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
