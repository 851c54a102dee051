"""The outside review's findings (issue 13), items 13-21: the database or Redis down, verify-reviews'
snapshot, stale tabs, caching, common passwords, sign-in expiry and control sockets, one test or group
per numbered item.

Each of these failed on the code the review attacked: a 500 an outsider could cause, a limit that a
burst passed, a failure that fell through to gunicorn's bare 500. Items 1-7 (input) are in
test_hardening_input.py, 8-12 (limits) in test_hardening_limits.py, 13-21 (failures) in
test_hardening_failures.py.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from careerprep import create_app
from careerprep.extensions import db
from careerprep.models import CardState, Review, Role, RolePlan, User, UserSession, utc_now
from tests.conftest import PASSWORD, load_bank, make_user, rating_token, reveal_url
from tests.helpers import DRILL, free_port

ROOT = Path(__file__).resolve().parent.parent


# -- 13. database unreachable ---------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def dead_database_app(request, tmp_path):
    if request.param == "postgresql":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    else:
        url = f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "LOG_REQUESTS": False,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("htmx", [False, True])
def test_database_down_is_a_503_with_our_headers(dead_database_app, caplog, htmx):
    client = dead_database_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:some-token"  # a signed-in visitor: loading the user needs the database
        session["_fresh"] = True
    headers = {"HX-Request": "true"} if htmx else {}
    with caplog.at_level(logging.WARNING, logger="careerprep.errors"):
        responses = [client.get(path, headers=headers) for path in ("/roles", "/dashboard", "/account/")]
        responses.append(client.post("/theme", data={"theme": "dark"}, headers=headers))
    for response in responses:
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert len(response.headers["X-Request-ID"]) == 16
        body = response.get_data(as_text=True)
        assert "cannot reach its database" in body and "Traceback" not in body
        if htmx:
            assert response.headers["HX-Retarget"] == "#alerts" and "<html" not in body
        else:
            assert "<html" in body and "Sign out" not in body
    lines = [r for r in caplog.records if r.name == "careerprep.errors"]
    assert len(lines) == 4  # one line per failed request
    assert all(json.loads(r.getMessage())["event"] == "database_unavailable" for r in lines)
    assert not any(r.exc_info for r in lines)


def test_health_check_reports_the_database_down(dead_database_app):
    response = dead_database_app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json() == {"status": "unavailable"}


def test_a_race_on_a_unique_row_is_a_409_not_a_500(app, logged_in, user, monkeypatch):
    """Two tabs save an interview date at once: the loser's insert hits the unique key. It is told
    so (409), and nothing is half-written."""
    import careerprep.catalog.views as catalog_views

    load_bank(app)
    with app.app_context():
        role_id = db.session.scalar(db.select(Role.id))
        db.session.add(
            RolePlan(user_id=user.id, role_id=role_id, interview_date=utc_now().date() + timedelta(9))
        )
        db.session.commit()
    real = catalog_views.visible_role_and_plan
    # This request read the role before the other tab's plan existed.
    monkeypatch.setattr(catalog_views, "visible_role_and_plan", lambda slug, uid: (real(slug, uid)[0], None))
    response = logged_in.post(
        "/roles/test-role/plan", data={"interview_date": (utc_now() + timedelta(days=30)).date().isoformat()}
    )
    assert response.status_code == 409
    assert "nothing was saved" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(RolePlan.id))) == 1


# -- 14. limit storage (Redis) down ---------------------------------------------------------------


def test_redis_down_degrades_to_memory_counting_never_a_500(make_app, caplog):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}",
        RATELIMIT_KEY_PREFIX="redis-down-test",
    )
    user = make_user(app)
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        wrong = client.post("/auth/login", data={"email": user.email, "password": "wrong pass!"})
        right = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        client.post("/auth/logout")
        signup = client.post(
            "/auth/register",
            data={"display_name": "N", "email": "new@example.com", "password": PASSWORD, "confirm": PASSWORD},
        )
    assert (wrong.status_code, right.status_code, signup.status_code) == (422, 303, 303)
    assert any("rate-limit storage unreachable" in r.getMessage() for r in caplog.records)
    client = app.test_client()
    statuses = [
        client.post("/auth/login", data={"email": "x@example.com", "password": "wrong pass!"}).status_code
        for _ in range(11)
    ]
    assert statuses[-1] == 429  # still limited, in memory


# -- 15. verify-reviews reads one snapshot ---------------------------------------------------------


def test_verify_reviews_sees_no_drift_when_a_rating_commits_while_it_reads(app, logged_in, runner):
    load_bank(app, n_questions=3)
    for _ in range(2):
        back = logged_in.get(reveal_url(logged_in.get(DRILL).get_data(as_text=True))).get_data(as_text=True)
        logged_in.post(DRILL, data={"token": rating_token(back), "rating": "3"})
    # The next rating of a card verify has already read commits between its two reads.
    front = logged_in.get(DRILL).get_data(as_text=True)
    back = logged_in.get(reveal_url(front)).get_data(as_text=True)
    with app.app_context():
        engine = db.engine
    fired: list[bool] = []
    replies: list = []

    def rate_meanwhile(conn, cursor, statement, *args):
        if not fired and "FROM review" in statement and "ORDER BY review.user_id" in statement:
            fired.append(True)
            # Another request (its own thread, so its own app context, session and connection).
            rater = threading.Thread(
                target=lambda: replies.append(
                    logged_in.post(DRILL, data={"token": rating_token(back), "rating": "1"})
                )
            )
            rater.start()
            rater.join(30)

    event.listen(engine, "before_cursor_execute", rate_meanwhile)
    try:
        result = runner.invoke(args=["verify-reviews"])
    finally:
        event.remove(engine, "before_cursor_execute", rate_meanwhile)
    assert fired and [r.status_code for r in replies] == [303]
    assert result.exit_code == 0, result.output
    assert "all match their review log" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 3


# -- 16. a stale tab's rating ----------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_a_stale_tab_rating_is_refused_and_records_nothing(app, logged_in, htmx):
    load_bank(app, n_questions=1)
    first_tab = logged_in.get(reveal_url(logged_in.get(DRILL).get_data(as_text=True))).get_data(as_text=True)
    second_tab = logged_in.get(reveal_url(logged_in.get(DRILL).get_data(as_text=True))).get_data(as_text=True)
    assert logged_in.post(DRILL, data={"token": rating_token(first_tab), "rating": "3"}).status_code == 303
    headers = {"HX-Request": "true"} if htmx else {}
    response = logged_in.post(DRILL, data={"token": rating_token(second_tab), "rating": "1"}, headers=headers)
    if htmx:
        assert response.status_code == 409
        assert "already rated in another tab" in response.get_data(as_text=True)
        assert '<section id="card"' in response.get_data(as_text=True)  # the current card is shown
    else:
        assert response.status_code == 303
        assert "already rated in another tab" in logged_in.get(DRILL).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(db.select(Review.rating)).all() == [3]
        assert db.session.scalar(db.select(CardState.reps)) == 1


def test_a_double_submit_is_still_already_recorded(app, logged_in):
    load_bank(app, n_questions=2)
    back = logged_in.get(reveal_url(logged_in.get(DRILL).get_data(as_text=True))).get_data(as_text=True)
    token = rating_token(back)
    hx = {"HX-Request": "true"}
    assert "Rated Good" in logged_in.post(DRILL, data={"token": token, "rating": "3"}, headers=hx).get_data(
        True
    )
    again = logged_in.post(DRILL, data={"token": token, "rating": "3"}, headers=hx)
    assert again.status_code == 200 and "Already recorded" in again.get_data(as_text=True)


# -- 17. signed-in pages are never cached ---------------------------------------------------------


def test_signed_in_responses_are_private_and_not_stored(app, logged_in, client):
    load_bank(app)
    for path in ("/dashboard", "/roles", "/account/", DRILL, "/roles/test-role"):
        assert logged_in.get(path).headers["Cache-Control"] == "private, no-store", path
    fragment = logged_in.get(DRILL, headers={"HX-Request": "true"})
    assert fragment.headers["Cache-Control"] == "private, no-store"
    static = logged_in.get("/static/css/app.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_visitor_pages_are_not_marked_private(app):
    assert "Cache-Control" not in app.test_client().get("/").headers


# -- 18. common passwords --------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["password", "Password1", "monkey2024!", "qwertyuiop", "letmein12345"])
def test_common_passwords_are_refused_at_sign_up(app, client, password):
    response = client.post(
        "/auth/register",
        data={"display_name": "N", "email": "n@example.com", "password": password, "confirm": password},
    )
    assert response.status_code == 422
    assert "one of the most common passwords" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_common_password_is_refused_at_password_change(app, logged_in, user):
    form = {"current": PASSWORD, "new": "iloveyou", "confirm": "iloveyou"}
    response = logged_in.post("/account/password", data=form)
    assert response.status_code == 422 and "most common passwords" in response.get_data(as_text=True)


def test_an_uncommon_passphrase_is_accepted(client):
    phrase = "violet kettle orbit lantern"
    response = client.post(
        "/auth/register",
        data={"display_name": "N", "email": "n@example.com", "password": phrase, "confirm": phrase},
    )
    assert response.status_code == 303


# -- 19. sign-ins expire -------------------------------------------------------------------------


def _age_sign_in(app, **fields) -> None:
    with app.app_context():
        for row in db.session.scalars(db.select(UserSession)):
            for name, value in fields.items():
                setattr(row, name, value)
        db.session.commit()


def test_an_idle_sign_in_ends(app, logged_in):
    assert logged_in.get("/dashboard").status_code == 200
    _age_sign_in(app, last_seen_at=utc_now() - timedelta(days=31))
    response = logged_in.get("/dashboard")
    assert response.status_code == 303 and "/auth/login" in response.headers["Location"]


def test_a_sign_in_ends_after_its_maximum_age_however_busy(app, logged_in):
    _age_sign_in(app, created_at=utc_now() - timedelta(days=366), last_seen_at=utc_now())
    assert logged_in.get("/dashboard").status_code == 303


def test_expiry_ages_are_configurable_and_bound_the_remember_cookie(make_app):
    app = make_app(SESSION_IDLE_DAYS=2, SESSION_MAX_DAYS=10)
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=10)
    user = make_user(app)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    _age_sign_in(app, last_seen_at=utc_now() - timedelta(days=3))
    assert client.get("/dashboard").status_code == 303


def test_last_use_moves_at_most_once_an_hour(app, logged_in):
    _age_sign_in(app, last_seen_at=utc_now() - timedelta(hours=2))
    with app.app_context():
        engine = db.engine
    updates: list[str] = []

    def spy(conn, cursor, statement, *args):
        if statement.startswith("UPDATE user_session"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", spy)
    try:
        for _ in range(3):
            assert logged_in.get("/dashboard").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert len(updates) == 1


def test_account_page_lists_each_sign_in_with_its_last_use(app, client, auth, user):
    auth.login(user.email)
    other = app.test_client()
    other.post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
    )
    page = client.get("/account/").get_data(as_text=True)
    assert "Firefox on Linux" in page and "last used" in page and "This device" in page
    with app.app_context():
        other_id = db.session.scalar(db.select(UserSession.id).order_by(UserSession.id.desc()))
    assert client.post(f"/account/sessions/{other_id}/revoke").status_code == 303
    assert other.get("/dashboard").status_code == 303


def test_another_users_sign_in_cannot_be_revoked(app, client, auth, user):
    someone = make_user(app)
    app.test_client().post("/auth/login", data={"email": someone.email, "password": PASSWORD})
    auth.login(user.email)
    with app.app_context():
        theirs = db.session.scalar(db.select(UserSession.id).filter_by(user_id=someone.id))
    assert client.post(f"/account/sessions/{theirs}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(UserSession, theirs).revoked_at is None


# -- 21. one control socket per gunicorn instance --------------------------------------------------


def test_each_gunicorn_instance_gets_its_own_control_socket(monkeypatch):
    import runpy

    paths = set()
    for bind in ("127.0.0.1:8001", "127.0.0.1:8002", "unix:/run/careerprep.sock"):
        monkeypatch.setenv("BIND", bind)
        monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
        paths.add(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["control_socket"])
    assert len(paths) == 3
    monkeypatch.setenv("GUNICORN_CONTROL_SOCKET", "/run/careerprep/a.ctl")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["control_socket"] == "/run/careerprep/a.ctl"
