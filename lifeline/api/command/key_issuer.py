"""generate_session_key calls that arrive together are issued together.

While one write of keys is in flight, the calls that arrive wait for the next one: one
trip to the writer thread, one INSERT and one commit for all of them. Each call is
answered only after the commit that holds its key, so an answered key survives a crash
as any committed row does; and a call that arrives alone is written at once.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from lifeline.api.errors import ApiError
from lifeline.db.engine import Database
from lifeline.sessions.keys import IssuedKey, KeyRequest, SessionKeyError, generate_session_keys
from lifeline.sessions.queues import Queue, QueueError, resolve_queue

MAX_KEYS_PER_WRITE = 256

Issued = tuple[Queue, IssuedKey]


@dataclass
class KeyAsk:
    """One call's key: its queue_id as given, and the rest of the request once the queue is known."""

    queue_id: str
    request: Callable[[Queue], KeyRequest]
    max_ttl: int
    answer: asyncio.Future[Issued] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def _issue_all(asks: list[KeyAsk]) -> Callable[[Session], list[Issued | ApiError]]:
    def issue(session: Session) -> list[Issued | ApiError]:
        outcomes: list[Issued | ApiError | None] = [None] * len(asks)
        wanted: dict[int, list[tuple[int, Queue, KeyRequest]]] = {}
        for n, ask in enumerate(asks):
            try:
                queue = resolve_queue(session, ask.queue_id)
            except QueueError as error:
                outcomes[n] = ApiError(str(error))
                continue
            wanted.setdefault(ask.max_ttl, []).append((n, queue, ask.request(queue)))
        for max_ttl, group in wanted.items():
            keys = generate_session_keys(session, [request for _, _, request in group], max_ttl=max_ttl)
            for (n, queue, _), key in zip(group, keys, strict=True):
                outcomes[n] = ApiError(str(key)) if isinstance(key, SessionKeyError) else (queue, key)
        return [outcome for outcome in outcomes if outcome is not None]

    return issue


class KeyIssuer:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[KeyAsk] = []
        self._writing: asyncio.Task[None] | None = None

    async def issue(self, ask: KeyAsk) -> Issued:
        self._waiting.append(ask)
        if self._writing is None:
            self._writing = asyncio.get_running_loop().create_task(self._write_while_waiting())
        return await ask.answer

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                asks = self._waiting[:MAX_KEYS_PER_WRITE]
                del self._waiting[:MAX_KEYS_PER_WRITE]
                try:
                    outcomes = await self.db.write(_issue_all(asks))
                except Exception as error:  # the write failed: every call in it fails, none is answered a key
                    for ask in asks:
                        if not ask.answer.done():
                            ask.answer.set_exception(error)
                    continue
                for ask, outcome in zip(asks, outcomes, strict=True):
                    if ask.answer.done():  # the caller went away; its key stays issued, like any unread answer
                        continue
                    if isinstance(outcome, ApiError):
                        ask.answer.set_exception(outcome)
                    else:
                        ask.answer.set_result(outcome)
        finally:
            self._writing = None


_issuers: weakref.WeakKeyDictionary[Database, KeyIssuer] = weakref.WeakKeyDictionary()


def key_issuer(db: Database) -> KeyIssuer:
    """The appliance process's issuer for `db` (one per database handle)."""
    issuer = _issuers.get(db)
    if issuer is None:
        issuer = _issuers[db] = KeyIssuer(db)
    return issuer
