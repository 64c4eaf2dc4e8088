"""`jump install` and `jump uninstall`: registering this computer with an installer key,
and removing the installation (here, and on the appliance when it answers)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import time
from pathlib import Path

from lifeline_protocol.jump import install_text, uninstall_text

from lifeline_client import __version__, sysinfo
from lifeline_client.errors import ClientError
from lifeline_client.jump import http, service, state
from lifeline_client.start import Site, parse_site
from lifeline_client.tls import trust

MAX_KEY = 256  # characters of an installer key


def _check_folder(folder: Path) -> None:
    if state.installed(folder):
        raise ClientError(
            f"a Jump Client is installed in {folder} already: run lifeline-client jump uninstall --dir {folder} first"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ClientError(f"cannot make {folder}: {error.strerror or error}") from None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ClientError(f"{folder} is not a folder this user can write to")


def _certificate(folder: Path, ca: Path | None, pin: Path | None, site: Site) -> Path:
    """DIR/appliance.pem: a copy of --ca or --pin, the only certificate the installation
    will ever trust."""
    given = ca or pin
    if given is None:
        raise ClientError(
            "a Jump Client trusts only its appliance's own certificate: give it with --ca FILE "
            f"(an admin saves it from {site.origin} with the browser, or copies it from the "
            "appliance's TLS folder: appliance.crt)"
        )
    trust(pin=given)  # a clear error when it is no certificate
    target = folder / state.CERT
    try:
        shutil.copyfile(given, target)
    except OSError as error:
        raise ClientError(f"cannot copy {given} to {target}: {error.strerror or error}") from None
    return target


def install(url: str, key: str, folder: Path, *, ca: Path | None, pin: Path | None, name: str, as_service: bool) -> str:
    site = parse_site(url)
    key = "".join(key.split())
    if not key or len(key) > MAX_KEY:
        raise ClientError("--key: give the installer key the administrator made")
    if ca is None and pin is None:
        _certificate(folder, ca, pin, site)  # says how to get it, before anything is made
    _check_folder(folder)
    certificate = _certificate(folder, ca, pin, site)
    try:
        context = trust(pin=certificate)
        private = state.new_key()
        public = state.public_text(private)
        computer = sysinfo.computer(_local_ip(site), __version__)
        body = {
            "installer_key": key,
            "public_key": public,
            "signature": state.sign(private, install_text(key, public, site.origin)),
            "computer": _computer_json(computer),
        }
        if name.strip():
            body["name"] = name.strip()[:255]
        try:
            answer = http.post_json(site, "/jump/install", body, context)
        except http.Refused as refused:
            if refused.status == 410:
                raise ClientError(f"the installer key has expired: {refused}") from None
            raise ClientError(f"the appliance refused the installation: {refused}") from None
        try:
            installation = state.Installation(
                origin=site.origin,
                id=int(answer["id"]),
                name=str(answer.get("name") or name.strip()[:255] or computer.hostname),
                mode=str(answer.get("mode") or "jump_client"),
                version=__version__,
            )
        except (KeyError, TypeError, ValueError):
            raise ClientError("the appliance's answer to the installation is not understood") from None
        state.save(folder, installation, private)
    except BaseException:
        if not state.installed(folder):
            certificate.unlink(missing_ok=True)
        raise
    said = f"Installed Jump Client {installation.id} ({installation.name}) for {site.origin} in {folder}."
    if name.strip() and installation.name != name.strip()[:255]:
        said += f"\nThe appliance lists it as {installation.name!r}, not {name.strip()!r}: rename it in the Jump list."
    if as_service:
        _, how = service.install(folder)
        said += "\n" + how
    else:
        said += f"\nRun it with: lifeline-client jump run --dir {folder}"
    return said


def _computer_json(computer: object) -> object:
    import msgspec

    return msgspec.to_builtins(computer)


def _local_ip(site: Site) -> str:
    """The address this computer reaches the appliance from (no packet is sent)."""
    try:
        family = socket.AF_INET6 if ":" in site.server_hostname else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((site.server_hostname, site.port))
            return str(probe.getsockname()[0])
    except OSError:
        return ""


def uninstall(folder: Path) -> str:
    """Tell the appliance (signed), then remove the service and the state; best effort
    when the appliance cannot be reached."""
    installation, private = state.load(folder)
    site = parse_site(installation.origin)
    at = int(time.time())
    said = []
    try:
        context: ssl.SSLContext = trust(pin=folder / state.CERT)
        http.post_json(
            site,
            "/jump/uninstall",
            {
                "id": installation.id,
                "at": at,
                "signature": state.sign(private, uninstall_text(installation.id, at, site.origin)),
            },
            context,
        )
        said.append(f"Removed Jump Client {installation.id} from {site.origin}.")
    except http.Refused as refused:
        said.append(f"The appliance did not remove it ({refused}); removed here anyway.")
    except ClientError as error:
        said.append(
            f"Could not tell the appliance ({error}); removed here only: an admin deletes it from the Jump list."
        )
    said.append(remove_local(folder))
    return "\n".join(line for line in said if line)


def remove_local(folder: Path, *, itself: bool = False) -> str:
    """The service, then the state (so a service restarting in between finds nothing).
    `itself`: `jump run` removes its own installation and exits right after."""
    stopped = service.remove(folder, itself=itself)
    state.remove(folder)
    return " ".join(filter(None, [stopped, f"Deleted the installation in {folder}."]))
