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

from lifeline.appliance.client_downloads import Artifact, ClientBuild

DOWNLOAD_PATH = "/download/client/"
# `uname -s`-`uname -m` of each platform's build.
POSIX_MACHINES = {
    "linux-x86_64": "Linux-x86_64|Linux-amd64",
    "linux-aarch64": "Linux-aarch64|Linux-arm64",
    "macos-arm64": "Darwin-arm64",
    "macos-x86_64": "Darwin-x86_64",
}


def newest_first(artifact: Artifact) -> str:
    return " ".join(sorted(artifact.pythons, key=lambda v: tuple(int(p) for p in v.split(".")), reverse=True))


def posix(url: str, client: ClientBuild) -> bytes:
    cases = "".join(
        f"{machines}) client='{artifact.name}' sum='{artifact.sha256}' pythons='{newest_first(artifact)}' ;;\n"
        for platform, machines in POSIX_MACHINES.items()
        if (artifact := client.zipapps.get(platform)) is not None
    )
    return f"""#!/bin/sh
# Starts your support session: fetches the Lifeline client from your support site (trusting
# only the site's certificate below), checks it and runs it; the chat opens in your browser.
url='{url}'
site="${{url%/chat/*}}"
client=''
case "$(uname -s)-$(uname -m)" in
{cases}esac
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

[ -n "$client" ] || fail "There is no Lifeline client for this computer ($(uname -sm))."
python=''
candidates=''
for version in $pythons; do candidates="$candidates python$version"; done
[ "$(uname -s)" = Darwin ] || candidates="$candidates python3"  # a Mac's python3 may be a stub that asks to install tools
for candidate in $candidates; do
    found=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    case " $pythons " in *" $found "*) python=$candidate; break ;; esac
done
[ -n "$python" ] || fail "The Lifeline client needs Python $(echo $pythons | tr ' ' ,) (python3, from python.org or your system's packages)."

umask 077
mkdir -p "$cache" && chmod 700 "$cache" || fail "Could not make the folder $cache."
cert="$cache/appliance-{client.pin.tag}.pem"
cat > "$cert" <<'CERTIFICATE'
{client.pin.pem.rstrip()}
CERTIFICATE
[ -s "$cert" ] || fail "Could not write $cert."

sha256() {{ "$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"; }}
fetch_with_python() {{
    "$python" -c 'import shutil, ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[1])
context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
with urllib.request.urlopen(sys.argv[2], context=context, timeout=60) as answer, open(sys.argv[3], "wb") as out:
    shutil.copyfileobj(answer, out)' "$cert" "$1" "$2"
}}
fetch() {{
    command -v curl >/dev/null 2>&1 || {{ fetch_with_python "$@"; return; }}
    curl --fail --silent --show-error --proto =https --cacert "$cert" --connect-timeout 20 --max-time 600 --output "$2" "$1"
    status=$?
    # 60: this curl would not take a certificate that is not a CA's as the only anchor.
    if [ "$status" = 60 ]; then fetch_with_python "$@"; else return "$status"; fi
}}
target="$cache/$client"
if [ ! -f "$target" ] || [ "$(sha256 "$target")" != "$sum" ]; then
    echo "Fetching the Lifeline client from $site ..." >&2
    part="$target.$$.part"
    if ! fetch "$site{DOWNLOAD_PATH}$client" "$part"; then rm -f "$part"; fail "Could not fetch the Lifeline client from $site."; fi
    if [ "$(sha256 "$part")" != "$sum" ]; then rm -f "$part"; fail "The Lifeline client fetched is not the one expected; it was not run."; fi
    mv -f "$part" "$target"
fi
SHIV_ROOT="$cache/unpacked"
export SHIV_ROOT
if [ -n "$opened" ]; then set -- --no-chat; else set --; fi
exec "$python" "$target" attach "$url" --pin "$cert" "$@"
""".encode("ascii")


# PowerShell's part of the Windows launcher, after the marker line: fetch and check the client.
# The callback accepts the exact certificate the launcher carries and a matching host name.
WINDOWS_FETCH = r"""
$ErrorActionPreference = 'Stop'
try {
    New-Item -ItemType Directory -Force -Path $env:cache | Out-Null
    $pem = Join-Path $env:cache "appliance-$($env:pin).pem"
    $lines = [regex]::Replace($env:cert, '(.{64})', "`$1`n").TrimEnd()  # PEM's 64 characters a line
    [IO.File]::WriteAllText($pem, "-----BEGIN CERTIFICATE-----`n$lines`n-----END CERTIFICATE-----`n")
    $target = Join-Path $env:cache $env:client
    function Sum($path) { if (Test-Path -LiteralPath $path) { (Get-FileHash -Algorithm SHA256 -LiteralPath $path).Hash.ToLower() } }
    if ((Sum $target) -ne $env:sum) {
        Write-Host "Fetching the Lifeline client from $($env:site) ..."
        [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
        [Net.ServicePointManager]::ServerCertificateValidationCallback = {
            param($sender, $certificate, $chain, $errors)
            (($errors -band [Net.Security.SslPolicyErrors]::RemoteCertificateNameMismatch) -eq 0) -and
                ([Convert]::ToBase64String($certificate.GetRawCertData()) -eq $env:cert)
        }
        $part = "$target.part"
        (New-Object Net.WebClient).DownloadFile("$($env:site)/download/client/$($env:client)", $part)
        if ((Sum $part) -ne $env:sum) { Remove-Item -LiteralPath $part; throw 'The Lifeline client fetched is not the one expected; it was not run.' }
        Move-Item -Force -LiteralPath $part -Destination $target
    }
    exit 0
} catch {
    Write-Host "Could not fetch the Lifeline client: $_"
    exit 1
}
"""


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
