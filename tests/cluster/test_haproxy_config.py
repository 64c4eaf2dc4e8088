"""The HAProxy configuration docs/install.md shows is the one bench/cluster.py runs in the
cluster tests (apart from addresses and the statistics page the tests read), and HAProxy
accepts it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.cluster import HAPROXY, Node, haproxy_config

DOCS = Path(__file__).resolve().parents[2] / "docs" / "install.md"
ADDRESSES = re.compile(r"^\s*(bind|server|maxconn)\b")


def documented() -> str:
    text = DOCS.read_text()
    after = text.index("This is the HAProxy configuration the tests run")
    match = re.search(r"```\n(.*?)```", text[after:], re.S)
    assert match is not None
    return match.group(1)


def directives(config: str) -> list[str]:
    """Every line that is not a comment, an address, or the tests' statistics page."""
    config = config.split("frontend stats")[0]
    return [
        line.strip()
        for line in config.splitlines()
        if line.strip() and not line.strip().startswith("#") and not ADDRESSES.match(line)
    ]


def test_the_documented_configuration_is_the_tested_one(tmp_path: Path) -> None:
    nodes = [Node(index, tmp_path, {}, "support.example.com") for index in range(3)]
    assert directives(documented()) == directives(haproxy_config(8443, 8444, nodes))


@pytest.mark.skipif(shutil.which(HAPROXY) is None, reason="needs haproxy")
def test_haproxy_accepts_the_documented_configuration(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    # Loopback addresses for the check: HAProxy resolves the servers' when it reads them.
    config.write_text(re.sub(r"10\.0\.0\.\d+", "127.0.0.1", documented()))
    checked = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
