"""The client's list of the failover pair (lifeline_client.follow): the primary a backup
names goes first, an unreadable name moves on to the other appliance, a welcome's list
replaces what was known, and a try that fails moves to the other one."""

from __future__ import annotations

from lifeline_client.follow import Appliances
from lifeline_client.start import parse_site

A, B = "https://a.example.com", "https://b.example.com:8443"


def test_told_next_and_learned() -> None:
    pair = Appliances(parse_site(A), [B, "not a site at all", "http://plain.example.com"])
    assert pair.origins == [A, B]  # what is not an https site is left out
    assert pair.told(B) == parse_site(B) and pair.origins == [B, A]
    assert pair.told("") == parse_site(A)  # a 4421 without a readable origin: the other one
    assert pair.told("https://bad host") == parse_site(B)
    assert pair.next() == parse_site(A) and pair.next() == parse_site(B)
    assert pair.prefer("nonsense") is None and pair.origins == [B, A]
    assert pair.learn([A, B]) is False and pair.origins == [B, A]  # the one connected stays first
    alone = Appliances(parse_site(A))
    assert alone.next() == parse_site(A) and alone.told("") == parse_site(A)
    assert alone.learn([A, "https://c.example.com"]) and alone.origins == [A, "https://c.example.com"]
