"""The workload planner: numbers from a direct FSRS simulation, the chart and its table, choosing a
point (a plain POST), bad picks refused, the role page shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import mean

import fsrs_rs_python as rs
import pytest

from careerprep.extensions import db
from careerprep.models import RolePlan, User
from careerprep.scheduling import DEFAULT_PARAMETERS
from careerprep.scheduling.simulation import RETENTIONS, Workload, plan
from tests.conftest import load_bank

PAGE = "/roles/test-role/workload"


@pytest.fixture
def interview_in_20_days(app, user):
    load_bank(app, n_questions=40)
    with app.app_context():
        u = db.session.get(User, user.id)
        role_id = db.session.scalar(db.text("SELECT id FROM role"))
        day = u.local_today(datetime.now(UTC)) + timedelta(days=20)
        db.session.add(RolePlan(user_id=user.id, role_id=role_id, interview_date=day))
        db.session.commit()


def test_the_planner_numbers_match_a_direct_simulation(app, logged_in, interview_in_20_days):
    page = logged_in.get(PAGE).get_data(as_text=True)
    config = rs.default_simulator_config()
    config.deck_size, config.learn_span, config.learn_limit = 40, 20, 2  # 40 questions, 20 days, 2 a day
    config.review_limit, config.max_cost_perday = 1_000_000, 1e9
    config.state_rating_costs = [[120.0] * 4, [60.0] * 4, [60.0] * 4]  # no timed reviews yet: defaults
    for retention in (0.75, 0.85, 0.97):
        direct = rs.simulate(list(DEFAULT_PARAMETERS), retention, config, 42)
        daily = zip(direct.review_cnt_per_day, direct.learn_cnt_per_day, strict=True)
        reviews = mean(r + n for r, n in daily)
        minutes = sum(direct.cost_per_day) / 60 / 20
        known = direct.memorized_cnt_per_day[-1]
        row = page.split(f"<td>{round(retention * 100)}%</td>")[1].split("</tr>")[0]
        assert f'<td class="num">{round(minutes)}</td>' in row
        assert f'<td class="num">{round(reviews)}</td>' in row
        assert f'<td class="num">{round(known)}<span class="muted of-total"> of 40</span></td>' in row


def test_studied_cards_add_work_and_higher_retention_costs_more():
    studied = tuple((5.0 + i, 5.0, i % 4) for i in range(50))
    points = plan(Workload(tuple(DEFAULT_PARAMETERS), 30, 0, 0, 60.0, 120.0, studied))
    assert [p.retention for p in points] == list(RETENTIONS)
    assert points[-1].reviews_per_day > points[0].reviews_per_day > 0
    assert points[-1].known > points[0].known
    assert plan(Workload(tuple(DEFAULT_PARAMETERS), 30, 0, 0, 60.0, 120.0, studied)) is points  # cached


def test_the_page_and_the_role_page_show_the_chart_and_its_table(app, logged_in, interview_in_20_days):
    for path in (PAGE, "/roles/test-role"):
        page = logged_in.get(path).get_data(as_text=True)
        assert "<svg" in page and "<polyline" in page and "Plan your days" in page
        assert page.count('name="retention"') == len(RETENTIONS) - 1  # every point but the one in use
        assert "on the day" in page


def test_without_a_date_the_plan_covers_30_days(app, logged_in, user):
    load_bank(app, n_questions=30)
    page = logged_in.get(PAGE).get_data(as_text=True)
    assert "in 30 days" in page and "at 1 a day" in page


def test_choosing_a_point_sets_retention_and_pace(app, logged_in, interview_in_20_days, user):
    response = logged_in.post(PAGE, data={"retention": "0.85"})
    assert response.status_code == 303
    with app.app_context():
        u = db.session.get(User, user.id)
        assert u.desired_retention == 0.85 and u.new_per_day == 2


@pytest.mark.parametrize("value", ["0.5", "0.86", "", "nan", "abc", "0.99"])
def test_a_bad_pick_is_refused_with_a_message_and_changes_nothing(
    app, logged_in, interview_in_20_days, user, value
):
    response = logged_in.post(PAGE, data={"retention": value})
    assert response.status_code == 422
    assert "Pick one of the retentions" in response.get_data(as_text=True)
    with app.app_context():
        u = db.session.get(User, user.id)
        assert u.desired_retention == 0.9 and u.new_per_day == 10


def test_visitors_are_sent_to_sign_in(client, app):
    load_bank(app)
    assert client.get(PAGE).status_code in (302, 303)
    assert client.post(PAGE, data={"retention": "0.85"}).status_code in (302, 303)
