"""Fixtures in the flaskr style: app (fresh database per test), client, runner, auth helper."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

from careerprep import create_app
from careerprep.banks import import_bank, validate
from careerprep.extensions import db
from careerprep.models import User

FAST_HASH = "scrypt:1024:8:1"  # tests only; production uses N=2^17 (see test_auth)
PASSWORD = "correct horse battery"


@pytest.fixture
def app_config(tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite'}",
        "WTF_CSRF_ENABLED": False,
        "FSRS_FUZZING": False,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_user(app, **overrides) -> User:
    """Create a user directly in the database; returns it detached with its id loaded."""
    from werkzeug.security import generate_password_hash

    n = overrides.pop("n", None) or (len(_counter) + 1)
    _counter.append(n)
    fields = {
        "email": f"user{n}@example.com",
        "display_name": f"User {n}",
        "password_hash": generate_password_hash(overrides.pop("password", PASSWORD), method=FAST_HASH),
    }
    fields.update(overrides)
    with app.app_context():
        user = User(**fields)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
    return user


_counter: list[int] = []


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, **extra):
        return self._client.post("/auth/login", data={"email": email, "password": password, **extra})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def user(app):
    return make_user(app)


@pytest.fixture
def logged_in(app, client, auth, user):
    """A signed-in client for `user`."""
    response = auth.login(user.email)
    assert response.status_code == 303
    return client


def bank_dict(
    role_slug: str = "test-role",
    n_questions: int = 5,
    set_slug: str = "basics",
    published: bool = True,
    categories: tuple[str, ...] = ("Alpha", "Beta"),
) -> dict:
    """A small valid bank."""
    return {
        "role": {"slug": role_slug, "title": f"Role {role_slug}", "summary": "A test role."},
        "sets": [
            {
                "slug": set_slug,
                "title": f"Set {set_slug}",
                "description": "Test set.",
                "published": published,
                "questions": [
                    {
                        "key": f"q-{i}",
                        "prompt": f"Question number {i}?",
                        "answer": f"Answer number {i}.",
                        "key_points": ["first point", "second point", "third point"],
                        "category": categories[i % len(categories)],
                        "difficulty": 1 + i % 3,
                        "tags": ["test"],
                    }
                    for i in range(n_questions)
                ],
            }
        ],
    }


def load_bank(app, bank: dict | None = None, **kwargs) -> None:
    """Validate and import a bank into the test database."""
    with app.app_context():
        import_bank(validate(bank or bank_dict(**kwargs)))
        db.session.commit()


@contextmanager
def count_queries(app):
    """Count SQL statements executed inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def reveal_url(html: str) -> str:
    """The "Show answer" link on a card front."""
    match = re.search(r'id="reveal"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="reveal"', html)
    if not match:
        match = re.search(r'href="([^"]*reveal=[^"]+)"', html)
    assert match, "no Show answer link on the page"
    url = next(g for g in match.groups() if g)
    return url.replace("&amp;", "&")


def rating_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no rating form on the page"
    return match.group(1)
