"""Performance budgets that are deterministic: query counts flat in data size, page sizes, caching,
compression. (Speed itself is measured in bench/, never asserted here.)"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from careerprep.extensions import db
from careerprep.models import Question, Review, User
from tests.conftest import card_state, count_queries, load_bank, rating_token
from tests.helpers import DRILL, HX, reveal


def review_history(app, user_id: int, n: int) -> None:
    """n past reviews and a card state for half the questions; the other half stay new."""
    with app.app_context():
        qids = db.session.scalars(db.select(Question.id).order_by(Question.id)).all()
        studied = qids[: len(qids) // 2]
        now = datetime.now(UTC)
        db.session.execute(
            db.insert(Review),
            [
                {
                    "user_id": user_id,
                    "question_id": studied[i % len(studied)],
                    "token": f"h{i}",
                    "rating": 3,
                    # Today and the 29 days before: the dashboard rolls up the closed days.
                    "reviewed_at": now - timedelta(days=i % 30, minutes=i),
                    "duration_ms": 5000,
                    "state": 2,
                    "step": None,
                    "stability": 5.0,
                    "difficulty": 5.0,
                    "due": now,
                    "interval_seconds": 86400,
                    "prev_state": 2,
                    "mode": "due",
                }
                for i in range(n)
            ],
        )
        for i, qid in enumerate(studied):
            db.session.add(card_state(user_id, qid, due=now + timedelta(hours=i - len(studied) // 2)))
        db.session.commit()


@pytest.mark.parametrize(("questions", "reviews"), [(10, 10), (1000, 5000)])
def test_query_counts_stay_within_budget_and_flat(app, logged_in, user, questions, reviews):
    load_bank(app, n_questions=questions)
    review_history(app, user.id, reviews)
    with app.app_context():  # same queue path for both sizes: no daily review limit in the way
        db.session.get(User, user.id).max_reviews_per_day = 9999
        db.session.commit()
    counts = {}
    for name, path, headers in (
        ("drill page", DRILL, {}),
        ("drill fragment", DRILL, HX),
        ("catalogue", "/roles", {}),
        ("dashboard", "/dashboard", {}),  # the first view stores the roll-up of closed days
        ("dashboard again", "/dashboard", {}),  # later views read it
    ):
        with count_queries(app) as statements:
            assert logged_in.get(path, headers=headers).status_code == 200
        counts[name] = len(statements)
    token = rating_token(reveal(logged_in, htmx=True))
    with count_queries(app) as statements:
        assert logged_in.post(DRILL, data={"token": token, "rating": "3"}, headers=HX).status_code == 200
    counts["rating"] = len(statements)
    assert counts["drill page"] <= 5 and counts["drill fragment"] <= 5
    assert counts["rating"] <= 8
    assert counts["catalogue"] <= 4
    assert counts["dashboard"] <= 12
    assert counts["dashboard again"] < counts["dashboard"]
    assert counts["dashboard again"] <= 4  # the card scan is reused: nothing changed since the first view
    test_query_counts_stay_within_budget_and_flat.seen.append(counts)
    if len(test_query_counts_stay_within_budget_and_flat.seen) == 2:
        small, large = test_query_counts_stay_within_budget_and_flat.seen
        assert small == large, (small, large)


test_query_counts_stay_within_budget_and_flat.seen = []


def test_card_fragment_is_small_and_the_full_drill_page_fits_in_40_kb_over_the_wire(app, logged_in):
    from careerprep.banks import seed as seed_banks  # the real banks: realistic prompt sizes

    with app.app_context():
        seed_banks()
    path = "/roles/software-systems-engineer/drill"
    fragment = logged_in.get(path, headers=HX).get_data()
    assert len(fragment) <= 4096, len(fragment)
    gzip = {"Accept-Encoding": "gzip"}  # what every browser sends, so what a phone downloads
    page = logged_in.get(path, headers=gzip)
    assert page.headers["Content-Encoding"] == "gzip"
    sent, total = len(page.get_data()), len(logged_in.get(path).get_data())
    import re

    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', logged_in.get(path).get_data(as_text=True)):
        with logged_in.get(asset, headers=gzip) as response:
            assert response.status_code == 200, asset
            sent += len(response.get_data())
        with logged_in.get(asset) as response:
            total += len(response.get_data())
    # Over the wire (gzip): the page, htmx, the CSS and the JS of every exercise kind.
    assert sent <= 40 * 1024, sent
    # Unpacked, what the browser parses: htmx alone is 51 KB of it.
    assert total <= 110 * 1024, total


def test_text_responses_are_gzipped_when_accepted(app, logged_in):
    load_bank(app)
    page = logged_in.get("/roles/test-role", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in page.headers["Vary"]
    assert b"Role test-role" in gzip.decompress(page.get_data())
    plain = logged_in.get("/roles/test-role")
    assert "Content-Encoding" not in plain.headers and b"Role test-role" in plain.get_data()
    tiny = logged_in.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in tiny.headers  # under 1 KB: not worth it


def test_static_files_have_versioned_urls_and_long_lived_caching(app, client):
    html = client.get("/").get_data(as_text=True)
    import re

    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert urls and all("?v=" in url for url in urls)
    css = client.get(
        next(u for u in urls if u.split("?")[0].endswith(".css")), headers={"Accept-Encoding": "gzip"}
    )
    assert css.status_code == 200
    assert css.headers["Content-Encoding"] == "gzip"
    cache = css.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "no-cache" not in cache
    assert b":root" in gzip.decompress(css.get_data())
    with client.get("/static/css/app.css") as unversioned:
        assert "immutable" not in unversioned.headers.get("Cache-Control", "")


def test_static_versioning_never_reads_outside_the_static_folder(app):
    from careerprep.assets import file_version

    assert file_version(app.static_folder, "../../../../etc/passwd") is None
    assert file_version(app.static_folder, "css/app.css")


# -- the per-request floor (issue 21) -------------------------------------------------------------------


def test_health_check_runs_one_statement_without_the_orm_session(app, client):
    with count_queries(app) as statements:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert statements == ["SELECT 1"]
    with app.app_context():
        assert not db.session.registry.has()  # no unit of work was opened for it


def test_limiter_checks_only_where_a_limit_is_declared(make_app):
    """With no default, application or blueprint limits, Flask-Limiter's per-request hook is dropped
    (a view's own limit is checked by its decorator); configure a default limit and it stays."""
    from careerprep.extensions import limiter

    plain = make_app(RATELIMIT_ENABLED=True)
    assert limiter._check_request_limit not in plain.before_request_funcs[None]
    statuses = [
        plain.test_client().post("/auth/register", data={"email": f"x{i}@example.com"}).status_code
        for i in range(12)
    ]
    assert statuses.count(429) == 2  # sign-up: 10 a minute per address, still enforced
    try:  # the limiter is one object for every app: its default limits must not outlive this test
        with_default = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="5 per minute")
        assert limiter._check_request_limit in with_default.before_request_funcs[None]
        assert [with_default.test_client().get("/").status_code for _ in range(6)][-1] == 429
    finally:
        limiter.limit_manager.set_default_limits([])


def test_csrf_is_checked_for_unsafe_methods_only(make_app):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    assert client.get("/auth/login").status_code == 200
    assert client.post("/auth/login", data={"email": "a@example.com", "password": "x"}).status_code == 400
    assert client.post("/theme", data={"theme": "dark"}).status_code == 400
