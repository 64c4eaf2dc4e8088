"""`lifeline failover setup` and `status` on a data directory, no appliance running: bad
input is one line and status 1, and the pairing key is printed once and never stored."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lifeline.appliance.tls import ensure_certificate
from lifeline.cli import main


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, stdin: str = "") -> Ran:
    """The `lifeline` command in this process (an interpreter per call is seconds on CI)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        sys.stdin = old_stdin
    return Ran(code, out.getvalue(), err.getvalue())


def failure(result: Ran) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    [line] = result.stderr.splitlines()
    return line


def test_setup_refuses_bad_input_and_shows_the_key_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("one SQLite data directory is enough for the command's checks")
    monkeypatch.setenv("LIFELINE_ADMIN_PASSWORD", "first-admin-password")
    data = tmp_path / "data"
    assert run("init", "--data-dir", str(data)).returncode == 0
    peer_cert, _ = ensure_certificate(tmp_path / "peer-tls", "b.example.com")
    common = ["failover", "setup", "--data-dir", str(data), "--own-url", "https://a.example.com:8443"]
    common += ["--peer-url", "https://b.example.com:8443", "--peer-certificate", str(peer_cert)]
    assert "not configured" in run("failover", "status", "--data-dir", str(data)).stdout
    bad_url = failure(run(*common[:4], "--own-url", "http://a.example.com", *common[6:], "--role", "primary"))
    assert "--own-url must be an HTTPS origin" in bad_url
    assert "the backup needs the primary's pairing key" in failure(run(*common, "--role", "backup"))
    bad_key = failure(run(*common, "--role", "backup", "--pairing-key-file", "-", stdin="not-a-key\n"))
    assert "the pairing key is 64 hexadecimal digits" in bad_key
    printed = json.loads(run(*common, "--role", "primary", "--json").stdout)
    key = printed["pairing_key"]
    assert len(key.replace("-", "")) == 64
    status = run("failover", "status", "--data-dir", str(data), "--json")
    assert json.loads(status.stdout)["role"] == "primary"
    stored = "".join(p.read_text(errors="replace") for p in data.rglob("*") if p.is_file() and p.suffix != ".db")
    assert key not in stored and key.replace("-", "") not in stored
