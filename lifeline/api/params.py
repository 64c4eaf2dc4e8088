"""Declared parameters: each action states its parameters once, as a dataclass, and
`parse_params` turns raw strings into that dataclass or into the first problem's message.

    @dataclass(frozen=True)
    class TransferParams:
        lsid: str = param(required=True, pattern=LSID)
        queue_id: str = param(required=True, max_length=300)
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from collections.abc import Hashable, Mapping
from typing import Any, TypeVar, cast

from lifeline.api.errors import ApiError
from lifeline.text import is_xml_safe

T = TypeVar("T")

LSID = re.compile(r"^[0-9a-fA-F]{32}$")
MAX_INT = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class Rule:
    required: bool = False
    max_length: int = 1024
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    pattern_hint: str = ""
    # A flag is true when present at all, with or without a value (`&showmembers`).
    flag: bool = False


def param(
    *,
    default: Any = None,
    required: bool = False,
    max_length: int = 1024,
    minimum: int | None = None,
    maximum: int | None = None,
    choices: tuple[str, ...] = (),
    pattern: re.Pattern[str] | None = None,
    pattern_hint: str = "",
    flag: bool = False,
) -> Any:
    rule = Rule(required, max_length, minimum, maximum, choices, pattern, pattern_hint, flag)
    return dataclasses.field(default=default, metadata={"rule": rule})


def rule_of(field: dataclasses.Field[Any]) -> Rule:
    rule = field.metadata.get("rule")
    return rule if isinstance(rule, Rule) else Rule()


@functools.cache
def _declared(cls: type) -> tuple[tuple[str, Any, Rule], ...]:
    """(name, type, rule) of each declared parameter, worked out once per class."""
    hints = typing.get_type_hints(cls)
    return tuple((field.name, hints[field.name], rule_of(field)) for field in dataclasses.fields(cls))


def parse_params(cls: type[T], raw: Mapping[str, str]) -> T:
    values: dict[str, Any] = {}
    for name, kind, rule in _declared(cast(Hashable, cls)):
        if rule.flag:
            values[name] = name in raw and raw[name] not in ("0", "false")
            continue
        text = raw.get(name)
        if text is None or text == "":
            if rule.required:
                raise ApiError(f"The required parameter {name} is missing.")
            continue
        values[name] = _convert(name, text, kind, rule)
    return cls(**values)


def _convert(name: str, text: str, kind: Any, rule: Rule) -> Any:
    if len(text) > rule.max_length:
        raise ApiError(f"The parameter {name} is longer than {rule.max_length} characters.")
    if not is_xml_safe(text):
        raise ApiError(f"The parameter {name} contains characters that are not allowed.")
    if kind in (int, int | None):
        if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
            raise ApiError(f"The parameter {name} must be an integer.")
        number = int(text)
        low = rule.minimum if rule.minimum is not None else -MAX_INT
        high = rule.maximum if rule.maximum is not None else MAX_INT
        if not low <= number <= high:
            raise ApiError(f"The parameter {name} must be between {low} and {high}.")
        return number
    if kind in (bool, bool | None):
        if text not in ("0", "1"):
            raise ApiError(f"The parameter {name} must be 0 or 1.")
        return text == "1"
    if rule.choices and text not in rule.choices:
        raise ApiError(f"The parameter {name} must be one of: {', '.join(rule.choices)}.")
    if rule.pattern is not None and not rule.pattern.match(text):
        raise ApiError(f"The parameter {name} must be {rule.pattern_hint or 'well formed'}.")
    return text


def prefixed(raw: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Parameters named `<prefix><rest>` (session.custom.*), keyed by rest."""
    return {name[len(prefix) :]: value for name, value in raw.items() if name.startswith(prefix)}
