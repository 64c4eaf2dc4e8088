"""Report times are written from a per-hour offset cache; they must read exactly as Python's
own conversion writes them, in every zone, across clock changes included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.api.xml import _iso8601_exactly, iso8601, unix, unix_and_iso8601

ZONES = sorted(available_timezones())
MOMENTS = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(UTC))


@settings(max_examples=2000)
@given(moment=MOMENTS, zone=st.sampled_from(ZONES))
def test_any_moment_in_any_zone_reads_as_pythons_conversion(moment: datetime, zone: str) -> None:
    assert iso8601(moment, ZoneInfo(zone)) == _iso8601_exactly(moment, ZoneInfo(zone))
    assert unix_and_iso8601(moment, ZoneInfo(zone)) == (unix(moment), _iso8601_exactly(moment, ZoneInfo(zone)))


@pytest.mark.parametrize(
    ("zone", "change"),
    [
        ("America/New_York", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # spring forward
        ("America/New_York", datetime(2026, 11, 1, 6, 0, tzinfo=UTC)),  # fall back
        ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, 0, tzinfo=UTC)),  # a half-hour change
        ("Asia/Kathmandu", datetime(1985, 12, 31, 18, 30, tzinfo=UTC)),  # +05:30 to +05:45
        ("Europe/Paris", datetime(1911, 3, 10, 23, 50, 39, tzinfo=UTC)),  # from an offset with seconds
    ],
)
def test_every_second_around_a_clock_change(zone: str, change: datetime) -> None:
    for second in range(-7200, 7200, 7):
        moment = change + timedelta(seconds=second, microseconds=999_999 if second % 2 else 0)
        assert iso8601(moment, ZoneInfo(zone)) == _iso8601_exactly(moment, ZoneInfo(zone))
