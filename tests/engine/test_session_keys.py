"""Session keys: seven digits, used once, capped lifetime, codes recycled after expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.directory.queries import DirectorySnapshot, SiteRecord
from lifeline.sessions import keys
from lifeline.sessions.keys import (
    IssuedKey,
    KeyRequest,
    KeyState,
    SessionKeyError,
    find_key,
    generate_session_key,
    generate_session_keys,
)
from lifeline.sessions.models import SessionKey
from lifeline.sessions.queues import GENERAL


def generate(db: Database, **request: object) -> SessionKey:
    return db.call(lambda s: generate_session_key(s, KeyRequest(queue=GENERAL, **request), max_ttl=86400))  # type: ignore[arg-type]


def test_a_key_is_seven_digits_without_a_leading_zero(db: Database) -> None:
    for _ in range(50):
        key = generate(db)
        assert len(key.short_key) == 7 and key.short_key.isdigit() and key.short_key[0] != "0"
        assert len(key.url_key) == 32


def test_a_key_lives_for_the_maximum_lifetime_unless_told_less(db: Database) -> None:
    default = generate(db)
    assert default.ttl == 86400
    short = generate(db, ttl=600)
    assert short.ttl == 600
    assert abs((short.expires_at - utcnow()).total_seconds() - 600) < 5
    capped = generate(db, ttl=10**9)
    assert capped.ttl == 86400


def test_a_key_can_be_found_by_its_code_or_its_url_key_until_used(db: Database) -> None:
    key = generate(db, external_key="TICKET-1")
    state, found = db.call(find_key, short_key=key.short_key)
    assert state is KeyState.USABLE and found is not None and found.external_key == "TICKET-1"
    assert db.call(find_key, url_key=key.url_key)[0] is KeyState.USABLE

    def use(session: Session) -> None:
        session_key = session.get(SessionKey, key.id)
        assert session_key is not None
        from lifeline.presence import actions as presence
        from lifeline.presence.models import ClientInfo, ClientKind
        from lifeline.sessions import actions as engine

        presence.register_node(session, "n", "h")
        customer = presence.connect(session, node_id="n", kind=ClientKind.SUPPORT_CUSTOMER, info=ClientInfo())
        engine.start_session(
            session,
            queue=GENERAL,
            public_site_id=1,
            customer_connection=customer,
            details=engine.CustomerDetails(),
            start_method="session_key",
            session_key=session_key,
        )

    db.call(use)
    assert db.call(find_key, short_key=key.short_key)[0] is KeyState.USED
    assert db.call(find_key, short_key="0000000")[0] is KeyState.UNKNOWN


def test_an_expired_key_is_expired_and_its_code_can_be_given_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = generate(db)
    db.call(lambda s: s.execute(update(SessionKey).values(expires_at=utcnow() - timedelta(seconds=1))))
    assert db.call(find_key, short_key=old.short_key)[0] is KeyState.EXPIRED
    monkeypatch.setattr(keys, "_random_code", lambda: old.short_key)
    again = generate(db)
    assert again.short_key == old.short_key
    assert db.call(find_key, short_key=old.short_key)[0] is KeyState.USABLE


def test_a_code_in_use_is_never_given_twice(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    live = generate(db)
    codes = iter([live.short_key, live.short_key, "7654321"])
    monkeypatch.setattr(keys, "_random_code", lambda: next(codes))
    assert generate(db).short_key == "7654321"


def test_it_gives_up_with_a_clear_error_when_no_code_is_free(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    live = generate(db)
    monkeypatch.setattr(keys, "_random_code", lambda: live.short_key)
    with pytest.raises(SessionKeyError, match="Could not find a free session key"):
        generate(db)


def test_keys_made_together_never_share_a_code_and_a_bad_one_fails_alone(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = generate(db)
    # The first draws collide with a live key and with each other; the retries draw afresh.
    codes = iter([live.short_key, "2222222", "2222222", "3333333", "4444444"])
    monkeypatch.setattr(keys, "_random_code", lambda: next(codes))
    requests = [
        KeyRequest(queue=GENERAL),
        KeyRequest(queue=GENERAL, external_key="second"),
        KeyRequest(queue=GENERAL, ttl=0),
        KeyRequest(queue=GENERAL, external_key="fourth"),
    ]
    made = db.call(lambda s: generate_session_keys(s, requests, max_ttl=86400))
    assert isinstance(made[2], SessionKeyError)
    issued = [key for key in made if isinstance(key, IssuedKey)]
    assert [key.external_key for key in issued] == ["", "second", "fourth"]
    assert sorted(key.short_key for key in issued) == ["2222222", "3333333", "4444444"]
    for key in issued:
        state, stored = db.call(find_key, url_key=key.url_key)
        assert state is KeyState.USABLE and stored is not None and stored.short_key == key.short_key


def test_a_key_is_for_the_site_its_hostname_names_and_the_url_uses_that_hostname() -> None:
    default = SiteRecord(1, "Default", ("support.example.com",), True, True, False)
    other = SiteRecord(2, "Other", ("help.example.org", "remote.example.org"), True, True, False)
    directory = DirectorySnapshot(teams=(), sites=(default, other), custom_attributes={})
    assert keys.key_site(directory) == keys.KeySite(1, "support.example.com")
    assert keys.key_site(directory, "Remote.Example.org.") == keys.KeySite(2, "remote.example.org")
    assert keys.key_site(directory, "elsewhere.example.net") is None
