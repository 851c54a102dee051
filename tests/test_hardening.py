"""The outside review's findings (issue 13), one test or group per numbered item.

Each of these failed on the code the review attacked: a 500 an outsider could cause, a limit that a
burst passed, a failure that fell through to gunicorn's bare 500.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import event

import careerprep.auth.services as auth_services
from careerprep import create_app
from careerprep.extensions import db
from careerprep.forms import Form
from careerprep.models import CardState, Question, Review, Role, RolePlan, User, UserSession, utc_now
from tests.conftest import (
    PASSWORD,
    bank_dict,
    load_bank,
    make_user,
    rating_token,
    reveal_url,
    sqlite_trace,
    transaction_control,
)
from tests.e2e_support import live_server
from tests.http_client import Browser
from tests.test_hostile import snapshot

ROOT = Path(__file__).resolve().parent.parent
DRILL = "/roles/test-role/drill"


@pytest.fixture
def admin(app, client):
    who = make_user(app, is_admin=True)
    assert client.post("/auth/login", data={"email": who.email, "password": PASSWORD}).status_code == 303
    return client


def question_id(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Question.id).order_by(Question.id))


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


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket closes


# -- 1. JSON bodies of the wrong shape ------------------------------------------------------------

JSON_BODIES = [
    {"email": {"a": 1}, "password": "x"},
    [1, 2, 3],
    {"display_name": 123, "email": ["a@b.c"], "password": None},
    {"desired_retention": {"$gt": 0}, "current": [1], "new": True, "comment": 7},
    "just a string",
    None,
]


@pytest.mark.parametrize("body", JSON_BODIES, ids=lambda b: type(b).__name__)
def test_json_bodies_of_any_shape_are_refused_without_a_500(app, admin, body):
    load_bank(app)
    qid = question_id(app)
    paths = [
        "/auth/login",
        "/auth/register",
        "/account/settings",
        "/account/password",
        "/account/delete",
        "/account/sessions/revoke-others",
        f"/questions/{qid}/report",
        "/admin/roles/new",
        f"/admin/questions/{qid}/edit",
        "/admin/import",
    ]
    anonymous = app.test_client()
    before = snapshot(app)
    for path in paths:
        for client in (anonymous, admin):
            response = client.post(path, data=json.dumps(body), content_type="application/json")
            assert response.status_code < 500, (path, response.status_code)
            if response.status_code >= 400:
                assert snapshot(app) == before, path
    assert snapshot(app) == before


def test_every_form_reads_form_bodies_only():
    """One place decides what a form reads: every form in the app derives from careerprep.forms.Form."""
    import careerprep.account.forms  # noqa: F401
    import careerprep.admin.forms  # noqa: F401
    import careerprep.admin.transfer  # noqa: F401
    import careerprep.auth.forms  # noqa: F401
    import careerprep.mock.forms  # noqa: F401
    import careerprep.practice.forms  # noqa: F401

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(FlaskForm) if c.__module__.startswith("careerprep.")]
    assert len(ours) >= 12
    assert [c.__name__ for c in ours if c is not Form and not issubclass(c, Form)] == []


# -- 2. next with characters a header cannot carry ------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/\uff0fevil.example", "/%EF%BC%8Fevil.example"),  # fullwidth solidus: encoded, stays a path
        ("/\u2044evil.example", "/%E2%81%84evil.example"),  # fraction slash
        ("/\x7f/x", "/"),  # DEL: refused
        ("/roles?category=Réseau", "/roles?category=R%C3%A9seau"),
    ],
)
def test_htmx_redirect_to_next_is_always_a_valid_header(client, target, expected):
    response = client.post("/theme", data={"theme": "dark", "next": target}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    header = response.headers["HX-Redirect"]
    header.encode("ascii")  # a header value gunicorn accepts
    assert header == expected


def test_signed_in_login_page_redirects_to_an_encoded_next(client, auth, user):
    auth.login(user.email)
    response = client.get("/auth/login?next=%2F%EF%BC%8Fevil.example", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/%EF%BC%8Fevil.example"


# -- 3. sNaN and other non-numbers in a decimal field ---------------------------------------------


@pytest.mark.parametrize("value", ["sNaN", "NaN", "Infinity", "-inf", "1e999999999999"])
def test_desired_retention_that_is_not_a_number_is_refused(app, logged_in, user, value):
    form = {
        "new_per_day": "10",
        "max_reviews_per_day": "200",
        "desired_retention": value,
        "mock_questions": "5",
        "mock_minutes": "6",
        "timezone": "UTC",
    }
    response = logged_in.post("/account/settings", data=form)
    assert response.status_code == 422
    assert "nothing was changed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).desired_retention == 0.9


# -- 4. list pages: query-string keys and page numbers --------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "?endpoint=x",
        "?_method=POST",
        "?_external=1&q=Question",
        "?page=99999999999999999999",
        "?page=-3",
        "?page=2&_anchor=x&_scheme=https",
    ],
)
def test_admin_question_search_ignores_unknown_keys_and_bounds_the_page(app, admin, query):
    load_bank(app, bank_dict(n_questions=60))
    response = admin.get("/admin/questions" + query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "http://localhost" not in page and "https://" not in page  # links stay relative


@pytest.mark.parametrize("path", ["/admin/reports", "/admin/audit", "/admin/users"])
def test_admin_list_pages_bound_the_page_number(admin, path):
    assert admin.get(path + "?page=99999999999999999999").status_code == 200


# -- 5. saving a question with fields left out ----------------------------------------------------


@pytest.mark.parametrize("missing", ["key_points", "tags", "category", "difficulty"])
def test_question_editor_post_with_fields_left_out_is_422_and_changes_nothing(app, admin, missing):
    load_bank(app)
    qid = question_id(app)
    form = {
        "key": "renamed",
        "prompt": "New prompt",
        "answer": "New answer",
        "key_points": "a\nb\nc",
        "category": "Alpha",
        "difficulty": "2",
        "tags": "x",
    }
    form.pop(missing)
    response = admin.post(f"/admin/questions/{qid}/edit", data=form)
    if missing == "tags":  # tags are optional: leaving them out saves no tags
        assert response.status_code == 303
        return
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Question, qid).key == "q-0"


# -- 6. deeply nested YAML and JSON ---------------------------------------------------------------


def test_deeply_nested_yaml_is_refused_before_it_can_crash_the_parser():
    """200 KB of "[" took a worker down with SIGSEGV (libyaml's C composer recursed past the stack).
    Run in a child process, so a regression fails this test instead of killing the suite."""
    code = (
        "from careerprep.banks import formats, BankError\n"
        "for name in ('bank.yaml', 'bank.json', 'bank.yml'):\n"
        "    try:\n"
        "        formats.load('[' * 100000 + ']' * 100000, name)\n"
        "    except BankError as exc:\n"
        "        print(exc.errors[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.count("nested more than 32 levels deep") == 3


@pytest.mark.parametrize("path", ["/admin/import"])
def test_deeply_nested_upload_is_a_422(app, admin, path):
    import io

    data = {"bank": (io.BytesIO(b"- " * 5000 + b"x"), "bank.yaml")}
    response = admin.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "nested more than 32 levels deep" in response.get_data(as_text=True)


# -- 7. CSV headers in linear time, no parsing inside a write transaction ------------------------


def test_a_csv_with_100000_columns_gets_a_short_message(app, admin):
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    header = ",".join(f"c{i}" for i in range(100_000)).encode() + b"\n"
    # Encoded here: the test client would spool a body this large to a temporary file it never closes.
    boundary, body = encode_multipart({"bank": FileStorage(io.BytesIO(header), "wide.csv")})
    response = admin.post(
        "/admin/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "and 99,980 more" in page
    assert len(page) < 60_000  # the names are not all listed


def test_import_parses_before_it_takes_the_write_lock(app, admin, monkeypatch):
    if not is_sqlite(app):
        pytest.skip("SQLite's write lock")
    import io

    from careerprep.admin import transfer
    from careerprep.banks import formats

    seen: list[bool] = []
    real_load = formats.load

    def spying_load(raw, filename):
        seen.append(write_lock_is_free(app))
        return real_load(raw, filename)

    monkeypatch.setattr(transfer.formats, "load", spying_load)
    raw = formats.dump(bank_dict(n_questions=3), "yaml").encode()
    with sqlite_trace(app) as statements:
        preview = admin.post(
            "/admin/import", data={"bank": (io.BytesIO(raw), "b.yaml")}, content_type="multipart/form-data"
        )
        assert preview.status_code == 200
        assert transaction_control(statements) == []  # the preview writes nothing and locks nothing
    applied = admin.post("/admin/import/apply", data={"payload": transfer.pack(raw), "filename": "b.yaml"})
    assert applied.status_code == 303
    assert seen == [True, True]  # both parses ran with the write lock free


# -- 8. password hashing: outside the write lock, and capped per worker ---------------------------


def test_sign_in_hashes_the_password_without_holding_the_write_lock(app, client, user, monkeypatch):
    if not is_sqlite(app):
        pytest.skip("SQLite's write lock")
    seen: list[bool] = []
    real_check = auth_services.check_password_hash

    def spying_check(stored, password):
        seen.append(write_lock_is_free(app))
        return real_check(stored, password)

    monkeypatch.setattr(auth_services, "check_password_hash", spying_check)
    assert client.post("/auth/login", data={"email": user.email, "password": "wrong one!"}).status_code == 422
    assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303
    assert seen == [True, True]


def test_a_sign_in_flood_gets_503_while_drill_traffic_is_served(tmp_path, app_config, monkeypatch):
    """One hashing slot per worker: a sign-in that cannot get one in time is told to retry (503)."""
    entered, release = threading.Event(), threading.Event()
    real_check = auth_services.check_password_hash

    def slow_check(stored, password):
        entered.set()
        release.wait(10)
        return real_check(stored, password)

    monkeypatch.setattr(auth_services, "check_password_hash", slow_check)
    with live_server(
        tmp_path,
        database_url=app_config["SQLALCHEMY_DATABASE_URI"],
        bank=bank_dict(),
        PASSWORD_HASH_CONCURRENCY=1,
        PASSWORD_HASH_WAIT=0.3,
    ) as base:
        browsers = [Browser(base) for _ in range(3)]
        for browser in browsers:
            browser.get("/auth/login")
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(
                browsers[0].post, "/auth/login", {"email": "a@example.com", "password": "x" * 9}
            )
            assert entered.wait(10)  # the first sign-in holds the only hashing slot
            second = browsers[1].post("/auth/login", {"email": "b@example.com", "password": "x" * 9})
            drill_traffic = browsers[2].get("/roles")
            release.set()
            assert first.result().status == 422
    assert second.status == 503
    assert second.headers["Retry-After"] == "30"
    assert "Too many sign-ins are being checked at once" in second.text
    assert drill_traffic.status == 200


# -- 9. a draft reveal writes nothing and takes no lock -------------------------------------------


def test_a_draft_reveal_post_takes_no_write_lock(app, client, auth):
    if not is_sqlite(app):
        pytest.skip("SQLite transactions")
    load_bank(app)
    who = make_user(app, draft_enabled=True)
    auth.login(who.email)
    front = client.get(DRILL).get_data(as_text=True)
    with sqlite_trace(app) as statements:
        response = client.post(
            DRILL + "/reveal",
            data={"token": rating_token(front), "draft": "my answer"},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200 and "my answer" in response.get_data(as_text=True)
    assert transaction_control(statements) == []


# -- 10 and 11. limits counted before the password check hold under bursts ------------------------


def _burst(base: str, path: str, forms: list[dict], browsers: list[Browser]) -> list[int]:
    barrier = threading.Barrier(len(forms))

    def send(pair):
        browser, form = pair
        barrier.wait()
        return browser.post(path, form).status

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(send, zip(browsers, forms, strict=True)))


@pytest.mark.parametrize("burst", [16, 40])
def test_a_burst_of_wrong_passwords_is_checked_at_most_ten_times(tmp_path, app_config, burst):
    with live_server(
        tmp_path, database_url=app_config["SQLALCHEMY_DATABASE_URI"], bank=bank_dict(), RATELIMIT_ENABLED=True
    ) as base:
        browsers = [Browser(base) for _ in range(burst)]
        for browser in browsers:
            browser.get("/auth/login")
        form = {"email": "victim@example.com", "password": "wrong password"}
        statuses = _burst(base, "/auth/login", [form] * burst, browsers)
    assert statuses.count(422) == 10  # checked
    assert statuses.count(429) == burst - 10  # refused before any check


def test_a_burst_of_wrong_current_passwords_is_checked_at_most_ten_times(tmp_path, app_config):
    with live_server(
        tmp_path, database_url=app_config["SQLALCHEMY_DATABASE_URI"], bank=bank_dict(), RATELIMIT_ENABLED=True
    ) as base:
        browser = Browser(base)
        browser.get("/auth/register")
        browser.post(
            "/auth/register",
            {"display_name": "T", "email": "thief@example.com", "password": PASSWORD, "confirm": PASSWORD},
        )
        browser.get("/account/")
        form = {"current": "guess number x", "new": "another long pass", "confirm": "another long pass"}
        statuses = _burst(base, "/account/password", [form] * 14, [browser] * 14)
    assert statuses.count(422) == 10
    assert statuses.count(429) == 4


def test_eleventh_wrong_current_password_in_a_row_is_429(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(app)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    form = {"current": "not my password", "new": "a brand new pass", "confirm": "a brand new pass"}
    statuses = [client.post("/account/password", data=form).status_code for _ in range(11)]
    assert statuses == [422] * 10 + [429]
    assert "Too many attempts" in client.post("/account/password", data=form).get_data(as_text=True)


def test_successful_sign_ins_do_not_use_up_the_allowance(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(app)
    for _ in range(15):
        client = app.test_client()
        assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303


# -- 12. no lockout that anyone can trigger --------------------------------------------------------


def test_a_known_device_signs_in_while_strangers_are_locked_out_of_the_account(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(app)
    owner = app.test_client()
    assert owner.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303
    owner.post("/auth/logout")
    attacker = app.test_client()
    for i in range(10):  # ten wrong guesses from ten addresses: the account's limit for new devices
        response = attacker.post(
            "/auth/login",
            data={"email": user.email, "password": "wrong guess"},
            environ_base={"REMOTE_ADDR": f"10.9.0.{i}"},
        )
        assert response.status_code == 422
    stranger = app.test_client().post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.1.1"},
    )
    assert stranger.status_code == 429  # brute-force protection holds for new devices
    back = owner.post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.2.2"},
    )
    assert back.status_code == 303  # the owner's browser, known to the account, is not locked out


def test_a_forged_device_cookie_counts_for_nothing(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(app)
    client = app.test_client()
    client.set_cookie("cp_device", "not-a-signed-value")
    statuses = [
        client.post(
            "/auth/login",
            data={"email": user.email, "password": "wrong guess"},
            environ_base={"REMOTE_ADDR": f"10.8.0.{i}"},
        ).status_code
        for i in range(11)
    ]
    assert statuses == [422] * 10 + [429]


# -- 13. database unreachable ---------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def dead_database_app(request, tmp_path):
    if request.param == "postgresql":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
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
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed_port()}",
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
