"""The dashboard: empty state, counts, reviews today, streak, chart and recall."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from careerprep.extensions import db
from careerprep.models import Question, Review, User
from careerprep.progress.services import streak_length
from tests.conftest import card_state, count_queries, load_bank, rating_token, reveal_url


def drill_n(client, n, rating=3, url="/roles/test-role/drill"):
    for _ in range(n):
        front = client.get(url).get_data(as_text=True)
        back = client.get(reveal_url(front)).get_data(as_text=True)
        assert client.post(url, data={"token": rating_token(back), "rating": str(rating)}).status_code == 303


def test_empty_dashboard_tells_a_new_user_what_to_do(logged_in):
    html = logged_in.get("/dashboard").get_data(as_text=True)
    assert "Nothing studied yet" in html
    assert "Choose a role" in html


def test_dashboard_counts_after_drilling(app, logged_in):
    load_bank(app, n_questions=8)
    drill_n(logged_in, 5, rating=3)
    html = logged_in.get("/dashboard").get_data(as_text=True)
    assert 'id="reviews-today">5<' in html
    assert 'id="streak">1 day<' in html
    assert "Role test-role" in html
    assert "<dt>New</dt><dd>3</dd>" in html
    assert "<dt>Learning</dt><dd>5</dd>" in html
    assert "<svg" in html and "Reviews per day over the last 30 days: 5 in total" in html
    assert ": 5 reviews</title>" in html  # today's bar


def test_dashboard_streak_and_history(app, logged_in, user):
    load_bank(app, n_questions=3)
    now = datetime.now(UTC)
    with app.app_context():
        qid = db.session.scalar(db.select(Question.id).filter_by(key="q-0"))
        db.session.add(
            card_state(
                user.id,
                qid,
                stability=10.0,
                due=now + timedelta(days=5),
                last_review=now - timedelta(days=1),
                reps=3,
                introduced_at=now - timedelta(days=3),
            )
        )
        for days_ago in (1, 2, 3):
            db.session.add(
                Review(
                    user_id=user.id,
                    question_id=qid,
                    token=f"t{days_ago}",
                    rating=3,
                    reviewed_at=now - timedelta(days=days_ago),
                    duration_ms=1000,
                    state=2,
                    step=None,
                    stability=10.0,
                    difficulty=5.0,
                    due=now,
                    interval_seconds=86400,
                )
            )
        db.session.commit()
    html = logged_in.get("/dashboard").get_data(as_text=True)
    assert 'id="streak">3 days<' in html
    assert 'id="reviews-today">0<' in html
    assert "Study today to keep your 3-day streak going." in html
    assert "<dt>Review</dt><dd>1</dd>" in html
    # 10-day stability reviewed a day ago: recall ≈ 99%.
    assert "<dt>Average predicted recall</dt><dd>99%</dd>" in html


def test_dashboard_days_follow_the_users_time_zone(app, logged_in, user):
    load_bank(app, n_questions=1)
    now = datetime.now(UTC)
    with app.app_context():
        db.session.get(User, user.id).timezone = "Pacific/Kiritimati"  # UTC+14
        qid = db.session.scalar(db.select(Question.id))
        db.session.add(
            card_state(
                user.id,
                qid,
                stability=5.0,
                due=now + timedelta(days=5),
                last_review=now,
                reps=1,
                introduced_at=now,
            )
        )
        db.session.commit()
    from zoneinfo import ZoneInfo

    local_today = now.astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    html = logged_in.get("/dashboard").get_data(as_text=True)
    assert local_today.strftime("%a %d %b %Y") in html


def test_streak_length():
    today = date(2026, 3, 10)
    days = {today - timedelta(days=i) for i in (0, 1, 2, 4)}
    assert streak_length(days, today) == 3
    assert streak_length(days - {today}, today) == 2  # today not studied yet: streak kept
    assert streak_length(set(), today) == 0
    assert streak_length({today - timedelta(days=2)}, today) == 0


def test_dashboard_query_count(app, logged_in):
    load_bank(app, n_questions=12)
    drill_n(logged_in, 4)
    with count_queries(app) as statements:
        assert logged_in.get("/dashboard").status_code == 200
    assert len(statements) <= 12
