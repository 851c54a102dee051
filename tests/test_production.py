"""The production data layer: migrations, SQLite settings, reviews under concurrency, verify, backup."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from careerprep.extensions import db
from careerprep.models import CardState, Question, Review, User, question_uid, write_transaction
from careerprep.reviews import verify
from tests.conftest import (
    PASSWORD,
    bank_dict,
    load_bank,
    rating_token,
    reveal_url,
    schema_changed,
    sqlite_trace,
    transaction_control,
)
from tests.e2e_support import live_server
from tests.http_client import Browser, reveal
from tests.http_client import rating_token as live_token

DRILL = "/roles/test-role/drill"


def drop_everything(app) -> None:
    schema_changed()
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


# -- migrations ---------------------------------------------------------------------------------


def test_migrations_match_the_models_and_round_trip(app):
    drop_everything(app)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
            )
        assert diff == []
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert {"user", "card_state", "review", "user_session"} <= set(db.inspect(conn).get_table_names())


def test_upgrading_keeps_existing_rows(app):
    """Batch migrations recreate tables on SQLite; foreign keys must not cascade rows away."""
    drop_everything(app)
    with app.app_context():
        flask_migrate.upgrade(revision="81a8e9af81d5")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    'INSERT INTO "user" (id, email, display_name, password_hash, is_admin, is_active,'
                    " session_version, timezone, created_at) VALUES (1, 'a@example.com', 'A', 'x',"
                    " false, true, 1, 'UTC', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(text("INSERT INTO role (id, slug, title, summary) VALUES (1, 'r', 'R', '')"))
            conn.execute(
                text(
                    "INSERT INTO question_set (id, role_id, slug, title, description,"
                    " published) VALUES (1, 1, 's', 'S', '', true)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO question (id, set_id, key, prompt, answer, key_points,"
                    " category, difficulty, tags, position, archived) VALUES (1, 1, 'k',"
                    " 'p', 'a', '[]', 'c', 1, '[]', 0, false)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO card_state (id, user_id, question_id, state, stability,"
                    " difficulty, due, reps, lapses, introduced_at) VALUES (1, 1, 1, 2,"
                    " 1.0, 5.0, '2026-01-02 00:00:00', 1, 0, '2026-01-01 00:00:00')"
                )
            )
        flask_migrate.upgrade()
        assert db.session.scalar(db.select(db.func.count(CardState.id))) == 1
        assert db.session.get(User, 1).email == "a@example.com"
        # Cards from before the exercise kinds are recall cards, with their progress as it was.
        question = db.session.get(Question, 1)
        assert (question.kind, question.code, question.exercise) == ("recall", None, None)
        # Existing questions get the permanent id a fresh server seeded from the same bank would give.
        assert question.uid == question_uid("r", "s", "k") and question.updated_at is not None
        state = db.session.get(CardState, 1)
        assert (state.reps, state.stability, state.question_id) == (1, 1.0, 1)


# -- SQLite settings ----------------------------------------------------------------------------


@pytest.fixture
def sqlite_app(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite-only setting")
    return app


def test_sqlite_connection_settings(sqlite_app):
    with sqlite_app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def begins(statements: list[str]) -> list[str]:
    return [s for s in transaction_control(statements) if s.startswith("BEGIN")]


def test_reads_take_no_transaction_and_writes_begin_immediate(sqlite_app, client, user):
    """Write intent comes from what a request writes: reads run outside any transaction (no lock is
    held between them) and the first write begins IMMEDIATE, whatever the HTTP method."""
    with sqlite_trace(sqlite_app) as statements:
        client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert begins(statements) == ["BEGIN IMMEDIATE"]  # the sign-in row, once the password checked
        first_write = next(i for i, s in enumerate(statements) if s.startswith("BEGIN"))
        assert any("FROM user" in s or 'FROM "user"' in s for s in statements[:first_write])
        statements.clear()
        client.get("/roles")
        assert begins(statements) == []
        # The dashboard only reads; storing its roll-up of closed days is one IMMEDIATE write.
        statements.clear()
        client.get("/dashboard")
        assert begins(statements) == ["BEGIN IMMEDIATE"]
        statements.clear()
        client.get("/dashboard")
        assert begins(statements) == []


def _hold_write_lock(app, seconds: float, started: threading.Event) -> None:
    with app.app_context(), write_transaction():
        db.session.get(User, 1).display_name = "holder"
        db.session.flush()  # BEGIN IMMEDIATE taken, the row written: the write lock is held
        started.set()
        time.sleep(seconds)
        db.session.commit()


def test_a_waiting_writer_gets_the_lock_soon_after_it_is_released(sqlite_app, user):
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(sqlite_app, 0.3, started))
    holder.start()
    started.wait(5)
    with sqlite_app.app_context(), write_transaction():
        began = time.monotonic()
        db.session.get(User, 1).display_name = "waiter"
        db.session.commit()
        waited = time.monotonic() - began
    holder.join()
    with sqlite_app.app_context():
        assert db.session.get(User, 1).display_name == "waiter"  # it wrote after the holder
    assert 0.1 < waited < 5


def test_a_writer_gives_up_when_the_lock_is_never_released(sqlite_app, user, monkeypatch):
    from careerprep.models import base

    monkeypatch.setattr(base, "BUSY_TIMEOUT_MS", 300)
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(sqlite_app, 2.0, started))
    holder.start()
    started.wait(5)
    try:
        with sqlite_app.app_context(), write_transaction(), pytest.raises(OperationalError, match="locked"):
            db.session.get(User, 1).display_name = "waiter"
            db.session.commit()
    finally:
        holder.join()
    with sqlite_app.app_context():
        assert db.session.get(User, 1).display_name == "holder"


def test_a_rating_holds_the_write_lock_only_until_it_commits(sqlite_app, logged_in):
    """The rating is one IMMEDIATE transaction; the next card is read after it, outside any."""
    load_bank(sqlite_app, n_questions=3)
    back = logged_in.get(
        reveal_url(logged_in.get("/roles/test-role/drill").get_data(as_text=True)),
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    with sqlite_trace(sqlite_app) as statements:
        response = logged_in.post(
            "/roles/test-role/drill",
            data={"token": rating_token(back), "rating": "3"},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200 and "Rated Good" in response.get_data(as_text=True)
    assert transaction_control(statements) == ["BEGIN IMMEDIATE", "COMMIT"]
    commit = statements.index("COMMIT")
    assert any("card_state" in s for s in statements[commit + 1 :])  # the next card, read after it
    with sqlite_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 1


# -- reviews under concurrency (live server, real threads) --------------------------------------


@pytest.fixture
def server(tmp_path, app_config):
    with live_server(
        tmp_path, database_url=app_config["SQLALCHEMY_DATABASE_URI"], bank=bank_dict(n_questions=12)
    ) as base:
        yield base


def signed_in_browser(base, email):
    """A new user, registered and signed in through the live server's own forms."""
    browser = Browser(base)
    reply = browser.get("/auth/register")
    assert reply.status == 200
    reply = browser.post(
        "/auth/register", {"display_name": "T", "email": email, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert reply.status == 303, reply.text[:300]
    # Signing in renews the session, which retires the old CSRF token: load a page for a new one.
    assert browser.get("/roles").status == 200
    return browser


def count_rows(base_url_app_config, model, **filters):
    from careerprep import create_app

    app = create_app(base_url_app_config)
    try:
        with app.app_context():
            stmt = db.select(db.func.count(model.id)).filter_by(**filters)
            return db.session.scalar(stmt)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_same_token_submitted_at_once_records_once(server, app_config):
    browser = signed_in_browser(server, "same@example.com")
    front = browser.get(DRILL, htmx=True).text
    back = reveal(browser, DRILL, front).text
    token = live_token(back)
    barrier = threading.Barrier(12)

    def submit(_):
        barrier.wait()
        return browser.post(DRILL, {"token": token, "rating": "3"}, htmx=True)

    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(submit, range(12)))
    assert [r.status for r in replies] == [200] * 12
    assert all('<section id="card"' in r.text and "Show answer" in r.text for r in replies)
    assert count_rows(app_config, Review) == 1
    with_state = count_rows(app_config, CardState)
    assert with_state == 1


def test_tabs_rating_one_card_at_once_record_one_rating(server, app_config):
    """Eight tabs show the same card and rate it at once: the ratings serialize, the first is
    recorded, and the seven stale ones are refused (the card changed since they showed it)."""
    browser = signed_in_browser(server, "tabs@example.com")
    tokens = []
    for _ in range(8):  # eight tabs showing the same first card
        front = browser.get(DRILL, htmx=True).text
        tokens.append(live_token(reveal(browser, DRILL, front).text))
    barrier = threading.Barrier(8)

    def submit(token):
        barrier.wait()
        return browser.post(DRILL, {"token": token, "rating": "3"}, htmx=True)

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(submit, tokens))
    assert sorted(r.status for r in replies) == [200] + [409] * 7
    assert sum("already rated in another tab" in r.text for r in replies) == 7
    from careerprep import create_app

    app = create_app(app_config)
    try:
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count(Review.id))) == 1
            state = db.session.scalar(db.select(CardState))
            assert state.reps == 1
            checked, drifts = verify()
            assert (checked, drifts) == (1, [])
    finally:
        with app.app_context():
            db.engine.dispose()


def test_many_users_rating_concurrently_lose_nothing(server, app_config):
    users, ratings = 4, 5
    browsers = [signed_in_browser(server, f"load{i}@example.com") for i in range(users)]
    statuses: list[int] = []

    def drill(browser):
        for n in range(ratings):
            front = browser.get(DRILL, htmx=True).text
            back = reveal(browser, DRILL, front)
            reply = browser.post(DRILL, {"token": live_token(back.text), "rating": str(3 + n % 2)}, htmx=True)
            # A double submit of every rating, as an impatient user would.
            again = browser.post(DRILL, {"token": live_token(back.text), "rating": "1"}, htmx=True)
            statuses.extend([back.status, reply.status, again.status])

    with ThreadPoolExecutor(users) as pool:
        list(pool.map(drill, browsers))
    assert set(statuses) == {200}
    assert count_rows(app_config, Review) == users * ratings


# -- verify-reviews -------------------------------------------------------------------------------


def rate_n(client, n, rating=3):
    for _ in range(n):
        front = client.get(DRILL).get_data(as_text=True)
        back = client.get(reveal_url(front)).get_data(as_text=True)
        client.post(DRILL, data={"token": rating_token(back), "rating": str(rating)})


def test_verify_reviews_finds_and_rebuilds_drift(app, logged_in, runner):
    load_bank(app, n_questions=4)
    rate_n(logged_in, 3, rating=3)
    rate_n(logged_in, 2, rating=1)
    result = runner.invoke(args=["verify-reviews"])
    assert result.exit_code == 0, result.output
    assert "Checked 4 cards: all match their review log." in result.output
    with app.app_context():
        states = db.session.scalars(db.select(CardState).order_by(CardState.id)).all()
        states[0].reps = 99
        states[1].stability = 123.0
        db.session.delete(states[2])
        db.session.commit()
    result = runner.invoke(args=["verify-reviews"])
    assert result.exit_code == 1
    assert "3 differ from their review log" in result.output
    assert "reps: stored 99" in result.output
    result = runner.invoke(args=["verify-reviews", "--rebuild"])
    assert result.exit_code == 0
    assert "rebuilt 3 from the review log" in result.output
    result = runner.invoke(args=["verify-reviews"])
    assert "all match" in result.output and result.exit_code == 0


# -- backup ---------------------------------------------------------------------------------------


def test_backup_makes_a_consistent_copy(sqlite_app, runner, tmp_path):
    load_bank(sqlite_app, n_questions=7)
    target = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM question").fetchone()[0] == 7
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and "exists" in result.output


def test_backup_on_postgresql_points_to_pg_dump(app, runner, tmp_path):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("PostgreSQL-only message")
    result = runner.invoke(args=["backup", str(tmp_path / "x")])
    assert result.exit_code != 0 and "pg_dump" in result.output


# -- headers and logs -----------------------------------------------------------------------------


def test_security_headers_on_every_response(client):
    for path in ("/", "/auth/login", "/no-such-page", "/healthz"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        for directive in (
            "script-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ):
            assert directive in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers


def test_hsts_over_https(client):
    assert "max-age=" in client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"]


def test_pages_have_no_inline_script(app, logged_in):
    import re

    load_bank(app)
    for path in ("/", "/roles", "/roles/test-role", DRILL, "/dashboard", "/account/"):
        page = logged_in.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", page):
            assert "src=" in tag, (path, tag)
        assert not re.search(r"<[^>]+\son[a-z]+=", page), path  # no inline event handlers


def test_request_log_has_an_id_and_no_secrets(app, client, user, caplog):
    import json
    import logging

    app.config["LOG_REQUESTS"] = True
    logger = logging.getLogger("careerprep.request")
    logger.addHandler(caplog.handler)  # it may not propagate to the root logger caplog watches
    try:
        with caplog.at_level(logging.INFO, logger="careerprep.request"):
            response = client.post(
                "/auth/login?next=/dashboard",
                data={"email": user.email, "password": "Sup3r-secret-guess"},
                headers={"X-Request-ID": "abc123def456"},
            )
    finally:
        logger.removeHandler(caplog.handler)
    assert response.headers["X-Request-ID"] == "abc123def456"
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "careerprep.request"]
    assert records and records[-1]["request_id"] == "abc123def456"
    assert records[-1]["path"] == "/auth/login" and records[-1]["status"] == 422
    text_logged = " ".join(r.getMessage() for r in caplog.records)
    assert "Sup3r-secret-guess" not in text_logged
    assert "next=" not in text_logged
    bogus = client.get("/", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert bogus != "<script>" and len(bogus) == 16


@pytest.mark.parametrize(("proxies", "seen"), [(1, "203.0.113.9"), (0, "127.0.0.1")])
def test_forwarded_for_is_honoured_only_behind_a_trusted_proxy(make_app, proxies, seen):
    from flask import request

    proxied = make_app(TRUSTED_PROXIES=proxies, LOG_REQUESTS=False)
    proxied.add_url_rule("/_whoami", "whoami", lambda: request.remote_addr)
    reply = proxied.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert reply.get_data(as_text=True) == seen


def test_healthz_is_not_rate_limited(make_app):
    limited = make_app(RATELIMIT_ENABLED=True)
    client = limited.test_client()
    assert {client.get("/healthz").status_code for _ in range(30)} == {200}
