"""Browsing roles: counts, published-only, and your progress on each."""

from __future__ import annotations

from careerprep.extensions import db
from careerprep.models import QuestionSet
from tests.conftest import bank_dict, count_queries, load_bank


def test_roles_lists_published_roles_with_counts(app, client):
    load_bank(app, role_slug="alpha-role", n_questions=4)
    load_bank(app, role_slug="hidden-role", n_questions=3, published=False)
    html = client.get("/roles").get_data(as_text=True)
    assert "Role alpha-role" in html
    assert "4 questions" in html
    assert "Role hidden-role" not in html
    assert " due</span>" not in html  # anonymous: no personal counts


def test_roles_shows_your_due_and_new_counts(app, logged_in):
    load_bank(app, n_questions=6)
    front = logged_in.get("/roles/test-role/drill").get_data(as_text=True)
    from tests.conftest import rating_token, reveal_url

    back = logged_in.get(reveal_url(front)).get_data(as_text=True)
    logged_in.post("/roles/test-role/drill", data={"token": rating_token(back), "rating": "1"})
    html = logged_in.get("/roles").get_data(as_text=True)
    assert "0 due" in html  # Again: due in one minute, not yet
    assert "5 new" in html


def test_archived_questions_are_not_counted(app, client):
    bank = bank_dict(n_questions=3)
    load_bank(app, bank)
    with app.app_context():
        from careerprep.models import Question

        db.session.scalar(db.select(Question).filter_by(key="q-0")).archived = True
        db.session.commit()
    assert "2 questions" in client.get("/roles").get_data(as_text=True)


def test_role_page_shows_sets_categories_and_start(app, logged_in):
    load_bank(app, n_questions=5, categories=("Networking", "Memory"))
    html = logged_in.get("/roles/test-role").get_data(as_text=True)
    assert "<h1>Role test-role</h1>" in html
    assert "Set basics" in html
    assert "Networking" in html and "Memory" in html
    assert "Start drilling" in html
    assert 'href="/roles/test-role/drill"' in html


def test_role_page_404s(app, client):
    load_bank(app, role_slug="hidden-role", published=False)
    assert client.get("/roles/hidden-role").status_code == 404
    assert client.get("/roles/nope").status_code == 404


def test_unpublishing_a_set_hides_the_role(app, client):
    load_bank(app)
    with app.app_context():
        db.session.scalar(db.select(QuestionSet)).published = False
        db.session.commit()
    assert client.get("/roles/test-role").status_code == 404


def test_catalogue_query_count_is_small(app, logged_in):
    for i in range(5):
        load_bank(app, role_slug=f"role-{i}", n_questions=20)
    with count_queries(app) as statements:
        assert logged_in.get("/roles").status_code == 200
    assert len(statements) <= 4
