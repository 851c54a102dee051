"""Build a large CareerPrep dataset quickly: 20 roles x 500 questions, 1,000 users, 1,000,000 reviews.

    .venv/bin/python bench/seed_large.py                  # bench/large.sqlite (replaced)
    .venv/bin/python bench/seed_large.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/careerprep_bench
    .venv/bin/python bench/seed_large.py --quick          # 4 x 100 questions, 50 users, 30,000 reviews

The given database's tables are dropped and recreated (`db.create_all()`); never point it at a
database you want to keep. What it builds:

- Roles, sets and questions with generated text (a prompt, an answer of a few hundred words with a
  list and a code block, 3-6 key points, a category, a difficulty, tags), each role checked by the
  bank validator (`careerprep.banks.validate`) before it is written.
- Users ``heavy@example.com`` and ``user1@example.com`` ... ``user999@example.com``, all with the
  password printed at the end, hashed with the cheap ``scrypt:1024:8:1`` (the first sign-in rehashes
  it to the configured cost, as the app does for any older hash).
- Reviews and card states that are consistent: every (user, question) history is produced by running
  FSRS itself (``scheduling.scheduler(0.9, False)``, ``to_card``, ``review``) over generated ratings,
  review by review. The next review happens when the card is due plus a delay (a few minutes within a
  learning session, or the next session hours later; about a day late on average for review cards),
  until the history reaches the present, the user's review budget, or the card's 8th lapse (the app
  suspends it as a leech then, so it also gets its CardFlag). Review rows carry state, step, stability,
  difficulty, due, interval_seconds and prev_state exactly as ``record_rating`` writes them, and the
  CardState is the final card, with reps and lapses counted from the log, so
  ``flask --app app verify-reviews`` finds no drift. A sample of cards is replayed from the database
  at the end (``--verify-sample``) with ``scheduling.replay``, the function verify-reviews uses.
- The heavy user studies every role with more lapses (Again is 10 points likelier on review cards),
  so its 100,000 reviews fit in the 10,000 questions (about 13 reviews per card per year); the other
  users study one to three roles and share the remaining reviews, ~900 each (100 to 1,700).

Every FSRS call is real: no pattern reuse. Measured on this 2-core machine: ~13 us per review_card
call with row building (~13 s for 1,000,000), ~19 s of writes on SQLite (~20 s of COPY on
PostgreSQL), ~35 s in all, well inside the two-minute target. Reusing a few thousand histories with
time offsets would also be exact (without fuzzing, FSRS depends only on the times between reviews:
300 random histories replayed from two different start times gave identical states), but it was
not needed.

Writes are bulk inserts in batches of 20,000 rows on SQLite, through the table's Core insert
(``db.session.execute(db.insert(Model.__table__), rows)``: the ORM form, ``db.insert(Model)``,
splits a batch into a statement per run of rows with the same None columns, which made it 3x
slower), and COPY through psycopg on PostgreSQL. SQLite loads with ``synchronous=OFF`` (a throwaway
file: the app's own connections use FULL) and is checkpointed at the end; it is not ANALYZEd,
because the app never runs ANALYZE on SQLite. PostgreSQL gets ``VACUUM ANALYZE`` after the load, as
autovacuum would soon after a bulk insert. It prints how long each phase took.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from flask import Flask

DEFAULT_PATH = ROOT / "bench" / "large.sqlite"
PASSWORD = "bench-password-123"  # noqa: S105 (throwaway accounts, as in load_reviews.py)
HASH_METHOD = "scrypt:1024:8:1"
HEAVY_EMAIL = "heavy@example.com"
SECRET_KEY = "careerprep-bench-secret-key"  # noqa: S105 (the key http_bench.py serves with)
BATCH = 20_000
LEECH_LAPSES = 8  # careerprep.reviews.LEECH_LAPSES, checked in build()
MAX_REVIEWS_PER_CARD = 400  # a bound on one history, far above what a year produces
YEAR = timedelta(days=365)
TIMEZONES = ("UTC", "Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")

# Rating weights (Again, Hard, Good, Easy): learning steps, and review cards (Again raised per profile).
LEARN_WEIGHTS = (10, 10, 70, 10)
REVIEW_WEIGHTS = (10, 10, 65, 15)
HEAVY_AGAIN_BOOST = 10


def phrases(text: str) -> tuple[str, ...]:
    """Comma-separated phrases from a block of text."""
    return tuple(" ".join(p.split()) for p in text.split(",") if p.strip())


ROLE_TITLES = phrases(
    """
    Platform Engineer, Security Engineer, Mobile Engineer, Machine Learning Engineer,
    Site Reliability Lead, Database Administrator, Network Engineer, Game Developer,
    QA Automation Engineer, Cloud Architect, Solutions Architect, Technical Program Manager,
    Data Scientist, Analytics Engineer, Compiler Engineer, Graphics Engineer, Firmware Engineer,
    Release Engineer, Staff Engineer, Developer Advocate
    """
)
TOPICS = phrases(
    """
    caching, replication, consistency, latency, throughput, observability, testing, deployment,
    security, scheduling, memory, concurrency, indexing, queues, networking, ownership, estimation,
    incidents, migrations, profiling
    """
)
SUBJECTS = phrases(
    """
    The service, A careful engineer, The write path, Every replica, The load balancer,
    A good design, The on-call team, The database, The client, This trade-off, A retry policy,
    The scheduler
    """
)
VERBS = phrases(
    """
    bounds, measures, isolates, batches, retries, invalidates, partitions, documents, monitors,
    serialises, caps, rolls back
    """
)
OBJECTS = phrases(
    """
    the slowest request, each idempotent write, the hot partition, stale cache entries,
    the error budget, every schema change, the queue depth, a noisy neighbour,
    the critical section, tail latency, the failover path, lock contention
    """
)
TAILS = phrases(
    """
    before it reaches users, so that a retry cannot double count, under sustained load,
    when a dependency fails, with a clear owner, without a global lock, across every region,
    at the ninety-ninth percentile, in small reversible steps,
    while the old version still serves
    """
)


@dataclass(frozen=True)
class Sizes:
    roles: int = 20
    questions: int = 500  # per role
    sets: int = 5  # per role
    users: int = 1000  # including the heavy user
    reviews: int = 1_000_000
    heavy_reviews: int = 100_000


QUICK = Sizes(roles=4, questions=100, sets=4, users=50, reviews=30_000, heavy_reviews=4_000)


@dataclass
class Phases:
    """Wall time per phase, printed as it goes."""

    seconds: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def add(self, name: str, seconds: float) -> None:
        """Add time to a phase."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def done(self, name: str, since: float, detail: str = "") -> float:
        """Record a phase that started at `since`; print it; return now."""
        now = time.perf_counter()
        self.add(name, now - since)
        print(f"  {name:<22} {now - since:7.1f} s  {detail}", flush=True)
        return now

    @property
    def total(self) -> float:
        """Seconds since the build started."""
        return time.perf_counter() - self.started


@dataclass
class Summary:
    url: str
    questions: int = 0
    users: int = 0
    cards: int = 0
    reviews: int = 0
    heavy_reviews: int = 0
    leeches: int = 0
    fsrs_calls: int = 0
    checked: int = 0
    drifted: int = 0
    phases: Phases = field(default_factory=Phases)


# -- the catalogue --------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """A URL slug for a title."""
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class Text:
    """Cheap generated prose: sentences drawn from a fixed pool, so 10,000 answers take a second."""

    def __init__(self, rng: random.Random, pool: int = 3000) -> None:
        self.rng = rng
        self.sentences = [
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}, "
            f"and {rng.choice(SUBJECTS).lower()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
            for _ in range(pool)
        ]

    def paragraph(self, sentences: int) -> str:
        """A paragraph of pooled sentences."""
        return " ".join(self.rng.choices(self.sentences, k=sentences))

    def question(self, topic: str, number: int) -> dict[str, Any]:
        """One question's prompt, answer (~300 words with a list and a code block) and key points."""
        rng = self.rng
        prompt = (
            f"Question {number} on {topic}: how would you explain why "
            f"{rng.choice(SUBJECTS).lower()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(TAILS)}, and what would you measure first?"
        )
        points = [s.rstrip(".")[:300] for s in rng.sample(self.sentences, rng.randint(3, 6))]
        answer = "\n\n".join(
            [
                self.paragraph(5),
                "Key steps:\n" + "\n".join(f"- **{p.split(',')[0]}.**" for p in points),
                self.paragraph(5),
                f"```text\n{topic}: p99 {rng.randint(5, 900)} ms, errors {rng.randint(0, 50)}/min\n```",
                self.paragraph(4),
            ]
        )
        return {"prompt": prompt, "answer": answer, "key_points": points}


def make_bank(rng: random.Random, text: Text, index: int, sizes: Sizes) -> dict:
    """One role's bank in the bundled-bank format, validated like an upload."""
    from careerprep.banks import validate

    title = ROLE_TITLES[index % len(ROLE_TITLES)] + (
        f" {index // len(ROLE_TITLES) + 1}" if index >= 20 else ""
    )
    slug = slugify(title)
    per_set = math.ceil(sizes.questions / sizes.sets)
    sets, made = [], 0
    for s in range(sizes.sets):
        topics = [TOPICS[(index + s * 3 + k) % len(TOPICS)] for k in range(2)]
        questions = []
        for q in range(min(per_set, sizes.questions - made)):
            topic = topics[q % 2]
            made += 1
            questions.append(
                {
                    "key": f"{slug}-{s + 1}-{q + 1:03d}",
                    **text.question(topic, made),
                    "category": topic.capitalize(),
                    "difficulty": rng.choice((1, 2, 2, 3)),
                    "tags": rng.sample([t for t in TOPICS if t not in topics], rng.randint(0, 3)),
                }
            )
        sets.append(
            {
                "slug": f"{slug}-set-{s + 1}",
                "title": f"{topics[0].capitalize()} and {topics[1]}",
                "description": text.paragraph(2),
                "questions": questions,
            }
        )
    summary = f"{title}s are asked about {', '.join(TOPICS[index % 5 : index % 5 + 4])}. " + text.paragraph(2)
    return validate({"role": {"slug": slug, "title": title, "summary": summary}, "sets": sets})


def write_catalogue(rng: random.Random, sizes: Sizes) -> list[list[int]]:
    """Insert roles, sets and questions; return each role's question ids in introduction order."""
    from careerprep.extensions import db
    from careerprep.models import Question, QuestionSet, Role

    text = Text(rng)
    banks = [make_bank(rng, text, i, sizes) for i in range(sizes.roles)]
    db.session.execute(db.insert(Role), [dict(b["role"], archived=False) for b in banks])
    role_ids = dict(db.session.execute(db.select(Role.slug, Role.id)).all())
    db.session.execute(
        db.insert(QuestionSet),
        [
            {
                "role_id": role_ids[b["role"]["slug"]],
                "slug": s["slug"],
                "title": s["title"],
                "description": s["description"],
                "published": True,
                "archived": False,
            }
            for b in banks
            for s in b["sets"]
        ],
    )
    set_ids = dict(db.session.execute(db.select(QuestionSet.slug, QuestionSet.id)).all())
    db.session.execute(
        db.insert(Question),
        [
            {"set_id": set_ids[s["slug"]], "position": position, "archived": False, **q}
            for b in banks
            for s in b["sets"]
            for position, q in enumerate(s["questions"])
        ],
    )
    db.session.commit()
    # The app introduces new cards easiest first (difficulty, position, set): do the same.
    rows = db.session.execute(
        db.select(QuestionSet.role_id, Question.id)
        .join(QuestionSet)
        .order_by(QuestionSet.role_id, Question.difficulty, Question.position, QuestionSet.id, Question.id)
    ).all()
    by_role: dict[int, list[int]] = {}
    for role_id, question_id in rows:
        by_role.setdefault(role_id, []).append(question_id)
    return [by_role[role_ids[b["role"]["slug"]]] for b in banks]


def write_users(rng: random.Random, sizes: Sizes, now: datetime) -> list[tuple[int, datetime]]:
    """Insert the heavy user and user1..user(N-1); return (id, joined) with the heavy user first."""
    from werkzeug.security import generate_password_hash

    from careerprep.extensions import db
    from careerprep.models import User

    password_hash = generate_password_hash(PASSWORD, method=HASH_METHOD)
    people = [(HEAVY_EMAIL, "Heavy", "Europe/Berlin", now - YEAR)] + [
        (
            f"user{i}@example.com",
            f"User {i}",
            rng.choice(TIMEZONES),
            now - timedelta(seconds=rng.uniform(3 * 86400, YEAR.total_seconds())),
        )
        for i in range(1, sizes.users)
    ]
    db.session.execute(
        db.insert(User),
        [
            {
                "email": email,
                "display_name": name,
                "password_hash": password_hash,
                "is_admin": False,
                "is_active": True,
                "timezone": tz,
                "created_at": joined,
            }
            for email, name, tz, joined in people
        ],
    )
    db.session.commit()
    ids = dict(db.session.execute(db.select(User.email, User.id)).all())
    return [(ids[email], joined) for email, _name, _tz, joined in people]


# -- histories ------------------------------------------------------------------------------------------


REVIEW_COLUMNS = (
    "user_id",
    "question_id",
    "token",
    "rating",
    "reviewed_at",
    "duration_ms",
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "interval_seconds",
    "mode",
    "prev_state",
)
CARD_COLUMNS = (
    "user_id",
    "question_id",
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
    "introduced_at",
)
FLAG_COLUMNS = ("user_id", "question_id", "suspended", "leech")


class Histories:
    """Generates review histories by running FSRS, card by card, within each user's review budget."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        from careerprep import scheduling

        self.rng = rng
        self.now = now
        self.scheduling = scheduling
        self.sched = scheduling.scheduler(0.9, False)
        self.learn_cum = self._cumulative(LEARN_WEIGHTS)
        self.review_cum = {
            boost: self._cumulative((REVIEW_WEIGHTS[0] + boost, *REVIEW_WEIGHTS[1:]))
            for boost in (0, HEAVY_AGAIN_BOOST)
        }
        self.tokens = 0
        self.fsrs_calls = 0

    @staticmethod
    def _cumulative(weights: tuple[int, ...]) -> list[float]:
        """Cumulative probabilities for bisect."""
        total, out = 0, []
        for w in weights:
            total += w
            out.append(total / sum(weights))
        return out

    def _next_time(self, due: datetime, at: datetime) -> datetime:
        """When the user next sees a card due at `due`: later in the session, or a later session."""
        rng = self.rng
        if due - at < timedelta(hours=1):  # a learning step: usually the same sitting
            if rng.random() < 0.75:
                return due + timedelta(seconds=rng.uniform(5, 300))
            return due + timedelta(hours=rng.uniform(1, 20))
        return due + timedelta(hours=rng.expovariate(1 / 30))

    def card(
        self, user_id: int, question_id: int, start: datetime, budget: int, boost: int
    ) -> tuple[list[tuple], tuple | None, bool]:
        """One card's review rows, its CardState row and whether it ended as a leech."""
        scheduling, rng = self.scheduling, self.rng
        card = scheduling.to_card(question_id, None, start)
        at, prev_state, lapses = start, 0, 0
        review_cum = self.review_cum[boost]
        rows: list[tuple] = []
        for _ in range(min(budget, MAX_REVIEWS_PER_CARD)):
            cum = review_cum if card.state == 2 else self.learn_cum
            rating = min(bisect(cum, rng.random()) + 1, 4)
            outcome = scheduling.review(self.sched, card, rating, at)
            self.fsrs_calls += 1
            card = outcome.card
            lapses += outcome.lapsed
            self.tokens += 1
            rows.append(
                (
                    user_id,
                    question_id,
                    f"seed{self.tokens}",
                    rating,
                    at,
                    rng.randrange(5_000, 90_000),
                    int(card.state),
                    card.step,
                    card.stability,
                    card.difficulty,
                    card.due,
                    int((card.due - at).total_seconds()),
                    "due",
                    prev_state,
                )
            )
            prev_state = int(card.state)
            if lapses >= LEECH_LAPSES:
                break  # record_rating suspends the card as a leech: it is not shown again
            at = self._next_time(card.due, at)
            if at >= self.now:
                break
        if not rows:
            return rows, None, False
        state = (
            user_id,
            question_id,
            int(card.state),
            card.step,
            card.stability,
            card.difficulty,
            card.due,
            card.last_review,
            len(rows),
            lapses,
            start,
        )
        return rows, state, lapses >= LEECH_LAPSES

    def user(
        self, user_id: int, joined: datetime, questions: list[int], budget: int, boost: int
    ) -> Iterator[tuple[list[tuple], tuple, bool]]:
        """A user's cards, in introduction order, until the budget is spent or the questions run out."""
        span = (self.now - joined).total_seconds() - 60
        for question_id in questions:
            if budget <= 0:
                return
            start = joined + timedelta(seconds=self.rng.uniform(0, span))
            rows, state, leech = self.card(user_id, question_id, start, budget, boost)
            if state is not None:
                budget -= len(rows)
                yield rows, state, leech


def budgets(rng: random.Random, users: int, total: int) -> list[int]:
    """Split `total` reviews over `users` users, 100 to 1,700-ish each (scaled to the total)."""
    if users <= 0:
        return []
    weights = [rng.uniform(100, 1700) for _ in range(users)]
    scale = total / sum(weights)
    out = [int(w * scale) for w in weights]
    for i in range(total - sum(out)):
        out[i % users] += 1
    return out


# -- writing ----------------------------------------------------------------------------------------------


class Writer:
    """Bulk writes: executemany in batches on SQLite, COPY on PostgreSQL."""

    def __init__(self, dialect: str) -> None:
        from careerprep.extensions import db
        from careerprep.models import CardFlag, CardState, Review

        self.db = db
        self.dialect = dialect
        self.models = {"review": Review, "card_state": CardState, "card_flag": CardFlag}
        self.columns = {"review": REVIEW_COLUMNS, "card_state": CARD_COLUMNS, "card_flag": FLAG_COLUMNS}

    def write(self, table: str, rows: list[tuple]) -> None:
        """Insert rows (tuples in the table's column order) and commit."""
        if not rows:
            return
        columns = self.columns[table]
        if self.dialect == "postgresql":
            raw = self.db.session.connection().connection.driver_connection
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            # The table's Core insert, not the model's: an ORM bulk insert splits a batch wherever a
            # None (the step of a review card) changes the key set, into statements of a few rows each.
            insert = self.db.insert(self.models[table].__table__)
            for i in range(0, len(rows), BATCH):
                self.db.session.execute(
                    insert, [dict(zip(columns, row, strict=True)) for row in rows[i : i + BATCH]]
                )
        self.db.session.commit()


def write_histories(
    summary: Summary,
    rng: random.Random,
    sizes: Sizes,
    now: datetime,
    users: list[tuple[int, datetime]],
    roles: list[list[int]],
) -> None:
    """Generate and write every review, card state and leech flag; time FSRS and writing apart."""
    from careerprep.extensions import db

    histories = Histories(rng, now)
    writer = Writer(db.engine.dialect.name)
    everything = [q for questions in roles for q in questions]
    regular = budgets(rng, len(users) - 1, sizes.reviews - sizes.heavy_reviews)
    plan = [(users[0], everything, sizes.heavy_reviews, HEAVY_AGAIN_BOOST)]
    for (user, joined), budget in zip(users[1:], regular, strict=True):
        order = rng.sample(range(len(roles)), len(roles))
        picked = order[: rng.choice((1, 1, 2, 2, 3))]
        # More roles behind the chosen ones, used only if the chosen ones run out of questions.
        questions = [q for r in picked + order[len(picked) :] for q in roles[r]]
        plan.append(((user, joined), questions, budget, 0))
    reviews: list[tuple] = []
    cards: list[tuple] = []
    flags: list[tuple] = []
    shortfall = 0
    generating = writing = 0.0

    def flush() -> float:
        started = time.perf_counter()
        writer.write("review", reviews)
        writer.write("card_state", cards)
        writer.write("card_flag", flags)
        summary.cards += len(cards)
        summary.leeches += len(flags)
        for rows in (reviews, cards, flags):
            rows.clear()
        return time.perf_counter() - started

    for (user_id, joined), questions, budget, boost in plan:
        started = time.perf_counter()
        done = 0
        for rows, state, leech in histories.user(user_id, joined, questions, budget, boost):
            reviews.extend(rows)
            cards.append(state)
            done += len(rows)
            if leech:
                flags.append((user_id, state[1], True, True))
        shortfall += budget - done
        if user_id == users[0][0]:
            summary.heavy_reviews = done
        summary.reviews += done
        generating += time.perf_counter() - started
        if len(reviews) >= BATCH * 5:
            writing += flush()
    writing += flush()
    summary.fsrs_calls = histories.fsrs_calls
    summary.phases.add("histories (FSRS)", generating)
    summary.phases.add("histories (writes)", writing)
    print(
        f"  {'histories (FSRS)':<22} {generating:7.1f} s  {histories.fsrs_calls:,} review_card calls, "
        f"{generating / max(1, histories.fsrs_calls) * 1e6:.1f} us each (with row building)",
        flush=True,
    )
    print(
        f"  {'histories (writes)':<22} {writing:7.1f} s  {summary.reviews:,} reviews, "
        f"{summary.cards:,} card states, {summary.leeches:,} leech flags",
        flush=True,
    )
    if shortfall:
        print(f"  warning: {shortfall:,} reviews short of the target (users ran out of questions)")


# -- checking -------------------------------------------------------------------------------------------


def verify_sample(size: int) -> tuple[int, int, list[str]]:
    """Replay `size` random cards from the database, as verify-reviews does; return (checked, drifted)."""
    from careerprep import scheduling
    from careerprep.extensions import db
    from careerprep.models import CardState, Review
    from careerprep.reviews import FIELDS

    if size <= 0:
        return 0, 0, []
    # A random sample of cards (random() is SQL on SQLite and PostgreSQL alike).
    picked = db.select(CardState.id).order_by(db.func.random()).limit(size)
    states = db.session.scalars(db.select(CardState).where(CardState.id.in_(picked))).all()
    drifted, examples = 0, []
    for state in states:
        log = db.session.execute(
            db.select(Review.rating, Review.reviewed_at, Review.due)
            .where(Review.user_id == state.user_id, Review.question_id == state.question_id)
            .order_by(Review.reviewed_at, Review.id)
        ).all()
        expected = scheduling.replay(state.question_id, [tuple(r) for r in log])
        for name in FIELDS:
            have, want = getattr(state, name), getattr(expected, name)
            same = (
                math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-12)
                if isinstance(have, float) and isinstance(want, float)
                else have == want
            )
            if not same:
                drifted += 1
                if len(examples) < 5:
                    examples.append(
                        f"user {state.user_id} question {state.question_id}: {name} {have!r} != {want!r}"
                    )
                break
    db.session.rollback()
    return len(states), drifted, examples


# -- main -----------------------------------------------------------------------------------------------


def make_app(database_url: str) -> Flask:
    """The app in-process for this database (no request logging, a fixed key)."""
    from careerprep import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY, "LOG_REQUESTS": False}
    )


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def build(database_url: str, sizes: Sizes, seed: int = 1, verify: int = 2000) -> Summary:
    """Drop and recreate the schema, then write the catalogue, users and histories; return figures."""
    from sqlalchemy import event

    from careerprep import reviews
    from careerprep.extensions import db

    if reviews.LEECH_LAPSES != LEECH_LAPSES:
        raise RuntimeError(f"the app's leech threshold is {reviews.LEECH_LAPSES}, not {LEECH_LAPSES}")
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    app = make_app(database_url)
    summary = Summary(url=database_url)
    phases = summary.phases
    now = datetime.now(UTC)
    with app.app_context():
        dialect = db.engine.dialect.name
        if dialect == "sqlite":
            # After the app's own connect hook (synchronous=FULL): a throwaway file needs no fsyncs.
            event.listen(db.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF"))
        started = time.perf_counter()
        with db.engine.begin() as conn:
            if dialect == "postgresql":
                conn.exec_driver_sql("SET lock_timeout = '30s'")
            db.metadata.drop_all(conn)
            db.metadata.create_all(conn)
        started = phases.done("schema", started, dialect)
        roles = write_catalogue(rng, sizes)
        summary.questions = sum(map(len, roles))
        started = phases.done("catalogue", started, f"{sizes.roles} roles, {summary.questions:,} questions")
        users = write_users(rng, sizes, now)
        summary.users = len(users)
        started = phases.done("users", started, f"{len(users):,} users")
        write_histories(summary, rng, sizes, now, users, roles)
        started = time.perf_counter()
        if dialect == "sqlite":
            db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.commit()
            started = phases.done("checkpoint", started)
        else:
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
            started = phases.done("vacuum analyze", started)
        summary.checked, summary.drifted, examples = verify_sample(verify)
        phases.done(
            "verify sample", started, f"{summary.checked:,} cards replayed, {summary.drifted} drifted"
        )
        for line in examples:
            print(f"    drift: {line}")
        db.session.remove()
        db.engine.dispose()
    return summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help=f"default: a SQLite file at {DEFAULT_PATH}")
    parser.add_argument(
        "--quick", action="store_true", help="a small dataset (4 roles, 50 users, 30,000 reviews)"
    )
    for name, value in vars(Sizes()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=None, help=f"default {value:,}")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--verify-sample", type=int, default=2000, help="cards to replay at the end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build the dataset and print what was built; 1 if the replayed sample drifted."""
    args = parse_args(argv)
    base = QUICK if args.quick else Sizes()
    sizes = Sizes(
        **{k: getattr(args, k) if getattr(args, k) is not None else v for k, v in vars(base).items()}
    )
    if (
        sizes.users < 1
        or sizes.roles < 1
        or sizes.questions < 1
        or not 0 <= sizes.heavy_reviews <= sizes.reviews
    ):
        print("error: sizes must be positive and --heavy-reviews at most --reviews", file=sys.stderr)
        return 2
    url = args.database_url or sqlite_url(DEFAULT_PATH)
    print(f"building {url.split('://')[0]} dataset: {sizes}", flush=True)
    summary = build(url, sizes, args.seed, args.verify_sample)
    print(f"  {'total':<22} {summary.phases.total:7.1f} s")
    print(
        f"{summary.questions:,} questions, {summary.users:,} users, {summary.cards:,} card states, "
        f"{summary.reviews:,} reviews ({summary.heavy_reviews:,} by {HEAVY_EMAIL}), "
        f"{summary.leeches:,} leeches"
    )
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")).resolve()
        print(f"database: {path} ({path.stat().st_size / 2**20:,.0f} MiB)")
    print(f"sign in as {HEAVY_EMAIL} or user1@example.com ... user{summary.users - 1}@example.com")
    print(f"password: {PASSWORD}")
    return 1 if summary.drifted else 0


if __name__ == "__main__":
    sys.exit(main())
