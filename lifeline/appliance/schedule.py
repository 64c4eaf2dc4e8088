"""When the scheduled backup runs, and the folder it writes to, as settings hold them: the
schedule's two forms ("daily HH:MM" in the appliance's time zone, "every N hours" on the
hour like cron's `0 */N`) and what makes a folder usable. Here, below the backup package,
because the settings check them when an admin saves them; the backups' files in the folder
are backup/folder.py's."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

DAILY = re.compile(r"daily\s+(\d{1,2}):(\d{2})")
EVERY = re.compile(r"every\s+(\d{1,2})\s+hours?")


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    hour: int | None = None  # daily at hour:minute
    minute: int = 0
    every_hours: int | None = None  # or every N hours, on the hour

    def __str__(self) -> str:
        if self.every_hours is not None:
            return f"every {self.every_hours} hour{'s' if self.every_hours > 1 else ''}"
        return f"daily {self.hour:02d}:{self.minute:02d}"

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first run strictly after `moment` (aware), in UTC. Counted on the wall clock
        of `zone`: a time skipped by a daylight saving change runs an hour later that day."""
        wall = moment.astimezone(zone).replace(tzinfo=None)
        if self.every_hours is not None:
            hour = wall.replace(minute=0, second=0, microsecond=0)
            for step in range(1, 25):
                candidate = hour + timedelta(hours=step)
                if candidate.hour % self.every_hours == 0:
                    return _utc(candidate, zone)
            raise AssertionError("every hour divides one of the next 24")
        assert self.hour is not None
        candidate = datetime.combine(wall.date(), time(self.hour, self.minute))
        if _utc(candidate, zone) <= moment:
            candidate += timedelta(days=1)
        return _utc(candidate, zone)


def _utc(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone).astimezone(UTC)


def parse_schedule(raw: str) -> Schedule:
    text = " ".join(raw.strip().lower().split())
    daily = DAILY.fullmatch(text)
    if daily:
        hour, minute = int(daily.group(1)), int(daily.group(2))
        if hour > 23 or minute > 59:
            raise ScheduleError(f"{raw.strip()!r} is not a time of day (00:00 to 23:59)")
        return Schedule(hour=hour, minute=minute)
    every = EVERY.fullmatch(text)
    if every:
        hours = int(every.group(1))
        if not 1 <= hours <= 24:
            raise ScheduleError("every 1 to 24 hours")
        return Schedule(every_hours=hours)
    raise ScheduleError(f"expected 'daily HH:MM' or 'every N hours', not {raw.strip()!r}")


# --- the folder ------------------------------------------------------------------------------


def check_folder(raw: str) -> str:
    """An absolute path to an existing folder this process may write to, or why not."""
    value = raw.strip()
    if not value:
        return ""
    path = Path(value)
    if not path.is_absolute():
        raise ScheduleError(f"the folder must be an absolute path (starting with /), not {value!r}")
    if not path.exists():
        raise ScheduleError(f"{value} does not exist; create it first")
    if not path.is_dir():
        raise ScheduleError(f"{value} is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ScheduleError(f"the appliance may not write to {value}")
    return value
