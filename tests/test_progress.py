"""Progress pages: numbers for a crafted history, local day boundaries, empty states, fixed queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from careerprep.extensions import db
from careerprep.models import ActivityDay, CardState, Question, Review, Role, User
from careerprep.progress import activity as activity_module
from careerprep.progress.activity import activity, activity_days, longest_streak, streak_length
from careerprep.progress.dashboard import dashboard as build_dashboard
from careerprep.progress.role import role_progress
from tests.conftest import card_state, count_queries, load_bank, rating_token, reveal_url
from tests.helpers import review_row

# 11:30 on Wednesday 11 March 2026 in Kolkata (UTC+5:30): local days start at 18:30 UTC.
NOW = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)
TZ = "Asia/Kolkata"


@pytest.fixture
def history(app, user):
    """A crafted history for `user` in Kolkata time."""
    load_bank(app, n_questions=6, categories=("Alpha", "Beta"))
    with app.app_context():
        db.session.get(User, user.id).timezone = TZ
        q = {x.key: x.id for x in db.session.scalars(db.select(Question))}
        reviews = [
            # today (local Mar 11 00:15), a review-state pass, 2 minutes
            review_row(user.id, q["q-0"], datetime(2026, 3, 10, 18, 45, tzinfo=UTC), duration_ms=120_000),
            # yesterday (local Mar 10 23:45): a lapse of a review card
            review_row(user.id, q["q-1"], datetime(2026, 3, 10, 18, 15, tzinfo=UTC), rating=1),
            # Mar 9 and Mar 7 (Mar 8 missed): an Easy review card and a new card's first review
            review_row(user.id, q["q-2"], datetime(2026, 3, 9, 10, 0, tzinfo=UTC), rating=4),
            review_row(user.id, q["q-3"], datetime(2026, 3, 7, 10, 0, tzinfo=UTC), prev_state=0),
        ]
        # Five days in a row in January: the longest streak.
        reviews += [
            review_row(user.id, q["q-4"], datetime(2026, 1, 10 + i, 9, 0, tzinfo=UTC), prev_state=1)
            for i in range(5)
        ]
        db.session.add_all(reviews)
        db.session.add_all(
            [
                # mastered (review, stability 30), due in 9 days
                card_state(
                    user.id,
                    q["q-0"],
                    stability=30.0,
                    last_review=NOW - timedelta(days=1),
                    due=NOW + timedelta(days=9),
                    introduced_at=NOW - timedelta(days=60),
                ),
                # learning, overdue: counts as due now and in today's forecast
                card_state(
                    user.id,
                    q["q-1"],
                    state=3,
                    stability=1.0,
                    last_review=NOW - timedelta(days=2),
                    due=NOW - timedelta(hours=2),
                    introduced_at=NOW - timedelta(days=40),
                ),
                # young (review, stability 4), due at 00:30 local tomorrow (19:00 UTC today)
                card_state(
                    user.id,
                    q["q-2"],
                    stability=4.0,
                    last_review=NOW - timedelta(days=2),
                    due=datetime(2026, 3, 11, 19, 0, tzinfo=UTC),
                    introduced_at=NOW - timedelta(days=30),
                ),
                # introduced today (local), learning
                card_state(
                    user.id,
                    q["q-3"],
                    state=1,
                    stability=2.0,
                    last_review=NOW - timedelta(hours=1),
                    due=NOW + timedelta(minutes=10),
                    introduced_at=NOW - timedelta(hours=1),
                ),
            ]
        )
        db.session.commit()
    return q


def build(app, user):
    with app.app_context():
        return build_dashboard(db.session.get(User, user.id), NOW)


def test_today_and_consistency_numbers(app, user, history):
    data = build(app, user)
    assert (
        data.today.due,
        data.today.reviewed,
        data.today.minutes,
        data.today.new_introduced,
        data.today.new_limit,
    ) == (1, 1, 2.0, 1, 10)
    c = data.consistency
    assert (c.days_7, c.days_30, c.current, c.longest) == (4, 4, 3, 5)
    assert not c.goal_met


def test_heatmap_uses_local_days(app, user, history):
    data = build(app, user)
    days = {c.day: (c.reviews, c.minutes) for c in data.heatmap}
    assert len(data.heatmap) == 365 and data.heatmap[-1].day == date(2026, 3, 11)
    assert data.heatmap[-1].row == 2  # a Wednesday
    assert {c.level for c in data.heatmap if not c.reviews} == {0}
    assert days[date(2026, 3, 11)] == (1, 2.0)  # 18:45 UTC on the 10th is the 11th in Kolkata
    assert days[date(2026, 3, 10)] == (1, 1.0)
    assert days[date(2026, 3, 8)] == (0, 0)
    assert days[date(2026, 1, 12)] == (1, 1.0)
    assert data.months[0] == (date(2026, 3, 1), 4, 4, 5.0)


def test_forecast_counts_overdue_today_and_local_tomorrow(app, user, history):
    data = build(app, user)
    forecast = dict(data.forecast)
    assert len(data.forecast) == 30
    assert forecast[date(2026, 3, 11)] == 2  # overdue + the learning card due in 10 minutes
    assert forecast[date(2026, 3, 12)] == 1  # 19:00 UTC on the 11th is 00:30 on the 12th locally
    assert forecast[date(2026, 3, 20)] == 1
    assert sum(forecast.values()) == 4


def test_true_retention_and_rating_distribution(app, user, history):
    week, month, year = build(app, user).retention
    # Last 7 days: reviews of review-state cards rated 3, 1, 4 → 2 of 3 passed.
    assert (week.reviews, week.review_state, week.passed) == (4, 3, 2)
    assert week.true_retention == pytest.approx(2 / 3)
    assert week.ratings == {1: 1, 3: 2, 4: 1}
    assert (month.reviews, year.reviews) == (4, 9)
    assert year.ratings[3] == 7


def test_role_competency_weakest_and_distribution(app, user, history):
    with app.app_context():
        found = db.session.get(User, user.id)
        data = role_progress(found, db.session.scalar(db.select(Role)), NOW)
    alpha, beta = data.categories  # q-0, q-2, q-4 Alpha; q-1, q-3, q-5 Beta
    assert (alpha.category, alpha.total, alpha.new, alpha.learning, alpha.mastered) == ("Alpha", 3, 1, 0, 1)
    assert (beta.category, beta.total, beta.new, beta.learning, beta.mastered) == ("Beta", 3, 1, 2, 0)
    assert data.totals == {"new": 2, "learning": 2, "mastered": 1, "young": 1}
    assert data.due == 1 and data.new_today == 1
    # Weakest first: the relearning card (stability 1, reviewed 2 days ago).
    assert data.weakest[0].question.key == "q-1" and data.weakest[0].learning
    assert len(data.weakest) == 4
    assert sum(n for _label, n in data.recall_buckets) == 4


def test_dashboard_page_renders_the_numbers(app, logged_in, user, history, monkeypatch):
    monkeypatch.setattr("careerprep.progress.views.utc_now", lambda: NOW)
    html = logged_in.get("/dashboard").get_data(as_text=True)
    assert 'id="reviews-today">1<' in html and 'id="time-today">2.0 min<' in html
    assert 'id="streak">3 days<' in html and 'id="longest-streak">5 days<' in html
    assert "Studied on <strong>4 of the last 7 days</strong>" in html
    assert "Wed 11 Mar 2026: 1 review, 2.0 min</title>" in html
    assert 'id="retention-7">66.7%<' in html
    assert "Cards due per day for the next 30 days: 4 cards in total" in html
    assert "Well known</dt><dd>1<" in html and "Learned</dt><dd>1<" in html


def test_role_progress_page(app, logged_in, user, history, monkeypatch):
    monkeypatch.setattr("careerprep.progress.views.utc_now", lambda: NOW)
    html = logged_in.get("/roles/test-role/progress").get_data(as_text=True)
    assert "Competency map" in html and "Drill this category" in html
    assert 'href="/roles/test-role/drill?mode=focus&amp;category=Alpha"' in html
    assert 'id="count-mastered">1<' in html and 'id="count-young">1<' in html
    assert "/questions/" in html and "/history" in html
    assert logged_in.get("/roles/no-such-role/progress").status_code == 404


def test_empty_states(app, logged_in):
    load_bank(app)
    dashboard = logged_in.get("/dashboard").get_data(as_text=True)
    assert "Nothing studied yet" in dashboard and "Choose a role" in dashboard
    role = logged_in.get("/roles/test-role/progress").get_data(as_text=True)
    assert "Not started yet" in role and "Start drilling" in role


def test_drilling_shows_up_on_the_dashboard(app, logged_in):
    load_bank(app, n_questions=8)
    for _ in range(5):
        front = logged_in.get("/roles/test-role/drill").get_data(as_text=True)
        back = logged_in.get(reveal_url(front)).get_data(as_text=True)
        logged_in.post("/roles/test-role/drill", data={"token": rating_token(back), "rating": "3"})
    html = logged_in.get("/dashboard").get_data(as_text=True)
    assert 'id="reviews-today">5<' in html and 'id="new-today">5 <span class="of">limit 10' in html


def test_streak_helpers():
    today = date(2026, 3, 10)
    days = {today - timedelta(days=i) for i in (0, 1, 2, 4)}
    assert streak_length(days, today) == 3
    assert streak_length(days - {today}, today) == 2  # today not studied yet: streak kept
    assert streak_length(set(), today) == 0
    assert longest_streak(days) == 3 and longest_streak(set()) == 0


def bulk_reviews(app, user_id, n):
    """n reviews spread over the last 300 days (executemany, for speed)."""
    with app.app_context():
        qids = db.session.scalars(db.select(Question.id)).all()
        base = datetime.now(UTC) - timedelta(days=300)
        rows = [
            {
                "user_id": user_id,
                "question_id": qids[i % len(qids)],
                "token": f"bulk{i}",
                "rating": 1 + i % 4,
                "reviewed_at": base + timedelta(minutes=43 * i % (300 * 1440)),
                "duration_ms": 9000,
                "state": 2,
                "step": None,
                "stability": 5.0,
                "difficulty": 5.0,
                "due": base,
                "interval_seconds": 86400,
                "prev_state": 2,
                "mode": "due",
            }
            for i in range(n)
        ]
        db.session.execute(db.insert(Review), rows)
        for qid in qids:
            db.session.add(card_state(user_id, qid))
        db.session.commit()


@pytest.mark.parametrize("path", ["/dashboard", "/roles/test-role/progress"])
def test_query_count_is_fixed_for_10_and_10000_reviews(app, logged_in, user, path):
    load_bank(app, n_questions=20)
    counts = []
    for n in (10, 10_000):
        with app.app_context():
            db.session.execute(db.delete(Review))
            db.session.execute(db.delete(CardState))
            db.session.commit()
        bulk_reviews(app, user.id, n)
        with count_queries(app) as statements:
            assert logged_in.get(path).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 12, counts


# -- the roll-up of closed days -----------------------------------------------------------------------


def by_day(rows) -> dict:
    """Day rows summed per (day, rating), so two lists can be compared whatever their order."""
    out: dict = {}
    for r in rows:
        reviews, review_state, ms = out.get((r.day, r.rating), (0, 0, 0))
        out[(r.day, r.rating)] = (reviews + r.reviews, review_state + r.review_state, ms + r.ms)
    return out


def rollup_state(user_id):
    user = db.session.get(User, user_id)
    db.session.refresh(user)
    days = db.session.scalars(db.select(ActivityDay.day).where(ActivityDay.user_id == user_id)).all()
    return user.activity_boundary, user.activity_zone, set(days)


def test_rollup_holds_closed_days_and_matches_the_log(app, user, history):
    with app.app_context():
        me = db.session.get(User, user.id)
        first = activity_days(me, NOW)
        assert by_day(first) == by_day(activity(me, NOW))
        boundary, zone_name, days = rollup_state(user.id)
        # Today (local Mar 11) stays live; every earlier study day is stored.
        assert boundary == datetime(2026, 3, 10, 18, 30, tzinfo=UTC) and zone_name == TZ
        assert date(2026, 3, 11) not in days
        assert {date(2026, 3, 10), date(2026, 3, 9), date(2026, 3, 7), date(2026, 1, 10)} <= days
        # A second view reads the roll-up and the log since the boundary: the same figures.
        me = db.session.get(User, user.id)
        assert by_day(activity_days(me, NOW)) == by_day(first)
        # Today's review is not in the roll-up: only the live part counts it.
        assert not db.session.scalar(
            db.select(ActivityDay.reviews).where(
                ActivityDay.user_id == user.id, ActivityDay.day == date(2026, 3, 11)
            )
        )


def test_rollup_folds_in_the_days_closed_since(app, user, history):
    with app.app_context():
        activity_days(db.session.get(User, user.id), NOW)
        later = NOW + timedelta(days=2)
        with db.session.begin_nested():
            db.session.add(review_row(user.id, history["q-5"], NOW + timedelta(hours=2), rating=2))
        db.session.commit()
        assert rollup_state(user.id)[0] is not None  # a review after the boundary keeps the roll-up
        me = db.session.get(User, user.id)
        rows = activity_days(me, later)
        assert by_day(rows) == by_day(activity(me, later))
        boundary, _zone, days = rollup_state(user.id)
        assert boundary == datetime(2026, 3, 12, 18, 30, tzinfo=UTC)
        assert date(2026, 3, 11) in days  # yesterday's two reviews (Good and Hard), now closed
        stored = dict(
            db.session.execute(
                db.select(ActivityDay.rating, ActivityDay.reviews).where(
                    ActivityDay.user_id == user.id, ActivityDay.day == date(2026, 3, 11)
                )
            ).all()
        )
        assert stored == {3: 1, 2: 1}


@pytest.mark.parametrize("change", ["insert", "delete", "update"])
def test_a_change_to_a_closed_day_clears_the_rollup_and_the_next_view_rebuilds_it(app, user, history, change):
    with app.app_context():
        activity_days(db.session.get(User, user.id), NOW)
        assert rollup_state(user.id)[0] is not None
        old = db.select(Review.id).where(Review.user_id == user.id).order_by(Review.reviewed_at).limit(1)
        if change == "insert":  # a bulk insert (no ORM events): the trigger still sees it
            row = {
                c.name: getattr(review_row(user.id, history["q-5"], NOW - timedelta(days=20)), c.name)
                for c in Review.__table__.columns
                if c.name != "id"
            }
            db.session.execute(db.insert(Review), [row])
        elif change == "delete":
            db.session.execute(db.delete(Review).where(Review.id == old.scalar_subquery()))
        else:
            db.session.execute(db.update(Review).where(Review.id == old.scalar_subquery()).values(rating=1))
        db.session.commit()
        assert rollup_state(user.id)[0] is None
        me = db.session.get(User, user.id)
        rebuilt = activity_days(me, NOW)
        assert by_day(rebuilt) == by_day(activity(me, NOW))
        assert rollup_state(user.id)[0] is not None


def test_rating_today_keeps_the_rollup(app, logged_in, user):
    load_bank(app, n_questions=8)

    def rate_one():
        front = logged_in.get("/roles/test-role/drill").get_data(as_text=True)
        back = logged_in.get(reveal_url(front)).get_data(as_text=True)
        response = logged_in.post("/roles/test-role/drill", data={"token": rating_token(back), "rating": "3"})
        assert response.status_code == 303

    rate_one()
    rate_one()
    with app.app_context():  # those two were three days ago
        for review in db.session.scalars(db.select(Review)):
            review.reviewed_at -= timedelta(days=3)
        db.session.commit()
    html = logged_in.get("/dashboard").get_data(as_text=True)
    assert 'id="reviews-today">0<' in html
    with app.app_context():
        assert rollup_state(user.id)[0] is not None
        assert (
            sum(db.session.scalars(db.select(ActivityDay.reviews).where(ActivityDay.user_id == user.id))) == 2
        )
    rate_one()
    with app.app_context():
        assert rollup_state(user.id)[0] is not None  # a rating now falls after the boundary
    html = logged_in.get("/dashboard").get_data(as_text=True)
    assert 'id="reviews-today">1<' in html


def test_changing_time_zone_rebuilds_the_rollup_in_the_new_zone(app, user, history):
    with app.app_context():
        activity_days(db.session.get(User, user.id), NOW)
        me = db.session.get(User, user.id)
        me.timezone = "America/Los_Angeles"
        db.session.commit()
        rows = activity_days(me, NOW)
        assert by_day(rows) == by_day(activity(me, NOW))
        boundary, zone_name, days = rollup_state(user.id)
        assert zone_name == "America/Los_Angeles" and boundary == datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
        # 18:45 UTC on Mar 10 is 11:45 on Mar 10 in Los Angeles: today there, so not stored.
        assert date(2026, 3, 10) not in days and date(2026, 3, 9) in days


def test_a_stale_writer_does_not_overwrite_a_moved_boundary(app, user, history):
    with app.app_context():
        me = db.session.get(User, user.id)
        activity_days(me, NOW)
        boundary, _zone, days = rollup_state(user.id)
        # A request that read before the roll-up was stored tries to store its own from scratch.
        me = db.session.get(User, user.id)
        activity_module._save_rollup(me, [], None, boundary, True)
        assert rollup_state(user.id) == (boundary, TZ, days)  # nothing replaced, nothing deleted


def test_dashboard_reuses_its_card_scan_only_while_nothing_it_shows_has_changed(app, user, history):
    """The scan of the user's cards is kept per app (issue 21) and redone when a card falls due, a day
    of elapsed time moves a recall, the user's cards or flags change, or the catalogue changes."""

    def view(now):
        with app.test_request_context(), count_queries(app) as statements:
            data = build_dashboard(db.session.get(User, user.id), now)
        scans = [s for s in statements if "FROM question JOIN question_set" in s and "card_state" in s]
        return data, len(scans)

    def numbers(data):
        return [
            (r.role.id, r.total, r.learning, r.young, r.mastered, r.due, r.new_today, r.recall)
            for r in data.roles
        ]

    first, scans = view(NOW)
    assert scans == 1 and first.today.due == 1
    again, scans = view(NOW + timedelta(minutes=9))
    assert scans == 0 and numbers(again) == numbers(first) and again.forecast == first.forecast
    # q-3's learning card falls due at NOW + 10 minutes: due now goes up, whatever was kept.
    later, scans = view(NOW + timedelta(minutes=10, seconds=1))
    assert scans == 1 and later.today.due == 2
    assert view(NOW + timedelta(minutes=11))[1] == 0
    # q-3 was last reviewed an hour before NOW: a whole day of elapsed time later its recall moves.
    recall = view(NOW + timedelta(hours=22, minutes=59))[0].roles[0].recall
    day_on, scans = view(NOW + timedelta(hours=23, seconds=1))
    assert scans == 1 and day_on.roles[0].recall < recall
    # A write to the user's cards (a suspension here) moves study_version: the next view scans.
    with app.app_context():
        db.session.execute(
            db.text(
                "INSERT INTO card_flag (user_id, question_id, suspended, leech) VALUES (:u, :q, true, false)"
            ),
            {"u": user.id, "q": history["q-0"]},
        )
        db.session.commit()
    flagged, scans = view(NOW + timedelta(hours=23, seconds=2))
    assert scans == 1 and sum(n for _day, n in flagged.forecast) == sum(n for _day, n in day_on.forecast) - 1
    # The catalogue changes (a question archived): the next view scans.
    with app.app_context():
        db.session.get(Question, history["q-2"]).archived = True
        db.session.commit()
    archived, scans = view(NOW + timedelta(hours=23, seconds=3))
    assert scans == 1 and archived.roles[0].total == flagged.roles[0].total - 1
