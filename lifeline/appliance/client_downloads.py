"""The Lifeline client as the appliance serves it: the files scripts/install built into the
client folder (`Config.client_dir`), as its `manifest.json` lists them, and the
certificate the launchers carry to trust this appliance alone.

Only a name the manifest lists is ever served, and only from that folder: nothing a
request names is joined to a path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lifeline.appliance.tls import certificate_file, served_certificate

log = logging.getLogger("lifeline")

MANIFEST = "manifest.json"
ARTIFACT_NAME = re.compile(r"lifeline-client-[0-9A-Za-z.+]+-[a-z0-9_]+-[a-z0-9_]+(-wheels\.zip|\.pyz)\Z")
SHA256 = re.compile(r"[0-9a-f]{64}\Z")
PYTHON = re.compile(r"3\.[0-9]{2}\Z")
PLATFORMS = ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64", "windows-amd64")


@dataclass(frozen=True)
class Artifact:
    name: str
    path: Path
    platform: str
    kind: str  # "zipapp" (what the launchers run) or "wheelhouse"
    sha256: str
    size: int
    pythons: tuple[str, ...]

    @property
    def content_type(self) -> str:
        return "application/zip" if self.kind == "wheelhouse" else "application/octet-stream"


@dataclass(frozen=True)
class Pin:
    """The appliance's certificate as the launchers carry it."""

    pem: str
    base64: str  # the DER, for Windows' PowerShell
    tag: str  # 16 hex digits of its SHA-256: the file name it is written to


@dataclass(frozen=True)
class ClientBuild:
    """What a launcher needs: the client's zipapp for each platform that has one, and the pin."""

    version: str
    zipapps: dict[str, Artifact]  # by platform
    pin: Pin


def pin_of(certificate: x509.Certificate) -> Pin:
    der = certificate.public_bytes(serialization.Encoding.DER)
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return Pin(pem=pem, base64=body, tag=hashlib.sha256(der).hexdigest()[:16])


def read_manifest(folder: Path) -> tuple[str, dict[str, Artifact]]:
    """The version and the artifacts of a build; entries that do not look right are left out
    (with a log line), so a damaged manifest serves less, never something else."""
    raw = json.loads((folder / MANIFEST).read_text("utf-8"))
    version = str(raw.get("version", ""))
    artifacts: dict[str, Artifact] = {}
    for name, entry in dict(raw.get("artifacts", {})).items():
        try:
            artifact = Artifact(
                name=name,
                path=folder / name,
                platform=str(entry["platform"]),
                kind=str(entry["kind"]),
                sha256=str(entry["sha256"]),
                size=int(entry["size"]),
                pythons=tuple(str(p) for p in entry["pythons"]),
            )
        except (KeyError, TypeError, ValueError):
            log.error("client downloads: %s has an unreadable entry for %r", MANIFEST, name)
            continue
        if not (
            ARTIFACT_NAME.match(name)
            and artifact.platform in PLATFORMS
            and artifact.kind in ("zipapp", "wheelhouse")
            and SHA256.match(artifact.sha256)
            and artifact.pythons
            and all(PYTHON.match(p) for p in artifact.pythons)
        ):
            log.error("client downloads: %s lists %r, which is not a client download", MANIFEST, name)
            continue
        artifacts[name] = artifact
    return version, artifacts


class ClientDownloads:
    """The build in the client folder, read again whenever its manifest or the appliance's
    certificate changes (a new build, a new certificate) without a restart."""

    def __init__(self, folder: Path, tls_dir: Path) -> None:
        self.folder = folder
        self.tls_dir = tls_dir
        self._key: tuple[object, ...] | None = None
        self._artifacts: dict[str, Artifact] = {}
        self._build: ClientBuild | None = None

    def _stamp(self, path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _refresh(self) -> None:
        key = (self._stamp(self.folder / MANIFEST), self._stamp(certificate_file(self.tls_dir)))
        if key == self._key:
            return
        self._key, self._artifacts, self._build = key, {}, None
        if key[0] is None:
            return  # no client built: the launchers open the browser chat only
        try:
            version, self._artifacts = read_manifest(self.folder)
        except (OSError, ValueError, AttributeError) as error:
            log.error("client downloads: cannot read %s: %s", self.folder / MANIFEST, error)
            return
        certificate = served_certificate(self.tls_dir)
        zipapps = {a.platform: a for a in self._artifacts.values() if a.kind == "zipapp"}
        if certificate is not None and zipapps:
            self._build = ClientBuild(version=version, zipapps=zipapps, pin=pin_of(certificate))

    def artifact(self, name: str) -> Artifact | None:
        """The download of that exact name, if the build has it and its file is there."""
        self._refresh()
        artifact = self._artifacts.get(name)
        if artifact is None or not artifact.path.is_file():
            return None
        return artifact

    def build(self) -> ClientBuild | None:
        """What the launchers carry, or None when there is no client to fetch."""
        self._refresh()
        return self._build
