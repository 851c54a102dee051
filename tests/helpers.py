"""Data helpers shared by several test modules: plain functions, like conftest's make_user.

conftest.py keeps the fixtures (app, client, auth, admin, bank …) and the helpers it needs itself;
these build on it, so conftest imports this module only inside the fixtures that use it.
"""

from __future__ import annotations

import itertools
import re
import socket
import sqlite3
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from careerprep.extensions import db
from careerprep.models import (
    ActivityDay,
    AuditLog,
    CardFlag,
    CardState,
    MockInterview,
    MockItem,
    Question,
    QuestionSet,
    Recording,
    Report,
    Review,
    Role,
    RolePlan,
    SchedulerFit,
    User,
    UserSession,
)
from tests.conftest import PASSWORD, card_state, load_bank, rating_token, reveal_url

DRILL = "/roles/test-role/drill"  # the drill of bank_dict()'s role
HX = {"HX-Request": "true"}
T0 = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)  # when seed_account's footprint starts

_review_numbers = itertools.count(1)


def sign_in(client, email: str, password: str = PASSWORD, remember: bool = False) -> None:
    """Sign `client` in as `email` (asserting it worked); `remember` ticks "Remember me"."""
    data = {"email": email, "password": password, **({"remember": "y"} if remember else {})}
    assert client.post("/auth/login", data=data).status_code == 303


def front(client, url: str = DRILL, headers: dict | None = None) -> str:
    """The drill page: the next card's front."""
    return client.get(url, headers=headers or {}).get_data(as_text=True)


def reveal(client, url: str = DRILL, htmx: bool = False) -> str:
    """Open the next card and reveal it (both as htmx fragments with `htmx`); the revealed HTML."""
    headers = HX if htmx else {}
    return client.get(reveal_url(front(client, url, headers)), headers=headers).get_data(as_text=True)


def rate(client, rating: int = 3, url: str = DRILL, extra: dict | None = None, htmx: bool = False):
    """Open, reveal and rate the next card (all by htmx with `htmx`); the rating's response.

    The rating goes to `url` without its query string; `extra` adds form fields (mode, category …)."""
    back = reveal(client, url, htmx)
    data = {"token": rating_token(back), "rating": str(rating), **(extra or {})}
    return client.post(url.split("?")[0], data=data, headers=HX if htmx else {})


def question_ids(app) -> dict[str, int]:
    """Question key → id, for every question in the database."""
    with app.app_context():
        return dict(db.session.execute(db.select(Question.key, Question.id)).all())


def set_user(app, user: User, **fields) -> None:
    """Change a stored user's columns (settings, flags) directly in the database."""
    with app.app_context():
        found = db.session.get(User, user.id)
        for key, value in fields.items():
            setattr(found, key, value)
        db.session.commit()


def count_rows(app, model) -> int:
    """How many rows the model's table holds."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def is_sqlite(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "sqlite"


def write_lock_is_free(app) -> bool:
    """True when another connection could take SQLite's write lock right now."""
    with app.app_context():
        path = db.engine.url.database
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def write_lock_checks(monkeypatch, app, owner, name: str) -> list[bool]:
    """Wrap `owner.name` so that every call first notes whether SQLite's write lock is free right then;
    returns the list of those notes."""
    seen: list[bool] = []
    real = getattr(owner, name)

    def spy(*args, **kwargs):
        seen.append(write_lock_is_free(app))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return seen


def free_port() -> int:
    """A local TCP port that nothing listens on (the socket that found it is closed again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def audit_rows(app, **filters) -> list[AuditLog]:
    with app.app_context():
        rows = db.session.scalars(db.select(AuditLog).filter_by(**filters).order_by(AuditLog.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def emails_on(html: str) -> list[str]:
    """The emails of the user rows on a users page or fragment, in order."""
    return re.findall(r'<tr id="user-\d+">\s*<td>([^<]+)</td>', html)


def review_row(user_id: int, question_id: int, reviewed_at: datetime, **overrides) -> Review:
    """A Good one-minute review of a card in the review state, due three days later, unless overridden."""
    fields = {
        "token": f"review-token-{next(_review_numbers)}",
        "rating": 3,
        "reviewed_at": reviewed_at,
        "duration_ms": 60_000,
        "state": 2,
        "step": None,
        "stability": 5.0,
        "difficulty": 5.0,
        "due": reviewed_at + timedelta(days=3),
        "interval_seconds": 3 * 86400,
        "prev_state": 2,
    }
    return Review(user_id=user_id, question_id=question_id, **{**fields, **overrides})


def add_reviews(app, user_id: int, times: Iterable[datetime], **overrides) -> None:
    """One review by the user at each of `times`, taking the questions in turn (a one-question bank
    is loaded when there is none); `overrides` go to every review_row."""
    with app.app_context():
        qids = db.session.scalars(db.select(Question.id).order_by(Question.id)).all()
    if not qids:
        load_bank(app, n_questions=1)
        with app.app_context():
            qids = db.session.scalars(db.select(Question.id).order_by(Question.id)).all()
    with app.app_context():
        for n, at in enumerate(times):
            db.session.add(review_row(user_id, qids[n % len(qids)], at, **overrides))
        db.session.commit()


def snapshot(app) -> tuple:
    """Everything a bad request must leave alone."""
    with app.app_context():
        counts = tuple(  # one query: a scalar subquery per table
            db.session.execute(
                db.select(
                    *(
                        db.select(db.func.count(m.id)).scalar_subquery()
                        for m in (User, UserSession, Role, QuestionSet, Question, CardState, Review)
                    )
                )
            ).one()
        )
        users = tuple(
            db.session.execute(
                db.select(
                    User.id, User.password_hash, User.is_admin, User.is_active, User.display_name
                ).order_by(User.id)
            ).all()
        )
        revoked = db.session.scalar(
            db.select(db.func.count(UserSession.id)).where(UserSession.revoked_at.is_not(None))
        )
        states = tuple(
            db.session.execute(
                db.select(CardState.id, CardState.reps, CardState.due).order_by(CardState.id)
            ).all()
        )
    return counts, users, revoked, states


def seed_account(app, user: User, tag: str) -> None:
    """A user's whole footprint on the `bank` questions: card states, reviews with drafts and coverage,
    flags, a plan, a report, an activity roll-up and a mock interview. `tag` marks their text."""
    qids = question_ids(app)
    with app.app_context():
        role_id = db.session.scalar(db.select(Role.id))
        db.session.add_all(
            [
                card_state(user.id, qids["q-0"], reps=2, lapses=1, stability=4.5, due=T0 + timedelta(days=3)),
                card_state(user.id, qids["q-1"]),
                CardFlag(user_id=user.id, question_id=qids["q-1"], suspended=True, leech=True),
                # Buried before its first rating: a flag with no card state.
                CardFlag(
                    user_id=user.id,
                    question_id=qids["q-2"],
                    suspended=False,
                    leech=False,
                    buried_until=T0 + timedelta(days=1),
                ),
                RolePlan(user_id=user.id, role_id=role_id, interview_date=date(2025, 4, 15)),
                Report(user_id=user.id, question_id=qids["q-0"], reason="unclear", comment=f"{tag} report"),
                # The dashboard's roll-up of their closed days (derived, but theirs: deleted with them).
                ActivityDay(user_id=user.id, day=T0.date(), rating=3, reviews=2, review_state=2, ms=90_000),
                SchedulerFit(
                    user_id=user.id,
                    fsrs_version="FSRS-6 (test)",
                    parameters=[0.2] * 21,
                    reviews=200,
                    held_out=40,
                    log_loss_old=0.4,
                    log_loss_new=0.35,
                    rmse_old=0.08,
                    rmse_new=0.05,
                    accepted=False,
                ),
            ]
        )
        for n, (key, draft, covered) in enumerate(
            [("q-0", f"{tag} draft about locks", [0, 2]), ("q-1", f"{tag} draft about queues", [1])]
        ):
            db.session.add(
                review_row(
                    user.id,
                    qids[key],
                    T0 + timedelta(minutes=n),
                    duration_ms=45_000,
                    stability=4.5,
                    difficulty=5.25,
                    draft=draft,
                    covered=covered,
                    key_point_count=3,
                    mode="mock" if n else "due",
                )
            )
        mock = MockInterview(
            user_id=user.id,
            role_id=role_id,
            created_at=T0,
            finished_at=T0 + timedelta(minutes=10),
            seconds_per_question=360,
            categories=["Alpha"],
        )
        mock.items = [
            MockItem(
                position=1,
                question_id=qids["q-3"],
                started_at=T0,
                answered_at=T0 + timedelta(minutes=4),
                draft=f"{tag} mock answer",
                rating=2,
                covered=[0],
            ),
            MockItem(position=2, question_id=qids["q-4"]),
        ]
        db.session.add(mock)
        db.session.flush()
        db.session.add(
            Recording(
                user_id=user.id,
                question_id=qids["q-3"],
                mock_id=mock.id,
                job_id=f"u{user.id}-{tag.lower()}",
                created_at=T0 + timedelta(minutes=3),
                transcript=f"{tag} spoken answer",
                words=[{"word": tag, "start": 0.5, "end": 0.9, "probability": 0.9}],
                duration=2.0,
            )
        )
        db.session.commit()
