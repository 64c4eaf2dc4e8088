"""The launchers that run the Lifeline client: a POSIX shell script (Linux, and the Mac app's
executable) and a Windows command script. Each carries the chat URL, the appliance's
certificate and, per platform, the client's file name and SHA-256, and:

1. finds a Python the client's build supports (3.11 or later);
2. writes the certificate into the customer's cache folder (no admin rights: the user's own);
3. fetches the client from the same appliance, trusting that certificate only (curl
   --cacert; Python with the certificate as its only anchor when there is no curl or the
   curl will not anchor on a certificate that is not a CA's; PowerShell with a check of
   the exact certificate on Windows), unless the cache holds it;
4. checks its SHA-256 and runs `lifeline-client attach URL --pin CERTIFICATE`.

Before all that it opens the chat page in the browser (`open` on a Mac, `xdg-open` or `gio
open` on Linux, `start` on Windows), so the customer can talk while the client comes, and
then tells the client so (`--no-chat`: one customer socket per session, the page's); when
no browser opened, the client opens one itself or chats in its terminal. When the client
cannot run, the launcher says why; the chat page is the session then.
"""

from __future__ import annotations

from lifeline.appliance.client_downloads import ClientBuild
from lifeline.appliance.client_fetch import WINDOWS_FETCH, newest_first, posix_cases, posix_fetch


def posix(url: str, client: ClientBuild) -> bytes:
    return f"""#!/bin/sh
# Starts your support session: fetches the Lifeline client from your support site (trusting
# only the site's certificate below), checks it and runs it; the chat opens in your browser.
url='{url}'
site="${{url%/chat/*}}"
client=''
case "$(uname -s)-$(uname -m)" in
{posix_cases(client)}esac
PATH="$PATH:/usr/local/bin:/opt/homebrew/bin:/Library/Frameworks/Python.framework/Versions/Current/bin"
if [ "$(uname -s)" = Darwin ]; then cache="$HOME/Library/Caches/Lifeline"; else cache="${{XDG_CACHE_HOME:-$HOME/.cache}}/lifeline"; fi

# The chat page first, in the browser (the customer can talk while the client comes); the
# client is then told the page is open (--no-chat), else it opens one or chats in its terminal.
opened=''
if [ "$(uname -s)" = Darwin ]; then
    if command -v open >/dev/null 2>&1 && open "$url"; then opened=1; fi
elif command -v xdg-open >/dev/null 2>&1 && xdg-open "$url" >/dev/null 2>&1; then opened=1
elif command -v gio >/dev/null 2>&1 && gio open "$url" >/dev/null 2>&1; then opened=1
fi
fail() {{
    echo "$1" >&2
    if [ -n "$opened" ]; then echo "Your session goes on in your web browser." >&2; exit 0; fi
    if command -v sensible-browser >/dev/null 2>&1; then exec sensible-browser "$url"; fi
    echo "Open this address in your web browser: $url"
    exit 0
}}

{posix_fetch(client)}SHIV_ROOT="$cache/unpacked"
export SHIV_ROOT
if [ -n "$opened" ]; then set -- --no-chat; else set --; fi
exec "$python" "$target" attach "$url" --pin "$cert" "$@"
""".encode("ascii")


def windows(url: str, client: ClientBuild) -> bytes:
    artifact = client.zipapps["windows-amd64"]
    site = url.split("/chat/", 1)[0]
    lines = [
        "@echo off",
        "rem Starts your support session: fetches the Lifeline client from your support site (trusting",
        "rem only the site's certificate below), checks it and runs it; the chat opens in your browser.",
        "setlocal",
        f'set "url={url}"',
        f'set "site={site}"',
        f'set "client={artifact.name}"',
        f'set "sum={artifact.sha256}"',
        f'set "pin={client.pin.tag}"',
        f'set "cert={client.pin.base64}"',
        'set "cache=%LOCALAPPDATA%\\Lifeline"',
        'set "self=%~f0"',
        'set "py="',
        f'for %%v in ({newest_first(artifact)}) do if not defined py (py -%%v -c "" >nul 2>&1 && set "py=py -%%v")',
        "rem The chat page first, so the customer can talk while the client comes; the client is told so.",
        'start "" "%url%"',
        "if not defined py (echo The Lifeline client needs Python 3.11 or later, from python.org. & goto failed)",
        "powershell -NoProfile -ExecutionPolicy Bypass -Command \"iex ((Get-Content -LiteralPath $env:self -Raw) -split '#{2}POWERSHELL#{2}')[1]\"",
        "if errorlevel 1 goto failed",
        'set "SHIV_ROOT=%cache%\\unpacked"',
        '%py% "%cache%\\%client%" attach "%url%" --pin "%cache%\\appliance-%pin%.pem" --no-chat',
        "goto :eof",
        ":failed",
        "echo Your session goes on in your web browser.",
        "timeout /t 30",
        "goto :eof",
        "##POWERSHELL##",
        *WINDOWS_FETCH.strip("\n").splitlines(),
        "",
    ]
    return "\r\n".join(lines).encode("ascii")
