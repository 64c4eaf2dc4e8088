"""The XSDs we serve, filled in with the namespace of the answers they describe."""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def _template(name: str) -> str:
    return (HERE / f"{name}.xsd").read_text(encoding="utf-8")


def schema_text(name: str, namespace: str) -> str:
    return _template(name).replace("{NAMESPACE}", namespace)
