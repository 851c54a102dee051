"""Time the dashboard and a role progress page for a user with 100,000 reviews (server time, in-process).

    .venv/bin/python bench/dashboard.py [--reviews 100000] [--runs 20] [--database-url URL]

Builds a fresh database (a temporary SQLite file, or the given URL, whose tables are dropped and
recreated), seeds the bundled banks, creates one user with N reviews spread over a year across every
role and card states for every question, signs in through the test client and requests each page
`runs` times. Prints the median, p90 and worst time per page and the number of SQL queries. The target
is under 100 ms of server time for the dashboard. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from careerprep import create_app  # noqa: E402
from careerprep.banks import seed  # noqa: E402
from careerprep.extensions import db  # noqa: E402
from careerprep.models import CardState, Question, QuestionSet, Review, Role, User  # noqa: E402

PASSWORD = "bench password 1"  # noqa: S105 (a throwaway benchmark account)


def build(url: str, reviews: int) -> object:
    """A fresh app and database with one heavy user."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "LOG_REQUESTS": False,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed()
        user = User(
            email="heavy@example.com",
            display_name="Heavy",
            password_hash=generate_password_hash(PASSWORD, method="scrypt:1024:8:1"),
            timezone="Europe/Berlin",
        )
        db.session.add(user)
        db.session.commit()
        questions = db.session.execute(db.select(Question.id)).scalars().all()
        rng = random.Random(7)
        now = datetime.now(UTC)
        started = time.perf_counter()
        batch = []
        for i in range(reviews):
            at = now - timedelta(minutes=rng.randrange(365 * 1440))
            batch.append(
                {
                    "user_id": user.id,
                    "question_id": questions[i % len(questions)],
                    "token": f"b{i}",
                    "rating": rng.choice((1, 2, 3, 3, 3, 4)),
                    "reviewed_at": at,
                    "duration_ms": rng.randrange(5_000, 90_000),
                    "state": 2,
                    "step": None,
                    "stability": 10.0,
                    "difficulty": 5.0,
                    "due": at + timedelta(days=10),
                    "interval_seconds": 864000,
                    "prev_state": rng.choice((0, 1, 2, 2, 2)),
                    "mode": "due",
                }
            )
            if len(batch) == 10_000:
                db.session.execute(db.insert(Review), batch)
                batch = []
        if batch:
            db.session.execute(db.insert(Review), batch)
        db.session.execute(
            db.insert(CardState),
            [
                {
                    "user_id": user.id,
                    "question_id": qid,
                    "state": rng.choice((1, 2, 2, 2, 3)),
                    "step": None,
                    "stability": rng.uniform(0.5, 90),
                    "difficulty": 5.0,
                    "due": now + timedelta(hours=rng.randrange(-48, 24 * 40)),
                    "last_review": now - timedelta(days=rng.randrange(0, 30)),
                    "reps": 5,
                    "lapses": rng.randrange(3),
                    "introduced_at": now - timedelta(days=rng.randrange(1, 300)),
                }
                for qid in questions
            ],
        )
        db.session.commit()
        print(
            f"built {reviews:,} reviews and {len(questions)} cards in {time.perf_counter() - started:.1f} s"
        )
    return app


def measure(app, path: str, runs: int) -> None:
    """Request `path` `runs` times (after one warm-up) and print timings and query count."""
    client = app.test_client()
    assert (
        client.post("/auth/login", data={"email": "heavy@example.com", "password": PASSWORD}).status_code
        == 303
    )
    with app.app_context():
        engine = db.engine
    queries: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            queries.append(statement)

    client.get(path)
    timings = []
    event.listen(engine, "before_cursor_execute", count)
    for _ in range(runs):
        queries.clear()
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    event.remove(engine, "before_cursor_execute", count)
    timings.sort()
    median, p90 = statistics.median(timings), timings[int(len(timings) * 0.9) - 1]
    print(
        f"{path:<44} median {median:7.1f} ms   p90 {p90:7.1f} ms   worst {timings[-1]:7.1f} ms"
        f"   queries {len(queries)}   bytes {len(response.data):,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = build(url, args.reviews)
        print(f"database: {url.split('://')[0]}; user time zone Europe/Berlin; {args.runs} runs per page")
        measure(app, "/dashboard", args.runs)
        with app.app_context():
            slug = db.session.scalar(db.select(Role.slug).join(QuestionSet).limit(1))
        measure(app, f"/roles/{slug}/progress", args.runs)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
