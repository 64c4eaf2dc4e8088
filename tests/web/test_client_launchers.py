"""The launchers run the Lifeline client: a script downloads the .sh launcher with curl, runs
it with `sh` as its own process against the real appliance, and the launcher fetches the
client from that appliance (trusting its certificate only), checks it, and starts it; the
Mac app's bundle script does the same from the zip; /download/client serves the build's
files and nothing else.

The appliance here is `localhost` (its certificate names it), so that the launcher's curl
and the client reach it by the name in the chat URL, as a customer's would.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import subprocess
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from lifeline.appliance.client_downloads import ClientDownloads
from lifeline.config import Config
from lifeline.sessions.models import SessionEvent
from tests.support.appliance import RunningAppliance, eventually, running_appliance
from tests.support.command import CommandApi
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.web.conftest import key

CURL_AGENT = "curl/8.5.0"
APP = "Double-Click To Start Support Session.app"
MAC_SCRIPT = f"{APP}/Contents/MacOS/mount_dmg_and_exec_bundle.sh"
LINUX_CLIENT = "lifeline-client-0.1.0-linux-x86_64.pyz"


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    with running_appliance(tmp_path_factory.mktemp("appliance"), hostname="localhost") as running:
        running.cli_settled("settings", "set", "session_starts_per_address", "0")
        yield running


@pytest.fixture(scope="module")
def rep_on_duty(node: ConsoleNode, personas: Personas) -> Iterator[None]:
    gsnumber = node.log_in("rep_a")
    yield
    node.log_out(gsnumber)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    path = Config().client_dir / "manifest.json"
    assert path.exists(), "no client build: run scripts/install (it builds build/client)"
    found: dict[str, Any] = json.loads(path.read_text())
    return found


def site(appliance: RunningAppliance) -> str:
    return f"https://localhost:{appliance.https_port}"


def curl(appliance: RunningAppliance, path: str, out: Path, *extra: str) -> dict[str, str]:
    """Fetch with curl as a script would, trusting the appliance's certificate; the headers."""
    done = subprocess.run(
        ["curl", "--silent", "--show-error", "--cacert", str(appliance.cert_path), "--user-agent", CURL_AGENT,
         "--dump-header", "-", "--output", str(out), *extra, site(appliance) + path],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return {"status": lines[0].split()[1], **{name.lower(): value for name, value in headers.items()}}


def start_launcher(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, folder: Path, platform: str
) -> Path:
    """A session key, and its launcher saved as a script saves it (curl, the name it is given)."""
    short_key = key(api, personas, queue_id="general")
    folder.mkdir(parents=True, exist_ok=True)
    body = folder / "download"
    headers = curl(appliance, f"/api/start_session?short_key={short_key}&platform={platform}", body)
    assert headers["status"] == "200", body.read_text()[:300]
    launcher = folder / headers["content-disposition"].removeprefix("attachment; filename=")
    body.rename(launcher)
    return launcher


def customer_env(home: Path, bin_dir: Path | None = None) -> dict[str, str]:
    """A customer's environment: their own home (the cache folder in it), no display."""
    env = {name: value for name, value in os.environ.items() if name not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    path = "/usr/bin:/bin" if bin_dir is None else f"{bin_dir}:/usr/bin:/bin"
    return {**env, "HOME": str(home), "PATH": path, "XDG_CACHE_HOME": str(home / ".cache")}


def fake_tools(folder: Path, **scripts: str) -> Path:
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, text in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{text}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir


def chat_url(launcher_text: str) -> str:
    found = re.search(r"url='(https://[^']+)'", launcher_text)
    assert found is not None, launcher_text[:500]
    return found.group(1)


class Launched:
    """A launcher running as its own process, as the customer started it; once it has fetched
    the client it becomes the client (it execs it)."""

    def __init__(self, command: list[str], env: dict[str, str], folder: Path) -> None:
        self.output = folder / "launcher.out"
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, text=True
            )

    def text(self) -> str:
        return self.output.read_text()

    def client_command(self) -> list[str]:
        """The client's command line, once the launcher has become the client."""

        def started() -> list[str]:
            assert self.process.poll() is None, self.text()
            argv = Path(f"/proc/{self.process.pid}/cmdline").read_bytes().split(b"\0")[:-1]
            assert len(argv) > 1 and argv[1].endswith(b".pyz"), argv
            return [arg.decode() for arg in argv]

        return eventually(started, timeout=90, interval=0.1)

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the client leaves on SIGTERM
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()


@contextlib.contextmanager
def launched(command: list[str], env: dict[str, str], folder: Path) -> Iterator[Launched]:
    running = Launched(command, env, folder)
    try:
        yield running
    finally:
        running.close()


def until(condition: Callable[[], object], *, timeout: float = 30) -> None:
    def check() -> None:
        assert condition()

    eventually(check, timeout=timeout)


def expected_command(cache: Path, url: str, *, chat_open: bool) -> list[str]:
    """`lifeline-client attach URL --pin CERT` from the cache, `--no-chat` when the launcher
    opened the chat page."""
    [pin] = cache.glob("appliance-*.pem")
    return [str(cache / LINUX_CLIENT), "attach", url, "--pin", str(pin), *(["--no-chat"] if chat_open else [])]


def chat_lines(appliance: RunningAppliance) -> list[str]:
    return appliance.with_session(
        lambda session: [
            event.body or ""
            for event in session.scalars(select(SessionEvent).where(SessionEvent.event_type == "Chat Message"))
        ]
    )


def browser(tmp_path: Path, *, opens: bool) -> Path:
    """An xdg-open that writes down what it was asked to open, and succeeds or finds no browser."""
    return fake_tools(tmp_path, **{"xdg-open": f'printf %s "$1" > {tmp_path}/opened\nexit {0 if opens else 3}'})


def another_certificate(path: Path) -> None:
    """A self-signed certificate for the same names that is not the appliance's."""
    key_ = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key_.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key_, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


# --- the .sh launcher --------------------------------------------------------------------------


def test_the_sh_launcher_opens_the_chat_fetches_checks_and_starts_the_client(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, rep_on_duty: None, tmp_path: Path,
    manifest: dict[str, Any],
) -> None:  # fmt: skip
    launcher = start_launcher(appliance, api, personas, tmp_path, "linux")
    assert launcher.name.endswith(".sh")
    url = chat_url(launcher.read_text())
    home = tmp_path / "home"
    cache = home / ".cache" / "lifeline"
    with launched(["sh", str(launcher)], customer_env(home, browser(tmp_path, opens=True)), tmp_path) as first:
        command = first.client_command()
        assert command[0].startswith("python3")
        assert command[1:] == expected_command(cache, url, chat_open=True)
        assert "Fetching the Lifeline client" in first.text()
        assert (tmp_path / "opened").read_text() == url
        # The client file is the build's, byte for byte; the pin is the appliance's certificate.
        fetched = cache / LINUX_CLIENT
        assert hashlib.sha256(fetched.read_bytes()).hexdigest() == manifest["artifacts"][LINUX_CLIENT]["sha256"]
        [pin] = cache.glob("appliance-*.pem")
        assert x509.load_pem_x509_certificate(pin.read_bytes()) == x509.load_pem_x509_certificate(
            appliance.cert_path.read_bytes()
        )
        assert oct(cache.stat().st_mode & 0o777) == "0o700"
        # Where the zipapp unpacks its site-packages, as it starts.
        until(lambda: (cache / "unpacked").is_dir())
        time.sleep(1)
        assert first.process.poll() is None, first.text()  # the client runs: it trusts the appliance

    # The second start uses what the first fetched. No browser opens this time: the client is
    # not told of a chat page, so it is the customer's chat, and joins the session.
    second_folder = tmp_path / "second"
    env = customer_env(home, browser(second_folder, opens=False))
    with launched(["sh", str(launcher)], env, second_folder) as second:
        assert second.client_command()[1:] == expected_command(cache, url, chat_open=False)
        assert "Fetching" not in second.text()
        until(lambda: "Chat with Lifeline" in second.text())
        second.type("Hello from the launcher")
        until(lambda: chat_lines(appliance).count("Hello from the launcher") == 1)


def test_a_launcher_pinned_to_another_certificate_fetches_nothing_and_runs_nothing(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, rep_on_duty: None, tmp_path: Path
) -> None:
    launcher = start_launcher(appliance, api, personas, tmp_path, "linux")
    text = launcher.read_text()
    pem = re.search(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", text, re.S)
    assert pem is not None
    another_certificate(tmp_path / "other.pem")
    launcher.write_text(text.replace(pem.group(0), (tmp_path / "other.pem").read_text()))
    bin_dir = browser(tmp_path, opens=True)
    home = tmp_path / "home"
    done = subprocess.run(
        ["sh", str(launcher)], env=customer_env(home, bin_dir), capture_output=True, text=True, timeout=60
    )
    assert "Could not fetch the Lifeline client" in done.stderr, done.stderr
    assert "Your session goes on in your web browser" in done.stderr
    assert "Chat with Lifeline" not in done.stdout
    assert not (home / ".cache" / "lifeline" / LINUX_CLIENT).exists()
    assert list((home / ".cache" / "lifeline").glob("*.part")) == []
    # The customer still gets to their chat: in the browser.
    assert (tmp_path / "opened").read_text() == chat_url(text)


def test_a_client_file_that_is_not_the_one_expected_is_not_run(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, rep_on_duty: None, tmp_path: Path
) -> None:
    launcher = start_launcher(appliance, api, personas, tmp_path, "linux")
    text = launcher.read_text()
    launcher.write_text(re.sub(r"(x86_64\.pyz' sum=')[0-9a-f]{64}", r"\g<1>" + "0" * 64, text))
    bin_dir = browser(tmp_path, opens=True)
    home = tmp_path / "home"
    done = subprocess.run(
        ["sh", str(launcher)], env=customer_env(home, bin_dir), capture_output=True, text=True, timeout=60
    )
    assert "is not the one expected; it was not run" in done.stderr
    assert "Chat with Lifeline" not in done.stdout
    assert not (home / ".cache" / "lifeline" / LINUX_CLIENT).exists()
    assert (tmp_path / "opened").read_text() == chat_url(text)


def test_without_python_the_launcher_opens_the_chat_and_says_why(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, rep_on_duty: None, tmp_path: Path
) -> None:
    launcher = start_launcher(appliance, api, personas, tmp_path, "linux")
    # A PATH of the shell's few tools and no Python at all.
    bin_dir = browser(tmp_path, opens=True)
    for tool in ("uname", "mkdir", "chmod", "cat", "tr", "rm", "mv"):
        (bin_dir / tool).symlink_to(f"/bin/{tool}")
    env = {**customer_env(tmp_path / "home"), "PATH": str(bin_dir)}
    done = subprocess.run(["/bin/sh", str(launcher)], env=env, capture_output=True, text=True, timeout=60)
    assert "The Lifeline client needs Python 3.14,3.13,3.12,3.11" in done.stderr, done.stderr
    assert (tmp_path / "opened").read_text() == chat_url(launcher.read_text())


def test_without_curl_python_fetches_trusting_the_same_certificate_only(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, rep_on_duty: None, tmp_path: Path
) -> None:
    launcher = start_launcher(appliance, api, personas, tmp_path, "linux")
    url = chat_url(launcher.read_text())
    bin_dir = browser(tmp_path, opens=True)
    for tool in ("uname", "mkdir", "chmod", "cat", "tr", "rm", "mv", "python3"):
        (bin_dir / tool).symlink_to(f"/usr/bin/{tool}")
    env = {**customer_env(tmp_path / "home"), "PATH": str(bin_dir)}
    with launched(["/bin/sh", str(launcher)], env, tmp_path) as running:
        command = running.client_command()
        assert command[1:] == expected_command(tmp_path / "home" / ".cache" / "lifeline", url, chat_open=True)

    # And the same Python refuses another certificate.
    other = tmp_path / "other"
    other.mkdir()
    pem = re.search(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", launcher.read_text(), re.S)
    assert pem is not None
    another_certificate(other / "other.pem")
    launcher.write_text(launcher.read_text().replace(pem.group(0), (other / "other.pem").read_text()))
    env["HOME"] = env["XDG_CACHE_HOME"] = str(other / "home")
    refused = subprocess.run(["/bin/sh", str(launcher)], env=env, capture_output=True, text=True, timeout=60)
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr and "Could not fetch" in refused.stderr
    assert "Chat with Lifeline" not in refused.stdout


# --- the Mac app -------------------------------------------------------------------------------


def test_the_mac_apps_bundle_script_starts_the_client_where_there_is_no_open(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, rep_on_duty: None, tmp_path: Path
) -> None:
    """A public session-start script: unzip the app and exec its bundle script. On this Linux
    machine there is no `open` (and no browser): the script runs the client for the machine
    it is on, which is left to open the chat page or chat in its terminal."""
    launcher = start_launcher(appliance, api, personas, tmp_path, "mac")
    assert launcher.name.endswith(".zip")
    unzipped = tmp_path / "unzipped"
    subprocess.run(["unzip", "-q", str(launcher), "-d", str(unzipped)], check=True, timeout=10)
    url = chat_url((unzipped / MAC_SCRIPT).read_text())
    home = tmp_path / "home"
    env = customer_env(home, browser(tmp_path, opens=False))
    with launched(["sh", "-c", 'cd "$1" && exec "./$2"', "sh", str(unzipped), MAC_SCRIPT], env, tmp_path) as running:
        assert running.client_command()[1:] == expected_command(home / ".cache" / "lifeline", url, chat_open=False)
        until(lambda: "Chat with Lifeline" in running.text())
        running.type("Hello from the Mac app")
        until(lambda: "Hello from the Mac app" in chat_lines(appliance))


def test_the_launchers_size_depends_only_on_the_urls_length(
    appliance: RunningAppliance, api: CommandApi, personas: Personas, rep_on_duty: None
) -> None:
    with appliance.client(headers={"User-Agent": CURL_AGENT, "Accept": "*/*"}) as script:
        for platform in ("linux", "mac", "winNT-64"):
            short_key = key(api, personas, queue_id="general")
            head = script.head("/api/start_session", params={"short_key": short_key, "platform": platform})
            get = script.get("/api/start_session", params={"short_key": short_key, "platform": platform})
            assert get.status_code == 200
            assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))


# --- /download/client ---------------------------------------------------------------------------


def test_the_client_download_has_a_type_a_length_and_caching_by_version(
    appliance: RunningAppliance, manifest: dict[str, Any], tmp_path: Path
) -> None:
    for name, entry in manifest["artifacts"].items():
        assert manifest["version"] in name
        headers = curl(appliance, f"/download/client/{name}", tmp_path / name)
        assert headers["status"] == "200"
        body = (tmp_path / name).read_bytes()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert headers["content-length"] == str(len(body)) == str(entry["size"])
        expected = "application/zip" if name.endswith(".zip") else "application/octet-stream"
        assert headers["content-type"] == expected
        assert headers["etag"] == f'"{entry["sha256"]}"'
        assert headers["cache-control"] == "public, max-age=86400"
        head = curl(appliance, f"/download/client/{name}", tmp_path / "head", "--head")
        assert (head["status"], head["content-length"], head["etag"]) == ("200", str(len(body)), headers["etag"])
        unchanged = curl(
            appliance, f"/download/client/{name}", tmp_path / "again", "-H", f"If-None-Match: {head['etag']}"
        )
        assert unchanged["status"] == "304"
    with zipfile.ZipFile(tmp_path / LINUX_CLIENT) as pyz:
        assert "site-packages/lifeline_client/__init__.py" in pyz.namelist()


@pytest.mark.parametrize(
    "path",
    [
        "/download/client/..%2Fmanifest.json",
        "/download/client/%2e%2e%2f%2e%2e%2ftls%2fappliance.key",
        "/download/client/../client/../../tls/appliance.key",
        "/download/client/" + LINUX_CLIENT + "%00",
        "/download/client/" + LINUX_CLIENT + "%2F..%2F..%2Ftls%2Fappliance.key",
        "/download/client/lifeline-client-0.1.0-linux-x86_64.pyz.part",
        "/download/client/LIFELINE-CLIENT-0.1.0-LINUX-X86_64.PYZ",
        "/download/client/",
        "/download/client/%ff%fe",
        "/download/client/" + "a" * 5000,
        "/download/tls/appliance.key",
        "/download/client/lifeline.db",
    ],
)
def test_the_client_download_refuses_path_tricks(appliance: RunningAppliance, path: str) -> None:
    key_pem = (appliance.data_dir / "tls" / "appliance.key").read_bytes()
    with appliance.client() as client:
        response = client.get(path)
    assert response.status_code in (404, 400, 414), (path, response.status_code)
    assert key_pem not in response.content and b"PRIVATE KEY" not in response.content
    assert b"artifacts" not in response.content


def test_the_manifest_served_is_the_public_one(appliance: RunningAppliance) -> None:
    """A Jumpoint reads /download/client/manifest.json to push the client: the appliance
    writes it from the build's manifest, with what a download needs and nothing else."""
    with appliance.client() as client:
        response = client.get("/download/client/manifest.json")
    if response.status_code == 404:
        pytest.skip("no client build (scripts/build_client.py)")
    served = response.json()
    assert set(served) == {"version", "zipapps", "pin"}
    assert LINUX_CLIENT in {entry["name"] for entry in served["zipapps"].values()}
    assert b"artifacts" not in response.content and b"PRIVATE KEY" not in response.content


def test_dot_dot_sent_as_is_reaches_nothing(appliance: RunningAppliance, tmp_path: Path) -> None:
    """curl --path-as-is sends `..` unnormalized, as an attacker's tool would."""
    for path in ("/download/client/../../tls/appliance.key", "/download/client/../client/manifest.json"):
        headers = curl(appliance, path, tmp_path / "answer", "--path-as-is")
        assert headers["status"] == "404", (path, headers)
        assert b"PRIVATE KEY" not in (tmp_path / "answer").read_bytes()


def test_a_manifest_naming_other_files_serves_none_of_them(tmp_path: Path) -> None:
    """Even a damaged or edited manifest reaches only client files in the client folder."""
    folder = tmp_path / "client"
    folder.mkdir()
    (tmp_path / "secret.pyz").write_bytes(b"secret")
    good = folder / "lifeline-client-1.0-linux-x86_64.pyz"
    good.write_bytes(b"zipapp")
    entry = {"platform": "linux-x86_64", "kind": "zipapp", "sha256": "a" * 64, "size": 6, "pythons": ["3.11"]}
    artifacts = {
        good.name: entry,
        "../secret.pyz": entry,
        "manifest.json": entry,
        "lifeline-client-1.0-linux-x86_64.pyz/../../secret.pyz": entry,
        "lifeline-client-1.0-linux-x86_64-wheels.zip": {**entry, "sha256": "not hex"},
        "lifeline-client-1.0-plan9-x86_64.pyz": {**entry, "platform": "plan9-x86_64"},
        "lifeline-client-1.0-linux-aarch64.pyz": {**entry, "platform": "linux-aarch64", "pythons": ["3.11'; rm -rf /"]},
        "lifeline-client-1.0-macos-arm64.pyz": {"platform": "macos-arm64"},
    }
    (folder / "manifest.json").write_text(json.dumps({"version": "1.0", "artifacts": artifacts}))
    downloads = ClientDownloads(folder, tmp_path / "tls")
    assert [name for name in artifacts if downloads.artifact(name) is not None] == [good.name]
    assert downloads.build() is None  # no certificate to carry: launchers open the browser only
    (folder / "manifest.json").write_text("{not json")
    assert downloads.artifact(good.name) is None


def test_nothing_crashed(appliance: RunningAppliance) -> None:
    """Runs last in this module: the appliance logged no traceback."""
    assert "Traceback" not in appliance.log_path.read_text()
