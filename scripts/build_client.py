"""Build the Lifeline client downloads the appliance serves (scripts/install runs this).

For each customer platform, from the wheels of ./protocol and ./client and their
dependencies' wheels fetched from PyPI (exact pins, binary wheels only, for every CPython
3.11 to 3.14):

- `lifeline-client-<version>-<platform>.pyz`: one zipapp made with shiv, which unpacks its
  site-packages into the customer's cache folder on its first run (what the launchers use);
- `lifeline-client-<version>-<platform>-wheels.zip`: the same wheels as a wheelhouse, for a
  private virtual environment (measured against the zipapp: docs/decisions.md).

`manifest.json` lists them with their SHA-256, size, platform and Python versions; the
appliance serves only what it lists. A platform whose wheels pip cannot fetch is left out
and named on standard error.

Usage: build_client.py OUTPUT_DIR
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# Platform name -> (pip --platform tags, the marker environment of that system).
PLATFORMS: dict[str, tuple[list[str], dict[str, str]]] = {
    "linux-x86_64": (["manylinux2014_x86_64", "manylinux_2_28_x86_64"], {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"}),
    "linux-aarch64": (["manylinux2014_aarch64", "manylinux_2_28_aarch64"], {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "aarch64"}),
    "macos-arm64": (["macosx_11_0_arm64", "macosx_14_0_arm64"], {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"}),
    "macos-x86_64": (["macosx_10_13_x86_64", "macosx_11_0_x86_64"], {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "x86_64"}),
    "windows-amd64": (["win_amd64"], {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"}),
}  # fmt: skip
# Fixed, so that the same wheels make the same wheelhouse bytes.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def run(*args: str) -> None:
    # A fixed time in every archive (our own wheels, the zipapps): the same sources make the same bytes.
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "SOURCE_DATE_EPOCH": "1704067200"})


def pip(*args: str) -> None:
    run(sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", *args)


def requirements_of(wheel: Path, environment: dict[str, str]) -> list[Requirement]:
    """A wheel's dependencies that apply on the target system (markers read for it, not for
    this machine, which pip would do)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(name).decode("utf-8"))
    found = []
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": "", **environment}):
            found.append(requirement)
    return found


def download(requirements: list[Requirement], tags: list[str], python: str, into: Path, own: Path) -> None:
    platforms = [arg for tag in tags for arg in ("--platform", tag)]
    pip(
        "download", "--no-deps", "--only-binary=:all:", *platforms, "--python-version", python,
        "--implementation", "cp", "--find-links", str(own), "--dest", str(into),
        *(f"{requirement.name}{requirement.specifier}" for requirement in requirements),
    )  # fmt: skip


def wheels_for(client_wheel: Path, own: Path, platform: str, into: Path) -> list[str]:
    """The client's wheel and every wheel it needs there, for each Python version that has
    them all; the versions that do."""
    into.mkdir(parents=True)
    shutil.copy(client_wheel, into)
    pythons = []
    for python in PYTHONS:
        try:
            wheels_for_python(client_wheel, own, platform, python, into)
        except subprocess.CalledProcessError:
            print(f"build_client: {platform} has no wheels for Python {python}", file=sys.stderr)
            continue
        pythons.append(python)
    return pythons


def wheels_for_python(client_wheel: Path, own: Path, platform: str, python: str, into: Path) -> None:
    tags, environment = PLATFORMS[platform]
    env = {**environment, "python_version": python, "python_full_version": f"{python}.0"}
    # Breadth first, one pip run per level: the client's requirements, then theirs.
    seen = {"lifeline-client"}
    level = requirements_of(client_wheel, env)
    while level:
        fresh = {canonicalize_name(r.name): r for r in level if canonicalize_name(r.name) not in seen}
        if not fresh:
            break
        seen |= set(fresh)
        download(list(fresh.values()), tags, python, into, own)
        level = [
            requirement
            for wheel in into.glob("*.whl")
            if canonicalize_name(wheel.name.split("-")[0]) in fresh
            for requirement in requirements_of(wheel, env)
        ]


def zipapp(wheels: Path, out: Path, scratch: Path) -> None:
    """All wheels unpacked into one site-packages (extension modules of different Python
    versions have different file names, so they sit side by side), then shiv."""
    site_packages = scratch / "site-packages"
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site_packages)
    shiv = Path(sys.executable).parent / "shiv"
    run(
        str(shiv), "--site-packages", str(site_packages), "--console-script", "lifeline-client",
        "--python", "/usr/bin/env python3", "--reproducible", "--compressed", "--output-file", str(out),
    )  # fmt: skip


def wheelhouse(wheels: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for wheel in sorted(wheels.glob("*.whl")):
            info = zipfile.ZipInfo(wheel.name, date_time=ZIP_TIME)
            archive.writestr(info, wheel.read_bytes())


def describe(path: Path, platform: str, kind: str, pythons: list[str]) -> dict[str, object]:
    return {
        "platform": platform,
        "kind": kind,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "size": path.stat().st_size,
        "pythons": pythons,
    }


def source_digest() -> str:
    """What the build is made from: the client's and the protocol's sources (their pins
    too) and this script. The same digest as the last build's: nothing to do."""
    digest = hashlib.sha256()
    files = [Path(__file__).resolve()]
    for folder in (ROOT / "client", ROOT / "protocol"):
        files += sorted(
            path
            for path in folder.rglob("*")
            if path.is_file()
            and not any(part in ("build", "__pycache__") or part.endswith(".egg-info") for part in path.parts)
        )
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    output = Path(sys.argv[1]).resolve()
    source = source_digest()
    try:
        built = json.loads((output / "manifest.json").read_text()).get("source")
    except (OSError, ValueError, AttributeError):
        built = None
    if built == source:
        print(f"build_client: {output} is up to date", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="lifeline-client-build-") as tmp:
        scratch = Path(tmp)
        own = scratch / "own"
        pip("wheel", "--no-deps", "--wheel-dir", str(own), str(ROOT / "protocol"), str(ROOT / "client"))
        [client_wheel] = own.glob("lifeline_client-*.whl")
        version = client_wheel.name.split("-")[1]
        staging = scratch / "out"
        staging.mkdir()
        artifacts: dict[str, dict[str, object]] = {}
        # The platforms' downloads in parallel (pip waits on the network, not the processor).
        with ThreadPoolExecutor(max_workers=len(PLATFORMS)) as pool:
            found = dict(
                zip(
                    PLATFORMS,
                    pool.map(lambda p: wheels_for(client_wheel, own, p, scratch / "wheels" / p), PLATFORMS),
                    strict=True,
                )
            )
        for platform, pythons in found.items():
            wheels = scratch / "wheels" / platform
            if not pythons:
                print(f"build_client: no client for {platform}: pip could not fetch its wheels", file=sys.stderr)
                continue
            pyz = staging / f"lifeline-client-{version}-{platform}.pyz"
            zipapp(wheels, pyz, scratch / "zipapp" / platform)
            house = staging / f"lifeline-client-{version}-{platform}-wheels.zip"
            wheelhouse(wheels, house)
            artifacts[pyz.name] = describe(pyz, platform, "zipapp", pythons)
            artifacts[house.name] = describe(house, platform, "wheelhouse", pythons)
        manifest = {"version": version, "source": source, "artifacts": artifacts}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        # Replace the previous build whole: a running appliance reads the manifest again when it changes.
        if output.exists():
            shutil.rmtree(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, output)
    print(f"build_client: {len(artifacts)} client downloads in {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
