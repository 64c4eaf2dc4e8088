"""Ids in URL paths: `{name:id}` matches only digits the database's integer columns can
hold, so an id out of that range is a 404 like any unknown id, not an error deeper down."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from lifeline.db.base import MAX_ID


def digits_up_to(limit: int) -> str:
    """A regular expression of the decimal numbers 0..limit."""
    top = str(limit)
    shorter = [f"[0-9]{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    same_length = [
        f"{top[:i]}[0-{int(top[i]) - 1}][0-9]{{{len(top) - i - 1}}}" for i in range(len(top)) if top[i] != "0"
    ]
    return "|".join([*shorter, *same_length, top])


class IdConvertor(Convertor[int]):
    regex = f"(?:{digits_up_to(MAX_ID)})"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
