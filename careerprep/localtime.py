"""The user's local day, in Python and in SQL: the one home for time zones.

Times are stored as aware UTC; a user's day (daily limits, streaks, "today", the dashboard's days)
runs midnight to midnight in their IANA time zone, exact across DST changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Integer, case, cast, func

from .extensions import db

ZONES = sorted(available_timezones() - {"localtime", "Factory"})  # what a user may choose
_ZONE_SET = frozenset(ZONES)
JDN_OF_ORDINAL_ZERO = 1_721_425  # date.fromordinal(1) (1 January of year 1) is Julian Day Number 1,721,426


def zone(name: str | None) -> ZoneInfo:
    """A time zone by IANA name, falling back to UTC for an unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def known_zone(name: str | None) -> str | None:
    """`name` if it is an IANA zone a user may choose (a browser's `Intl` zone is checked here), else None."""
    return name if name in _ZONE_SET else None


def local_today(tz_name: str, now: datetime) -> date:
    """The calendar date it is at `now` in the zone."""
    return now.astimezone(zone(tz_name)).date()


def start_of(day: date, tz_name: str) -> datetime:
    """Midnight at the start of `day` in the zone, as a UTC instant."""
    return datetime.combine(day, time.min, tzinfo=zone(tz_name)).astimezone(UTC)


def day_start(tz_name: str, now: datetime) -> datetime:
    """The start of the local day containing `now`, as a UTC instant."""
    return start_of(local_today(tz_name, now), tz_name)


def offset_segments(tz_name: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets over [start, end]: (from this UTC instant, offset in minutes), in order.

    DST changes are found by stepping day by day and bisecting to the second where the offset moves.
    """
    tz = zone(tz_name)

    def offset(at: datetime) -> int:
        return int(at.astimezone(tz).utcoffset().total_seconds() // 60)

    segments = [(start, offset(start))]
    cursor = start
    while cursor < end:
        step = min(cursor + timedelta(days=1), end)
        if offset(step) != segments[-1][1]:
            low, high = cursor, step
            while (high - low) > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            segments.append((high, offset(step)))
        cursor = step
    return segments


def local_date(column, tz_name: str, start: datetime, end: datetime):
    """SQL: the local calendar date of a UTC timestamp column, exact across DST changes.

    PostgreSQL converts natively. SQLite gets a CASE over the zone's offset periods between `start`
    and `end` (rows outside use the nearest period's offset), evaluated in C for every row; it yields
    a Julian Day Number, which `as_date` turns back into a date.
    """
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone(zone(tz_name).key, column))
    segments = offset_segments(tz_name, start, end)

    def shifted(minutes: int):
        # The local day number (Julian Day Number): integer arithmetic, no date strings per row.
        return cast(func.julianday(column) + (minutes / 1440.0 + 0.5), Integer)

    if len(segments) == 1:
        return shifted(segments[0][1])
    # Newest period first: most reviews are recent, so most rows match the first test.
    whens = [(column >= boundary, shifted(offset)) for boundary, offset in reversed(segments[1:])]
    return case(*whens, else_=shifted(segments[0][1]))


def as_date(value) -> date:
    """A local date from `local_date` in a query: a date (PostgreSQL) or a Julian Day Number (SQLite)."""
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return date.fromordinal(value - JDN_OF_ORDINAL_ZERO)
    return date.fromisoformat(str(value))
