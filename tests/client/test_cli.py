"""`lifeline-client` as a customer meets it: its help documents every mode and option, and
every mistake is one clear line with exit status 1."""

from __future__ import annotations

import subprocess

import pytest

from tests.client.scripted import CLIENT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLIENT), *args], capture_output=True, text=True, timeout=60, check=False)


def test_help_documents_every_mode_and_option() -> None:
    done = run("--help")
    assert done.returncode == 0
    for words in (
        "connect URL KEY",
        "rep URL REP",
        "issue URL --issue ID",
        "attach CHAT_URL",
        "--ca FILE",
        "--pin FILE",
        "--allow CAPS",
        "--no-browser",
        "--no-chat",
        "--verbose",
        "/revoke",
    ):
        assert words in done.stdout, words
    issue = run("issue", "--help")
    assert "--name" in issue.stdout and "--details" in issue.stdout and "--issue" in issue.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("attach", "http://support.example.com/chat/abc"), "the site address must start with https://"),
        (("attach", "https://support.example.com/chat/a/b"), "the chat address must look like https://HOST/chat/TOKEN"),
        (("attach", "https://h/chat/abc", "--allow", "camera"), "--allow: unknown capability 'camera'"),
        (("attach", "https://h/chat/abc", "--pin", "/no/such.pem"), "--pin /no/such.pem: No such file or directory"),
        (("connect", "https://127.0.0.1:9", "1234567"), "cannot reach https://127.0.0.1:9"),
        (("format",), "invalid choice: 'format'"),
        (("attach", "https://h/chat/abc", "--no-chat", "--no-browser"), "not both"),
        (("issue", "https://h"), "the following arguments are required: --issue"),
    ],
)
def test_mistakes_are_one_line_and_exit_1(args: tuple[str, ...], said: str) -> None:
    done = run(*args)
    assert done.returncode == 1
    assert said in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
