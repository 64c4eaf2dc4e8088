"""/api/start_session(.ns) for scripts and downloaders: the customer client as a download (a
launcher that runs the Lifeline client, or opens the session's browser customer client when
the client cannot run), per platform; HEAD says the
same without starting anything; errors are plain text; browsers keep the browser flow."""

from __future__ import annotations

import hashlib
import io
import json
import os
import plistlib
import re
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lifeline.api.start.launchers import platform_from_param
from lifeline.appliance import stamps
from lifeline.config import Config
from lifeline.db.base import utcnow
from lifeline.directory.models import PublicSite
from lifeline.presence.models import ClientConnection
from lifeline.sessions.models import SessionKey, SupportSession
from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import NS_LATER, CommandApi
from tests.support.personas import Personas
from tests.support.sockets import BROWSER
from tests.support.xmlcheck import text_of
from tests.web.conftest import key

pytestmark = pytest.mark.usefixtures("team_a_on_duty")

CURL = {"User-Agent": "curl/8.5.0", "Accept": "*/*"}
POWERSHELL = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.1"}
MAC_DOWNLOADER = {"User-Agent": "SupportDownloader/2.1 CFNetwork/1410.0.3 Darwin/22.6.0", "Accept": "*/*"}
WGET = {"User-Agent": "Wget/1.21.3 (linux-gnu)", "Accept": "*/*"}
APP = "Double-Click To Start Support Session.app"
# What session-start scripts written for real appliances exec after unzipping.
MAC_SCRIPT = f"{APP}/Contents/MacOS/mount_dmg_and_exec_bundle.sh"
CLIENT_URL = re.compile(r"https://[^\s'\"<>]+/chat/([\w-]+)")


@pytest.fixture(scope="module")
def script(appliance: RunningAppliance) -> Iterator[httpx.Client]:
    """A script or downloader asking the support site, by its name, for the customer client.
    This module starts hundreds of sessions from one address: no per-address limit here
    (tests/web/test_start_session.py tests it)."""
    appliance.cli_settled("settings", "set", "session_starts_per_address", "0")
    with appliance.client(follow_redirects=False, headers={"Host": "support.example.com", **CURL}) as client:
        yield client


def url_key(api: CommandApi, personas: Personas) -> str:
    root = api.call("generate_session_key", personas.api_user.params, type="support", queue_id="general")
    found = re.search(r"\?ak=([0-9a-f]{32})$", text_of(root, NS_LATER, "key_url"))
    assert found is not None
    return found.group(1)


def counts(appliance: RunningAppliance) -> tuple[int, int]:
    def read(session: Session) -> tuple[int, int]:
        sessions = session.scalar(select(func.count()).select_from(SupportSession)) or 0
        connections = session.scalar(select(func.count()).select_from(ClientConnection)) or 0
        return sessions, connections

    return appliance.with_session(read)


def session_of(appliance: RunningAppliance, token: str) -> SupportSession:
    def read(session: Session) -> SupportSession:
        connection = session.scalars(
            select(ClientConnection).where(
                ClientConnection.resume_token_sha256 == hashlib.sha256(token.encode()).hexdigest()
            )
        ).one()
        found = session.get(SupportSession, connection.session_id)
        assert found is not None
        return found

    return appliance.with_session(read)


def download(response: httpx.Response) -> tuple[str, bytes]:
    """The file name and bytes of a launcher download, checked for its framing."""
    assert response.status_code == 200, (response.status_code, response.text[:300])
    disposition = re.fullmatch(
        r"attachment; filename=(lifeline-scc-[\w-]+\.(cmd|sh|zip|html))",
        response.headers.get("content-disposition", ""),
    )
    assert disposition is not None, response.headers
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    return disposition.group(1), response.content


def launcher_url(name: str, body: bytes) -> str:
    """The customer client URL a launcher opens (from the zip's executable for a Mac)."""
    if name.endswith(".zip"):
        body = zipfile.ZipFile(io.BytesIO(body)).read(MAC_SCRIPT)
    found = CLIENT_URL.search(body.decode("ascii"))
    assert found is not None, body
    return found.group(0)


def token_of(url: str) -> str:
    found = CLIENT_URL.fullmatch(url)
    assert found is not None, url
    return found.group(1)


def client_build() -> dict[str, dict[str, str]]:
    """The client downloads scripts/install built, as the manifest lists them."""
    manifest = Config().client_dir / "manifest.json"
    assert manifest.exists(), "no client build: run scripts/install (it builds build/client)"
    artifacts: dict[str, dict[str, str]] = json.loads(manifest.read_text())["artifacts"]
    return artifacts


def fake_tools(tmp_path: Path, **scripts: str) -> Path:
    """A folder of stand-ins for system tools (`open`, `xdg-open`, ...), for PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{text}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir


def without_date(response: httpx.Response) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response.headers.multi_items() if name != "date"]


# --- what a script gets ----------------------------------------------------------------------


def test_a_script_gets_a_launcher_that_opens_the_keys_session(
    script: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    short_key = key(api, personas, queue_id=f"team:{personas.team_b}", external_key="K-9")
    before = counts(appliance)
    response = script.get("/api/start_session", params={"short_key": short_key})
    name, body = download(response)
    assert name == f"lifeline-scc-{short_key}.html"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    url = launcher_url(name, body)
    assert url.startswith(f"https://support.example.com:{appliance.https_port}/chat/")
    assert f'<meta http-equiv="refresh" content="0; url={url}">'.encode() in body
    found = session_of(appliance, token_of(url))
    assert (found.queue_kind, found.queue_ref_id, found.external_key, found.start_method) == (
        "team",
        personas.team_b,
        "K-9",
        "session_key",
    )
    assert counts(appliance) == (before[0] + 1, before[1] + 1)
    again = script.get("/api/start_session", params={"short_key": short_key})
    assert (again.status_code, again.text) == (
        410,
        "That session key has already been used. Ask your representative for a new one.\n",
    )


def test_the_launchers_url_is_where_the_browser_would_land(
    script: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    short_key = key(api, personas, queue_id="general")
    _, body = download(script.get("/api/start_session.ns", params={"short_key": short_key}))
    url = launcher_url("x.html", body)
    with appliance.client(headers={"Host": "support.example.com", **BROWSER}) as browser:
        page = browser.get(url.split(str(appliance.https_port), 1)[1])
    assert page.status_code == 200
    assert token_of(url) in page.text  # the customer client page of that very connection


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize(
    ("params", "queue_kind"),
    [
        ({"id": "1", "name": "Admin"}, "rep"),
        ({"id": "1", "name": "Admin", "platform": "winNT-32"}, "rep"),
        (
            {
                "issue_menu": "1",
                "customer_name": "John Doe",
                "customer_desc": "I need support",
                "id": "ISSUE",
                "external_key": "1234",
            },
            "team",
        ),
        (
            {
                "issue_menu": "1",
                "codeName": "i_need_help_getting_started",
                "customer.name": "Kim",
                "session.custom.external_key": "NoMAD",
            },
            "team",
        ),
        ({"issue_menu": "1"}, "general"),
        ({"issue_menu": "1", "id": "0", "c2cjs": "1", "locale": "en-us"}, "general"),
    ],
    ids=["rep", "rep-winNT-32", "issue-survey", "later-issue", "general", "general-c2cjs"],
)
def test_every_parameter_set_downloads_and_head_says_the_same_without_starting(
    script: httpx.Client,
    appliance: RunningAppliance,
    personas: Personas,
    admin_on_duty: None,
    method: str,
    params: dict[str, str],
    queue_kind: str,
) -> None:
    params = {name: value.replace("ISSUE", str(personas.issue_error)) for name, value in params.items()}
    before = counts(appliance)
    head = script.head("/api/start_session.ns", params=params)
    assert counts(appliance) == before
    assert head.content == b""
    if method == "POST":
        response = script.post("/api/start_session.ns", data=params)
    else:
        response = script.request(method, "/api/start_session.ns", params=params)
    assert without_date(response) == without_date(head)  # the same status, name, type and length
    if method == "HEAD":
        assert counts(appliance) == before
        return
    name, body = download(response)
    extension = "cmd" if "platform" in params else "html"
    assert name == f"lifeline-scc-support-example-com.{extension}"
    found = session_of(appliance, token_of(launcher_url(name, body)))
    assert found.queue_kind == queue_kind
    assert counts(appliance) == (before[0] + 1, before[1] + 1)


def test_head_of_a_session_key_leaves_it_for_the_get(
    script: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    short_key = key(api, personas, queue_id="general")
    before = counts(appliance)
    heads = [
        script.head("/api/start_session", params={"short_key": short_key, "platform": p}) for p in ("linux", "mac")
    ]
    assert counts(appliance) == before
    get = script.get("/api/start_session", params={"short_key": short_key, "platform": "mac"})
    download(get)
    assert without_date(get) == without_date(heads[1])
    assert heads[0].headers["content-disposition"] == f"attachment; filename=lifeline-scc-{short_key}.sh"
    # Once used, HEAD says what GET now would.
    assert script.head("/api/start_session", params={"short_key": short_key}).status_code == 410


def test_a_key_url_downloads_too(
    script: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    name, body = download(script.get("/api/start_session", params={"ak": url_key(api, personas)}))
    assert name == "lifeline-scc-support-example-com.html"
    assert session_of(appliance, token_of(launcher_url(name, body))).start_method == "session_key_url"


# --- per platform ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "platform"),
    [({}, "winNT-32"), ({}, "winNT-64"), (POWERSHELL, None)],
    ids=["winNT-32", "winNT-64", "powershell"],
)
def test_windows_gets_a_command_script(
    script: httpx.Client, appliance: RunningAppliance, headers: dict[str, str], platform: str | None
) -> None:
    params = {"issue_menu": "1", **({"platform": platform} if platform else {})}
    response = script.get("/api/start_session", params=params, headers=headers)
    name, body = download(response)
    assert (name, response.headers["content-type"]) == (
        "lifeline-scc-support-example-com.cmd",
        "application/x-msdos-program",
    )
    url = launcher_url(name, body)
    lines = body.decode("ascii").split("\r\n")
    windows = client_build()["lifeline-client-0.1.0-windows-amd64.pyz"]
    # It fetches the Windows client from the site, checks it, runs it; else opens the chat page.
    assert lines[:2] == [
        "@echo off",
        "rem Starts your support session: fetches the Lifeline client from your support site (trusting",
    ]
    for line in (
        f'set "url={url}"',
        'set "client=lifeline-client-0.1.0-windows-amd64.pyz"',
        f'set "sum={windows["sha256"]}"',
        '%py% "%cache%\\%client%" attach "%url%" --pin "%cache%\\appliance-%pin%.pem" --no-chat',
        'start "" "%url%"',
    ):
        assert line in lines
    session_of(appliance, token_of(url))


@pytest.mark.parametrize(
    ("headers", "platform"), [({}, "mac-osx"), (MAC_DOWNLOADER, None)], ids=["param", "user-agent"]
)
def test_a_mac_gets_a_zipped_app_whose_executable_opens_the_client(
    script: httpx.Client, appliance: RunningAppliance, headers: dict[str, str], platform: str | None
) -> None:
    params = {"issue_menu": "1", **({"platform": platform} if platform else {})}
    response = script.get("/api/start_session", params=params, headers=headers)
    name, body = download(response)
    assert (name, response.headers["content-type"]) == ("lifeline-scc-support-example-com.zip", "application/zip")
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    executable = MAC_SCRIPT
    assert modes == {
        f"{APP}/": 0o40755,
        f"{APP}/Contents/": 0o40755,
        f"{APP}/Contents/MacOS/": 0o40755,
        f"{APP}/Contents/Info.plist": 0o100644,
        executable: 0o100755,
    }
    info = plistlib.loads(archive.read(f"{APP}/Contents/Info.plist"))
    assert (info["CFBundleExecutable"], info["CFBundlePackageType"]) == ("mount_dmg_and_exec_bundle.sh", "APPL")
    url = launcher_url(name, body)
    assert archive.read(executable).decode("ascii").splitlines()[0] == "#!/bin/sh"
    script_text = archive.read(executable).decode("ascii")
    assert f"url='{url}'" in script_text
    assert 'exec "$python" "$target" attach "$url" --pin "$cert" "$@"' in script_text
    assert 'open "$url"' in script_text  # the chat page, in the browser
    session_of(appliance, token_of(url))


def test_a_session_start_script_unzips_the_mac_app_and_execs_its_bundle_script(
    script: httpx.Client, appliance: RunningAppliance, tmp_path: Path
) -> None:
    """What public session-start scripts written for real appliances do on a Mac: unzip the
    download and exec the bundle's mount_dmg_and_exec_bundle.sh (exit 127 when it was
    missing). Here with unzip (and Python's zipfile), a `uname` that says Darwin, a `curl`
    that cannot reach the site (this module's appliance is support.example.com, which does
    not resolve here) and an `open` that writes down what it was asked to open: the chat
    page, as the launcher's way out when the client cannot run. That the bundle script
    runs the client is in tests/web/test_client_launchers.py."""
    name, body = download(script.get("/api/start_session", params={"issue_menu": "1", "platform": "mac-osx"}))
    (tmp_path / name).write_bytes(body)
    with zipfile.ZipFile(tmp_path / name) as archive:
        assert archive.getinfo(MAC_SCRIPT).external_attr >> 16 == 0o100755
    unzipped = tmp_path / "unzipped"
    subprocess.run(["unzip", "-q", str(tmp_path / name), "-d", str(unzipped)], check=True, timeout=10)
    bundle_script = unzipped / MAC_SCRIPT
    assert stat.S_IMODE(bundle_script.stat().st_mode) == 0o755
    bin_dir = fake_tools(
        tmp_path,
        open=f'printf %s "$1" > {tmp_path}/opened',
        uname='case "$1" in -s) echo Darwin ;; -m) echo arm64 ;; *) echo Darwin arm64 ;; esac',
        curl="exit 6",
    )
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    subprocess.run(
        ["sh", "-c", 'cd "$1" && exec "./$2"', "sh", str(unzipped), MAC_SCRIPT], env=env, check=True, timeout=10
    )
    opened = (tmp_path / "opened").read_text()
    assert opened == launcher_url(name, body)
    session_of(appliance, token_of(opened))


@pytest.mark.parametrize(("headers", "platform"), [({}, "linux"), (WGET, None)], ids=["param", "wget"])
def test_linux_gets_a_shell_script_that_opens_the_chat_when_the_client_cannot_run(
    script: httpx.Client, appliance: RunningAppliance, tmp_path: Path, headers: dict[str, str], platform: str | None
) -> None:
    params = {"issue_menu": "1", **({"platform": platform} if platform else {})}
    response = script.get("/api/start_session", params=params, headers=headers)
    name, body = download(response)
    assert (name, response.headers["content-type"]) == ("lifeline-scc-support-example-com.sh", "application/x-sh")
    # Run it as a customer would, with an xdg-open that writes down what it was asked to open,
    # and a curl that cannot reach the site (support.example.com does not resolve here): the
    # chat page opens instead of the client (which tests/web/test_client_launchers.py runs).
    bin_dir = fake_tools(tmp_path, **{"xdg-open": f'printf %s "$1" > {tmp_path}/opened', "curl": "exit 6"})
    launcher = tmp_path / name
    launcher.write_bytes(body)
    launcher.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    done = subprocess.run([str(launcher)], env=env, check=True, timeout=30, capture_output=True, text=True)
    assert "Could not fetch the Lifeline client" in done.stderr
    opened = (tmp_path / "opened").read_text()
    assert opened == launcher_url(name, body)
    session_of(appliance, token_of(opened))


@pytest.mark.parametrize(
    ("agent", "extension"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Edg/126.0",
            "cmd",
        ),
        ("Microsoft-WinHttp/5.1", "cmd"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15",
            "zip",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "sh"),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile", "html"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "html"),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0", "html"),
        ("Python-urllib/3.11", "html"),
        ("", "html"),
    ],
)
def test_without_a_platform_the_user_agent_picks_the_launcher(script: httpx.Client, agent: str, extension: str) -> None:
    response = script.head("/api/start_session", params={"issue_menu": "1"}, headers={"User-Agent": agent})
    assert response.headers["content-disposition"].endswith(f".{extension}")


def test_a_browser_keeps_the_browser_flow_whatever_its_system(
    script: httpx.Client, appliance: RunningAppliance
) -> None:
    firefox_on_windows = {
        "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
        **BROWSER,
    }
    for params in ({"issue_menu": "1"}, {"issue_menu": "1", "platform": "web"}, {"issue_menu": "1", "platform": "x"}):
        response = script.get("/api/start_session", params=params, headers=firefox_on_windows)
        assert response.status_code == 303
        assert re.fullmatch(r"/chat/[\w-]+", response.headers["location"])
        assert "content-disposition" not in response.headers
    # Asked for explicitly, the guide's platform link is a download from a browser too.
    name, _ = download(
        script.get("/api/start_session", params={"issue_menu": "1", "platform": "winNT-64"}, headers=firefox_on_windows)
    )
    assert name.endswith(".cmd")
    declined = script.get("/api/start_session", params={"issue_menu": "1"}, headers={"Accept": "text/html;q=0, */*"})
    download(declined)


def test_the_launcher_points_at_the_site_the_request_was_made_to(
    appliance: RunningAppliance,
) -> None:
    appliance.cli("site", "add", "remote.example.com")
    with appliance.client(follow_redirects=False, headers={"Host": "remote.example.com", **CURL}) as remote:

        def on_remote_site() -> None:
            name, body = download(remote.get("/api/start_session", params={"issue_menu": "1"}))
            assert name == "lifeline-scc-remote-example-com.html"
            assert launcher_url(name, body).startswith(f"https://remote.example.com:{appliance.https_port}/chat/")

        eventually(on_remote_site)
    # Addressed by an IP (no site's name): the default site's primary host name.
    with appliance.client(follow_redirects=False, headers=CURL) as by_address:
        name, body = download(by_address.get("/api/start_session", params={"issue_menu": "1"}))
    assert launcher_url(name, body).startswith(f"https://support.example.com:{appliance.https_port}/chat/")


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"short_key": "1111111"}, 404, "That session key is not valid"),
        ({"id": "3", "name": "Bob Rep"}, 409, "not available right now"),
        ({"id": "999999", "name": "Nobody"}, 409, "not available right now"),
        ({"issue_menu": "1", "id": "424242"}, 404, "That issue is not offered here"),
        ({"issue_menu": "1", "codeName": "no_such_issue", "platform": "mac"}, 404, "That issue is not offered here"),
        ({}, 400, "Enter your session key"),
        ({"issue_menu": "1", "customer_name": "x" * 101}, 400, "Your name can be at most 100 characters"),
        ({"issue_menu": "1", "customer_name": "bell\x07", "platform": "winNT-64"}, 400, "not allowed"),
    ],
)
def test_what_cannot_start_gets_plain_text_and_no_download(
    script: httpx.Client, params: dict[str, str], status: int, says: str
) -> None:
    response = script.get("/api/start_session", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-disposition" not in response.headers
    assert says in response.text and response.text.endswith("\n") and "<" not in response.text
    head = script.head("/api/start_session", params=params)
    assert without_date(head) == without_date(response)


def test_used_and_expired_keys_say_so(
    script: httpx.Client, appliance: RunningAppliance, api: CommandApi, personas: Personas
) -> None:
    expiring = key(api, personas, queue_id="general")

    def expire(session: Session) -> None:
        session.execute(
            update(SessionKey)
            .where(SessionKey.short_key == expiring)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    appliance.with_session(expire)
    for method in ("HEAD", "GET"):
        response = script.request(method, "/api/start_session", params={"short_key": expiring, "platform": "linux"})
        assert (response.status_code, response.headers["content-type"]) == (410, "text/plain; charset=utf-8")
    assert response.text == "That session key has expired. Ask your representative for a new one.\n"


def test_a_broken_request_is_plain_text_too(script: httpx.Client) -> None:
    response = script.post(
        "/api/start_session", content=b"x" * (1024 * 1024 + 10), headers={"content-type": "text/plain"}
    )
    assert (response.status_code, response.headers["content-type"]) == (400, "text/plain; charset=utf-8")


def test_a_closed_general_queue_asks_for_an_issue(script: httpx.Client, appliance: RunningAppliance) -> None:
    def set_open(value: bool) -> None:
        def change(session: Session) -> None:
            site = session.get(PublicSite, 1)
            assert site is not None
            site.general_queue_open = value
            stamps.bump(session, stamps.DIRECTORY)

        appliance.with_session(change)

    set_open(False)
    try:

        def closed() -> None:
            response = script.get("/api/start_session", params={"issue_menu": "1", "platform": "mac"})
            assert (response.status_code, response.text) == (
                400,
                "Please choose an issue or a representative to get help.\n",
            )

        eventually(closed)
        assert script.head("/api/start_session", params={"issue_menu": "1"}).status_code == 400
    finally:
        set_open(True)


# --- anything at all ---------------------------------------------------------------------------

NAMES = [
    "short_key", "ak", "id", "name", "issue_menu", "codeName", "platform", "external_key", "c2cjs", "locale",
    "customer_name", "customer_company", "customer_company_code", "customer_desc", "customer.name",
    "customer.company", "customer.company_code", "customer.details", "session.custom.external_key",
    "session.custom.serial",
]  # fmt: skip
values = st.one_of(
    st.sampled_from(
        ["1", "0", "", "winNT-32", "winNT-64", "mac", "linux", "web", "Admin", "%", "\x00", "\ufffe", "1" * 7]
    ),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=90, max_size=1100),
)
agents = st.sampled_from([CURL, POWERSHELL, MAC_DOWNLOADER, WGET, BROWSER, {"Accept": "*/*", "User-Agent": ""}])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=12)), values, max_size=8),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    headers=agents,
    ns=st.booleans(),
)
def test_no_parameters_make_it_fail(
    script: httpx.Client, params: dict[str, str], method: str, headers: dict[str, str], ns: bool
) -> None:
    path = "/api/start_session.ns" if ns else "/api/start_session"
    if method == "POST":
        response = script.post(path, data=params, headers=headers)
    else:
        response = script.request(method, path, params=params, headers=headers)
    assert response.status_code < 500, response.text[:300]
    wants_download = headers is not BROWSER or platform_from_param(params.get("platform", "")) is not None
    if response.status_code >= 400:
        kind = "text/plain; charset=utf-8" if wants_download else "text/html; charset=utf-8"
        assert (response.headers["content-type"], "content-disposition" in response.headers) == (kind, False)
    elif not wants_download:
        assert response.status_code == (200 if method == "HEAD" else 303)
    elif method == "HEAD":
        assert response.status_code == 200 and int(response.headers["content-length"]) > 0
    else:
        name, body = download(response)
        token_of(launcher_url(name, body))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.lists(st.tuples(st.binary(max_size=30), st.binary(max_size=60)), max_size=10))
def test_no_bytes_in_the_query_make_it_fail(script: httpx.Client, raw: list[tuple[bytes, bytes]]) -> None:
    query = "&".join(f"{quote_from_bytes(name)}={quote_from_bytes(value)}" for name, value in raw)
    assert script.get(f"/api/start_session?{query}").status_code < 500


def test_nothing_crashed(appliance: RunningAppliance) -> None:
    """Runs last in this module: the appliance logged no traceback for any request above."""
    assert "Traceback" not in appliance.log_path.read_text()
