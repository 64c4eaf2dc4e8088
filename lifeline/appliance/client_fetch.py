"""The part every launcher shares: where the client is fetched from, and the steps that find
a Python, write the appliance's certificate and fetch and check the client trusting that
certificate alone. The customer's launchers (api/start/client_launch.py) and the Jump Client
installers (jump/install_scripts.py) each add what they then run."""

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


def posix_cases(client: ClientBuild) -> str:
    """The lines of a `case "$(uname -s)-$(uname -m)"` that set client, sum and pythons."""
    return "".join(
        f"{machines}) client='{artifact.name}' sum='{artifact.sha256}' pythons='{newest_first(artifact)}' ;;\n"
        for platform, machines in POSIX_MACHINES.items()
        if (artifact := client.zipapps.get(platform)) is not None
    )


def posix_fetch(client: ClientBuild) -> str:
    """After the case: find a Python the build supports, write the certificate into "$cache"
    (as "$cert"), fetch the client into "$target" unless the cache holds it, check it. Needs
    $site, $cache and a fail() that says why and stops."""
    return f"""[ -n "$client" ] || fail "There is no Lifeline client for this computer ($(uname -sm))."
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
"""


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
