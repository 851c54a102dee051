"""A short pass of bench/load_reviews.py: double-submitted ratings through gunicorn record once each."""

from __future__ import annotations

import pytest

from bench import load_reviews
from careerprep import create_app
from careerprep.extensions import db
from tests.conftest import database_url, reset_schema


def test_double_submitted_ratings_through_gunicorn_are_recorded_once(tmp_path):
    if not (load_reviews.BIN / "gunicorn").exists():
        pytest.skip(f"gunicorn is not installed beside {load_reviews.BIN / 'python'}")
    url = database_url(tmp_path)
    # PostgreSQL is shared and reset per test: empty it the suite's way; the script only adds rows.
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    reset_schema(app)
    with app.app_context():
        db.engine.dispose()
    options = load_reviews.Options(
        users=2,
        ratings=3,
        workers=2,
        clients=2,
        duplicates=2,
        draft_off=1,  # user 0 drafts (the default), user 1 reveals by the link
        database_url=url,
        deadline=120,
        workdir=tmp_path,
        drop_tables=False,
    )

    result = load_reviews.run(options)

    report = "\n".join(result.lines)
    assert result.server_started, report
    assert result.passed, report
    assert result.lines[-1] == "RESULT: PASS"
    stats, tally = result.stats, result.tally
    assert stats.server_errors == 0 and stats.other_errors == 0, report
    # User 0 reveals by the draft form, user 1 by the link; an exercise card (SSE has them) always
    # takes its answer form, whichever user draws it.
    assert stats.draft_reveals + stats.answer_reveals + stats.link_reveals == 6, report
    assert stats.draft_reveals >= 1 and stats.link_reveals >= 1, report
    assert (stats.ratings_sent, stats.confirmed, stats.already_replies) == (6, 6, 6), report
    assert (tally.rows, result.lost, result.duplicated, tally.cards_mismatched) == (6, 0, 0, 0), report
    # Every card revealed with something typed in a "draft" box kept it on its review.
    assert tally.drafts == stats.drafted >= stats.draft_reveals, report
