"""Easy Days and load balancing: which day, within FSRS's fuzz range, a review card comes back.

Both are deterministic (the same inputs give the same day), so tests need no seed, and both only
pick among days FSRS's fuzz would have allowed anyway, never past the interview cap.
"""

from __future__ import annotations

from datetime import date, timedelta

# py-fsrs 6's fuzz ranges (fsrs.scheduler.FUZZ_RANGES): the interval may move by this share of its days.
FUZZ_RANGES = ((2.5, 7.0, 0.15), (7.0, 20.0, 0.1), (20.0, float("inf"), 0.05))
MIN_FUZZ_DAYS = 3  # FSRS leaves intervals under 2.5 days alone
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def fuzz_range(interval_days: int, maximum: int = 36500) -> tuple[int, int]:
    """The shortest and longest interval FSRS's fuzz allows around `interval_days` (py-fsrs' rule)."""
    if interval_days < MIN_FUZZ_DAYS:
        return interval_days, interval_days
    delta = 1.0
    for start, end, factor in FUZZ_RANGES:
        delta += factor * max(min(float(interval_days), end) - start, 0.0)
    low = max(2, round(interval_days - delta))
    high = min(round(interval_days + delta), maximum)
    return min(low, high), high


def pick_interval(
    interval_days: int,
    today: date,
    *,
    easy_days: list[int] | None,
    due_counts: dict[date, int] | None,
    cap_days: int | None = None,
) -> int:
    """The interval (days) to use instead of `interval_days`.

    Easy Days weigh each day by its share of a normal load (percent, Monday first; a 0% day is used
    only when every day in range is one). Load balancing divides by it the cards already due that
    day, plus one, and takes the lowest. Ties go to the day nearest the FSRS interval, then the
    earlier. Days past `cap_days` (the day before the interview) are never chosen.
    """
    low, high = fuzz_range(interval_days)
    if cap_days is not None:
        high = min(high, cap_days)
        if high < low:
            return max(0, min(interval_days, cap_days))
    candidates = range(low, high + 1)

    def share(days: int) -> float:
        return easy_days[(today + timedelta(days=days)).weekday()] / 100 if easy_days else 1.0

    usable = [d for d in candidates if share(d) > 0] or list(candidates)

    def cost(days: int) -> tuple[float, int, int]:
        load = (due_counts or {}).get(today + timedelta(days=days), 0) + 1 if due_counts is not None else 1
        return load / (share(days) or 0.01), abs(days - interval_days), days

    return min(usable, key=cost)
