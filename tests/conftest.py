"""Fixtures in the flaskr style: app (fresh database per test), client, runner, auth helper.

Also the fixtures several modules share (user, logged_in, admin_user, admin, bank, other_user, mock_id,
chromium_available) and the data helpers conftest needs itself. The other shared helpers are plain
functions in tests/helpers.py, and per feature in tests/*_support.py.
"""

from __future__ import annotations

import itertools
import os
import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError

from careerprep import create_app
from careerprep.banks import import_bank, validate
from careerprep.config import normalise_database_url
from careerprep.extensions import db
from careerprep.models import CardState, User
from tests.mock_support import start_mock

FAST_HASH = "scrypt:1024:8:1"  # tests only; production uses N=2^17 (see test_auth)
PASSWORD = "correct horse battery"


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
_postgres_checked: list[str] = []


def database_url(tmp_path: Path) -> str:
    """SQLite in the test's temp dir, or TEST_DATABASE_URL (PostgreSQL) when it is set."""
    if not TEST_DATABASE_URL:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    if not _postgres_checked:
        engine = create_engine(normalise_database_url(TEST_DATABASE_URL))
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            _postgres_checked.append("ok")
        except OperationalError as exc:
            _postgres_checked.append(f"unreachable: {str(exc).splitlines()[0]}")
        finally:
            engine.dispose()
    if _postgres_checked[0] != "ok":
        message = f"PostgreSQL at TEST_DATABASE_URL is {_postgres_checked[0]}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return TEST_DATABASE_URL


_postgres_schema_fresh = False


def schema_changed() -> None:
    """A test changed the schema itself (migrations): the next reset recreates every table."""
    global _postgres_schema_fresh
    _postgres_schema_fresh = False


def reset_schema(app) -> None:
    """Empty database with the current schema (PostgreSQL is shared between tests: start clean).

    On PostgreSQL the first reset of a run drops and recreates every table (the database may hold
    an older schema); later ones empty the tables with one TRUNCATE, three times faster. When tables
    are missing (a migration test dropped them), it falls back to recreating them.
    """
    global _postgres_schema_fresh
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            if _postgres_schema_fresh:
                tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
                try:
                    with db.engine.begin() as conn:
                        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
                    return
                except DBAPIError:
                    pass
            db.drop_all()
            _postgres_schema_fresh = True
        db.create_all()


@pytest.fixture
def app_config(tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "WTF_CSRF_ENABLED": False,
        "FSRS_FUZZING": False,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "RATELIMIT_ENABLED": False,
        # Recording is tested in test_speech*.py, which turn it on with the bundled tiny.en model.
        "SPEECH_ENABLED": False,
        "SPEECH_AUDIO_DIR": str(tmp_path / "recordings"),
    }


@pytest.fixture
def make_app(app_config):
    """Build apps on the test database with config overrides; their connections close at teardown."""
    made = []

    def factory(**overrides):
        config = {**app_config, **overrides}
        config = {k: v for k, v in config.items() if v is not DROP}
        new_app = create_app(config)
        made.append(new_app)
        if len(made) == 1:  # later apps in the same test share the first one's database
            reset_schema(new_app)
        return new_app

    yield factory
    for made_app in made:
        with made_app.app_context():
            db.session.remove()
            db.engine.dispose()


DROP = object()  # make_app(KEY=DROP) removes a key from the test config


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def card_state(user_id: int, question_id: int, **overrides) -> CardState:
    """A card in the review state, reviewed a day ago and due in five days, unless overridden."""
    now = datetime.now(UTC)
    fields = {
        "state": 2,
        "step": None,
        "stability": 5.0,
        "difficulty": 5.0,
        "due": now + timedelta(days=5),
        "last_review": now - timedelta(days=1),
        "reps": 1,
        "lapses": 0,
        "introduced_at": now - timedelta(days=3),
    }
    return CardState(user_id=user_id, question_id=question_id, **{**fields, **overrides})


_user_numbers = itertools.count(1)


def make_user(app, **overrides) -> User:
    """Create a user directly in the database; returns it detached with its id loaded."""
    from werkzeug.security import generate_password_hash

    number = next(_user_numbers)  # advances even when `n` is given, so no number is used twice
    n = overrides.pop("n", None) or number
    fields = {
        "email": f"user{n}@example.com",
        "display_name": f"User {n}",
        "password_hash": generate_password_hash(overrides.pop("password", PASSWORD), method=FAST_HASH),
        # Most tests reveal with the plain link; tests of drafting turn the draft box on.
        "draft_enabled": False,
    }
    fields.update(overrides)
    with app.app_context():
        user = User(**fields)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
    return user


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


@pytest.fixture
def admin_user(app):
    """An admin (boss@example.com, "The Boss"); test_admin_users relies on the email and name."""
    return make_user(app, is_admin=True, email="boss@example.com", display_name="The Boss")


@pytest.fixture
def admin(client, auth, admin_user):
    """A client signed in as `admin_user`."""
    assert auth.login(admin_user.email).status_code == 303
    return client


@pytest.fixture
def bank(app, request):
    """The test module's question bank: `bank_dict(**BANK)` where the module sets `BANK` (a dict of
    bank_dict arguments, e.g. `BANK = {"n_questions": 6}`), else bank_dict()'s five questions."""
    load_bank(app, bank_dict(**getattr(request.module, "BANK", {})))


@pytest.fixture
def other_user(app, bank):
    """A second user with their own full footprint, which must never leak or be touched."""
    from tests.helpers import seed_account  # helpers imports this module

    someone = make_user(app, email="other@example.com", display_name="Other Person")
    seed_account(app, someone, "OTHER")
    return someone


@pytest.fixture
def mock_id(logged_in, bank):
    """A mock interview of three two-minute questions, started by `logged_in` through the form."""
    return start_mock(logged_in, questions="3", minutes="2")


@pytest.fixture(scope="module")
def chromium_available():
    """Skip (or, with REQUIRE_E2E=1, fail) a browser module without Chromium and Playwright.

    Browser modules use it with `pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures(...)]`."""
    from tests.e2e_support import require_chromium  # e2e_support imports this module

    require_chromium()


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
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            statements.append(statement)  # transaction control is not a query

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def sqlite_trace(app):
    """Every statement SQLite runs inside the block, transaction control included.

    SQLAlchemy's events do not see the BEGIN IMMEDIATE that careerprep.models.base sends to the
    driver itself, so this listens on the connections: the pool is emptied first so that every
    connection used inside the block is a traced one.
    """
    statements: list[str] = []

    def on_connect(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(statements.append)

    with app.app_context():
        engine = db.engine
    engine.dispose()
    event.listen(engine, "connect", on_connect)
    try:
        yield statements
    finally:
        event.remove(engine, "connect", on_connect)
        engine.dispose()


def transaction_control(statements: list[str]) -> list[str]:
    """The BEGIN / COMMIT / ROLLBACK statements of a trace, in order."""
    return [s for s in statements if s.split(None, 1)[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK"}]


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
