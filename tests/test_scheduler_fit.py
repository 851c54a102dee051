"""Personal FSRS parameters: fitted honestly from the review log, kept only when better, reset,
refitted by `flask fit-schedulers`, role defaults from sharing users; card states stay a replay."""

from __future__ import annotations

import pytest

from careerprep import scheduling
from careerprep.extensions import db
from careerprep.models import CardState, Review, Role, SchedulerFit, User
from careerprep.personal import fits
from careerprep.reviews import verify
from careerprep.scheduling.fitting import Fit, fit, synthetic_log
from tests.conftest import load_bank, make_user
from tests.scheduler_support import FORGETFUL, insert_log

FIT = "/account/scheduler/fit"


@pytest.fixture
def studied(app, user):
    """`user` with 600 reviews of a 100-question role by a forgetful learner."""
    load_bank(app, n_questions=100)
    insert_log(app, user.id, 600)
    return user


def _user(app, user_id: int) -> User:
    with app.app_context():
        found = db.session.get(User, user_id)
        db.session.expunge(found)
        return found


def _states_match_a_replay(app, user_id: int, params) -> None:
    """Every card of the user equals a replay of its log with `params`."""
    with app.app_context():
        for state in db.session.scalars(db.select(CardState).filter_by(user_id=user_id)):
            log = db.session.execute(
                db.select(Review.rating, Review.reviewed_at, Review.due)
                .filter_by(user_id=user_id, question_id=state.question_id)
                .order_by(Review.reviewed_at, Review.id)
            ).all()
            expected = scheduling.replay(state.question_id, [tuple(r) for r in log], params)
            assert state.stability == pytest.approx(expected.stability, rel=1e-9)
            assert state.difficulty == pytest.approx(expected.difficulty, rel=1e-9)
        assert verify()[1] == []


def test_fitting_a_synthetic_log_changes_parameters_and_improves_held_out_log_loss():
    result = fit(synthetic_log(3000, FORGETFUL, seed=7), None)
    assert result.parameters != pytest.approx(scheduling.DEFAULT_PARAMETERS, abs=1e-3)
    assert result.log_loss_new < result.log_loss_old and result.rmse_new < result.rmse_old
    assert result.better and 0 < result.improvement < 1
    assert result.held_out == pytest.approx(600, rel=0.1)  # the latest fifth


def test_fit_my_scheduler_keeps_a_better_fit_and_rebuilds_cards_from_the_log(app, logged_in, studied):
    _states_match_a_replay(app, studied.id, None)  # before: the defaults
    response = logged_in.post(FIT)
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/scheduler")
    page = logged_in.get("/account/scheduler").get_data(as_text=True)
    assert "more accurately" in page and "Reset to defaults" in page
    user = _user(app, studied.id)
    assert user.fsrs_params is not None and len(user.fsrs_params) == 21
    with app.app_context():
        row = db.session.scalar(db.select(SchedulerFit).filter_by(user_id=studied.id))
        assert row.accepted and row.fsrs_version.startswith("FSRS-6") and row.reviews == 600
        assert row.log_loss_new < row.log_loss_old and row.rmse_new < row.rmse_old
    _states_match_a_replay(app, studied.id, tuple(user.fsrs_params))
    assert "more accurately" in logged_in.get("/account/").get_data(as_text=True)


def test_under_the_minimum_the_defaults_stay_and_the_page_says_how_many_more(app, logged_in, user):
    load_bank(app, n_questions=20)
    insert_log(app, user.id, 100)
    assert "50</strong> more reviews" in logged_in.get("/account/").get_data(as_text=True)
    logged_in.post(FIT)
    page = logged_in.get("/account/scheduler").get_data(as_text=True)
    assert "after 50 more reviews" in page  # the flashed message
    assert _user(app, user.id).fsrs_params is None
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(SchedulerFit.id))) == 0


def test_a_worse_fit_is_recorded_but_not_used(app, logged_in, studied, monkeypatch):
    worse = Fit(tuple(FORGETFUL), 600, 120, 0.30, 0.35, 0.05, 0.07)
    monkeypatch.setattr(fits, "fit", lambda entries, old: worse)
    logged_in.post(FIT)
    assert "did not predict your latest reviews better" in logged_in.get("/account/scheduler").get_data(
        as_text=True
    )
    assert _user(app, studied.id).fsrs_params is None
    with app.app_context():
        assert db.session.scalar(db.select(SchedulerFit.accepted)) is False
    _states_match_a_replay(app, studied.id, None)


def test_reset_goes_back_to_the_defaults_and_replays_the_log(app, logged_in, studied):
    logged_in.post(FIT)
    assert _user(app, studied.id).fsrs_params is not None
    response = logged_in.post("/account/scheduler/reset")
    assert response.status_code == 303
    assert _user(app, studied.id).fsrs_params is None
    _states_match_a_replay(app, studied.id, None)


def test_fitting_needs_a_csrf_token(make_app, user):
    app = make_app(WTF_CSRF_ENABLED=True)
    load_bank(app, n_questions=100)
    insert_log(app, user.id, 600)
    client = app.test_client()
    with client:
        from tests.conftest import AuthActions

        page = client.get("/auth/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[-1].split('"')[0]
        AuthActions(client).login(user.email, csrf_token=token)
        assert client.post(FIT).status_code == 400
        assert client.post("/account/scheduler/reset").status_code == 400
    assert _user(app, user.id).fsrs_params is None


def test_another_users_parameters_are_never_read(app, logged_in, studied):
    other = make_user(app)
    with app.app_context():
        db.session.get(User, other.id).fsrs_params = list(FORGETFUL)
        db.session.commit()
        mine = db.session.get(User, studied.id)
        role = db.session.scalar(db.select(Role))
        assert scheduling.user_params(mine, role) is None
    page = logged_in.get("/roles/test-role/workload").get_data(as_text=True)
    assert "the default</strong>" not in page and "the default scheduler" in page
    assert "Fitted to your reviews" not in logged_in.get("/account/").get_data(as_text=True)
    logged_in.post(FIT)  # fitting mine leaves theirs alone
    assert _user(app, other.id).fsrs_params == list(FORGETFUL)
    assert logged_in.get("/roles/no-such-role/workload").status_code == 404


def test_fit_schedulers_fits_grown_logs_once_and_role_defaults_from_sharing_users(app, runner, user):
    load_bank(app, n_questions=100)
    insert_log(app, user.id, 600)
    private = make_user(app, share_reviews=False)
    insert_log(app, private.id, 400, seed=2)
    result = runner.invoke(args=["fit-schedulers"])
    assert result.exit_code == 0, result.output
    assert f"user {user.id}: Fitted" in result.output and "role test-role" in result.output
    with app.app_context():
        role_fit = db.session.scalar(db.select(SchedulerFit).where(SchedulerFit.role_id.is_not(None)))
        assert role_fit.reviews == 600  # the opted-out user's 400 reviews were not read
        role = db.session.scalar(db.select(Role))
        assert role.fsrs_params == role_fit.parameters
        # A new user starts from the role's defaults.
        newcomer = db.session.get(User, make_user(app).id)
        assert scheduling.user_params(newcomer, role) == tuple(role.fsrs_params)
    assert not _drift(app)
    again = runner.invoke(args=["fit-schedulers"])
    assert "Fitted 0 schedulers." in again.output


def _drift(app):
    with app.app_context():
        return verify()[1]
