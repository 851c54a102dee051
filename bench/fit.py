"""Fitting a personal scheduler and spreading reviews: figures for issue 19.

    .venv/bin/python bench/fit.py

1. Fitting time and peak memory (tracemalloc for Python's share, ru_maxrss growth for the process,
   which includes the Rust optimizer) for synthetic logs of 1k, 10k and 100k reviews.
2. The workload planner for a 500-question role (200 of them studied), first and cached.
3. Daily review counts over 90 days for 300 cards learned at 10 a day, with and without load
   balancing (and with Easy Days, Sunday 0% / Saturday 50%): the standard deviation per day.
"""

from __future__ import annotations

import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from careerprep.scheduling import DEFAULT_PARAMETERS  # noqa: E402
from careerprep.scheduling.balance import fuzz_range, pick_interval  # noqa: E402
from careerprep.scheduling.fitting import fit, synthetic_log  # noqa: E402
from careerprep.scheduling.simulation import Workload, plan  # noqa: E402

LEARNER = list(DEFAULT_PARAMETERS)
LEARNER[0:4] = [0.05, 0.3, 0.8, 2.0]
LEARNER[8] = 1.2
LEARNER[20] = 0.4


def fitting() -> None:
    print("Fitting (synthetic learner, latest 20% held out)")
    header = ("reviews", "seconds", "py peak MB", "rss +MB", "RMSE old→new", "log loss old→new")
    widths = (8, 8, 10, 8, 16, 18)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)) + " kept")
    for n in (1_000, 10_000, 100_000):
        entries = synthetic_log(n, LEARNER, seed=n)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        start = time.perf_counter()
        result = fit(entries, None)
        seconds = time.perf_counter() - start
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        print(
            f"{n:>8} {seconds:>8.2f} {peak / 2**20:>10.1f} {rss_growth:>8.1f} "
            f"{result.rmse_old:>7.3f}→{result.rmse_new:.3f} "
            f"{result.log_loss_old:>9.3f}→{result.log_loss_new:.3f} "
            f"{'yes' if result.better else 'no'}"
        )


def planner() -> None:
    rng = random.Random(5)
    studied = tuple(
        (round(rng.uniform(1, 60), 3), round(rng.uniform(2, 9), 3), rng.randrange(0, 30)) for _ in range(200)
    )
    work = Workload(tuple(DEFAULT_PARAMETERS), 45, 300, 7, 55.0, 110.0, studied)
    start = time.perf_counter()
    points = plan(work)
    first = time.perf_counter() - start
    start = time.perf_counter()
    plan(work)
    again = time.perf_counter() - start
    print(
        f"\nPlanner, 500-question role (200 studied, 300 new, 45 days, 12 retentions): "
        f"{first * 1000:.0f} ms, cached {again * 1000:.2f} ms"
    )
    for p in points[::3]:
        print(
            f"  {p.retention:.0%}: {p.minutes_per_day:.0f} min/day, "
            f"{p.reviews_per_day:.0f} cards/day, {p.known:.0f} known"
        )


def spreading(days: int = 90, cards: int = 300, per_day: int = 10) -> None:
    """Each card is learned, then reviewed at FSRS-like growing intervals; the interval is fuzzed
    (seeded) or chosen by load balancing / Easy Days within the same range."""
    print(f"\nDaily reviews, {cards} cards learned at {per_day} a day, days 30-{days} (steady state)")
    for label, balance, easy in (
        ("fuzz only", False, None),
        ("load balancing", True, None),
        ("balancing + Easy Days", True, [100, 100, 100, 100, 100, 50, 0]),
    ):
        rng = random.Random(1)
        today = date(2025, 1, 6)
        counts: dict[date, int] = {}
        for card in range(cards):
            day, interval = card // per_day, 1.0
            while day < days:
                counts[today + timedelta(days=day)] = counts.get(today + timedelta(days=day), 0) + 1
                interval = interval * rng.uniform(2.0, 3.0)
                base = max(1, round(interval))
                if balance or easy:
                    step = pick_interval(
                        base,
                        today + timedelta(days=day),
                        easy_days=easy,
                        due_counts=counts if balance else None,
                    )
                else:
                    low, high = fuzz_range(base)
                    step = rng.randint(low, high)
                day += step
        window = [counts.get(today + timedelta(days=d), 0) for d in range(30, days)]
        sundays = [
            counts.get(today + timedelta(days=d), 0)
            for d in range(30, days)
            if (today + timedelta(days=d)).weekday() == 6
        ]
        print(
            f"  {label:<22} mean {statistics.mean(window):5.1f}/day, sd {statistics.pstdev(window):5.2f}, "
            f"max {max(window)}, Sundays mean {statistics.mean(sundays):.1f}"
        )


if __name__ == "__main__":
    fitting()
    planner()
    spreading()
