"""A deliberately plain Flask + Flask-SQLAlchemy drill, the second yardstick for bench/http_bench.py.

    DATABASE_URL=sqlite:///bench/large.sqlite BIND=127.0.0.1:8002 \\
        .venv/bin/python -m gunicorn -c gunicorn.conf.py bench.plain_app:app

What a first version of the drill would do, written the obvious way over CareerPrep's own tables, with
none of CareerPrep's work: no sign-in (the user is `?user=<id>`), no session, CSRF, limits, security
headers, queue counts, modes or one-time tokens.

- GET /plain/next?user=<id>: one user get (`db.session.get`), one indexed "next due card" query
  (`card_state (user_id, due)` joined to its question), a Jinja fragment.
- POST /plain/rate (form: user, question, rating): one FSRS step on the card (py-fsrs), an UPDATE of
  the card and an INSERT into the review log, one commit. SQLite runs in WAL mode with
  `synchronous=FULL` and a 10 s busy timeout, the way CareerPrep's connections do; unlike CareerPrep, a
  writer waits in SQLite's own busy handler, and its transaction begins deferred and upgrades at
  the first write.

Served exactly like CareerPrep and bench/baseline_app.py (same gunicorn.conf.py, workers and
environment), so "CareerPrep's page / this page" in the same run says what CareerPrep's extra work costs.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

from flask import Flask, abort, render_template, request
from flask_sqlalchemy import SQLAlchemy
from fsrs import Card, Rating, Scheduler, State
from jinja2 import DictLoader
from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
scheduler = Scheduler(enable_fuzzing=False)

FRAGMENT = """<article id="card" data-question="{{ question_id }}">
  <p class="greeting">{{ user.display_name }}</p>
  <h2>{{ prompt }}</h2>
  <p>Due {{ due.strftime("%Y-%m-%d %H:%M") }}, {{ reps }} reviews.</p>
  <button id="reveal">Show answer</button>
</article>
"""


class User(db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))


class Question(db.Model):
    __tablename__ = "question"
    id: Mapped[int] = mapped_column(primary_key=True)
    prompt: Mapped[str] = mapped_column(Text)


class CardState(db.Model):
    __tablename__ = "card_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    state: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(DateTime)
    last_review: Mapped[datetime | None] = mapped_column(DateTime)
    reps: Mapped[int] = mapped_column(Integer)
    lapses: Mapped[int] = mapped_column(Integer)


class Review(db.Model):
    __tablename__ = "review"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    token: Mapped[str] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(DateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    state: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(DateTime)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20))
    prev_state: Mapped[int] = mapped_column(Integer)


def utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they are UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def naive(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=None) if value is not None else None


app = Flask(__name__)
app.jinja_loader = DictLoader({"_card.html": FRAGMENT})  # a template file, compiled once and cached
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///bench/large.sqlite")
db.init_app(app)

with app.app_context():
    if db.engine.dialect.name == "sqlite":

        @event.listens_for(db.engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()


@app.get("/plain/next")
def next_card() -> str:
    """The user's next due card as an HTML fragment."""
    user = db.session.get(User, request.args.get("user", type=int) or 0)
    if user is None:
        abort(404)
    row = db.session.execute(
        select(CardState.question_id, CardState.due, CardState.reps, Question.prompt)
        .join(Question, Question.id == CardState.question_id)
        .where(CardState.user_id == user.id, CardState.due <= naive(datetime.now(UTC)))
        .order_by(CardState.due)
        .limit(1)
    ).first()
    if row is None:
        return '<article id="card"><p>Done for now.</p></article>'
    return render_template(
        "_card.html", user=user, question_id=row.question_id, prompt=row.prompt, due=row.due, reps=row.reps
    )


@app.post("/plain/rate")
def rate() -> str:
    """Record one rating: an FSRS step, the card updated and the review logged, in one commit."""
    user_id = request.form.get("user", type=int)
    question_id = request.form.get("question", type=int)
    rating = request.form.get("rating", type=int)
    if rating not in (1, 2, 3, 4):
        abort(400)
    card = db.session.scalar(select(CardState).filter_by(user_id=user_id, question_id=question_id))
    if card is None:
        abort(404)
    now = datetime.now(UTC)
    before = Card(
        card_id=card.question_id,
        state=State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=utc(card.due),
        last_review=utc(card.last_review),
    )
    after, _log = scheduler.review_card(before, Rating(rating), now)
    prev_state = card.state
    card.state, card.step = int(after.state), after.step
    card.stability, card.difficulty = after.stability, after.difficulty
    card.due, card.last_review = naive(after.due), naive(now)
    card.reps += 1
    card.lapses += int(rating == 1 and prev_state == State.Review)
    db.session.add(
        Review(
            user_id=user_id,
            question_id=question_id,
            token=secrets.token_hex(16),
            rating=rating,
            reviewed_at=naive(now),
            duration_ms=0,
            state=card.state,
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=card.due,
            interval_seconds=int((after.due - now).total_seconds()),
            mode="due",
            prev_state=prev_state,
        )
    )
    db.session.commit()
    return f"<p>Rated {rating}.</p>"
