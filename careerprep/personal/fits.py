"""Fitting schedulers: a user's own FSRS parameters, a role's instance defaults, reset, the refit job.

The review log is read with no lock held and the optimizer runs outside any transaction; only
recording the fit, switching parameters and rebuilding the card states (reviews.rebuild) take the
write lock, together, so the states always equal a replay of the log with the parameters in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import func

from ..extensions import db
from ..localtime import zone
from ..models import Question, QuestionSet, Review, Role, SchedulerFit, User, write_transaction
from ..reviews import Scope, rebuild
from ..scheduling.fitting import FSRS_VERSION, Entry, Fit, NotEnoughReviews, fit

MIN_REVIEWS = 150  # fewer reviews than this and the optimizer has too little to learn from
REFIT_AFTER = 250  # new reviews since the last fit before `flask fit-schedulers` fits again


@dataclass(frozen=True)
class Outcome:
    """What asking for a fit did, in words for the page."""

    fit: Fit | None
    accepted: bool
    needed: int = 0  # more reviews needed before a fit is possible

    @property
    def message(self) -> str:
        if self.fit is None:
            if self.needed:
                return f"Keep going: your scheduler can be fitted after {self.needed} more reviews."
            return "Your reviews are all from the same days so far; try again after a few more days of study."
        if self.accepted:
            return f"Fitted: your scheduler now {plain_words(self.fit)}"
        return (
            "Kept your current scheduler: the new fit did not predict your latest reviews better "
            f"(error {self.fit.rmse_old:.1%} before, {self.fit.rmse_new:.1%} with the new fit)."
        )


def plain_words(fit: Fit | SchedulerFit) -> str:
    """ "predicts your recall 18% more accurately …" for a fit's held-out figures."""
    better = (fit.rmse_old - fit.rmse_new) / fit.rmse_old if fit.rmse_old else 0.0
    return (
        f"predicts your recall {better:.0%} more accurately on your latest {fit.held_out} reviews "
        f"(average error {fit.rmse_old:.1%} → {fit.rmse_new:.1%}; log loss {fit.log_loss_old:.3f} → "
        f"{fit.log_loss_new:.3f})."
    )


@cache
def _zone(name: str) -> ZoneInfo:
    return zone(name)


def log_entries(*conditions) -> list[Entry]:
    """The review log as the optimizer reads it: per (user, question), ratings by local day number."""
    rows = db.session.execute(
        db.select(Review.user_id, Review.question_id, Review.rating, Review.reviewed_at, User.timezone)
        .join(User, User.id == Review.user_id)
        .where(*conditions)
        .order_by(Review.user_id, Review.question_id, Review.reviewed_at, Review.id)
        .execution_options(yield_per=5000)
    )
    return [
        Entry((user_id, question_id), rating, at.astimezone(_zone(tz)).toordinal())
        for user_id, question_id, rating, at, tz in rows
    ]


def role_questions(role_id: int):
    """SQL: the ids of a role's questions."""
    return db.select(Question.id).join(QuestionSet).where(QuestionSet.role_id == role_id)


def _main_role_params(user: User) -> list[float] | None:
    """The defaults of the role the user has reviewed most (what they are scheduled with before a fit)."""
    return db.session.scalar(
        db.select(Role.fsrs_params)
        .join(QuestionSet, QuestionSet.role_id == Role.id)
        .join(Question, Question.set_id == QuestionSet.id)
        .join(Review, Review.question_id == Question.id)
        .where(Review.user_id == user.id)
        .group_by(Role.id)
        .order_by(func.count().desc(), Role.id)
        .limit(1)
    )


def _record(fitted: Fit, accepted: bool, **owner) -> SchedulerFit:
    row = SchedulerFit(
        **owner,
        fsrs_version=FSRS_VERSION,
        parameters=list(fitted.parameters),
        reviews=fitted.reviews,
        held_out=fitted.held_out,
        log_loss_old=fitted.log_loss_old,
        log_loss_new=fitted.log_loss_new,
        rmse_old=fitted.rmse_old,
        rmse_new=fitted.rmse_new,
        accepted=accepted,
    )
    db.session.add(row)
    return row


def _try_fit(entries: list[Entry], old: list[float] | None) -> Outcome | Fit:
    if len(entries) < MIN_REVIEWS:
        return Outcome(None, False, needed=MIN_REVIEWS - len(entries))
    try:
        return fit(entries, old)
    except NotEnoughReviews:
        return Outcome(None, False)


def fit_user(user: User) -> Outcome:
    """Fit the user's own parameters; keep them only if they predict the held-out reviews better."""
    result = _try_fit(log_entries(Review.user_id == user.id), user.fsrs_params or _main_role_params(user))
    if isinstance(result, Outcome):
        return result
    return _keep_if_better(result, user, Scope(user_id=user.id), user_id=user.id)


def reset_user(user: User) -> None:
    """Go back to the default parameters (the role's, else FSRS's) and rebuild the card states."""
    with write_transaction():
        user.fsrs_params = None
        rebuild(Scope(user_id=user.id))
        db.session.commit()


def fit_role(role: Role) -> Outcome:
    """Fit a role's instance defaults from every sharing user's reviews of its questions."""
    sharing = db.select(User.id).where(User.share_reviews.is_(True))
    entries = log_entries(Review.question_id.in_(role_questions(role.id)), Review.user_id.in_(sharing))
    result = _try_fit(entries, role.fsrs_params)
    if isinstance(result, Outcome):
        return result
    return _keep_if_better(result, role, Scope(role_id=role.id), role_id=role.id)


def _keep_if_better(result, owner: User | Role, scope: Scope, **whose: int) -> Outcome:
    """Record the fit; when it predicts better, give `owner` its parameters and rebuild their cards."""
    with write_transaction():
        _record(result, result.better, **whose)
        if result.better:
            owner.fsrs_params = list(result.parameters)
            rebuild(scope)
        db.session.commit()
    return Outcome(result, result.better)


@dataclass(frozen=True)
class Status:
    """Where a user's scheduler stands, for the account page."""

    reviews: int
    personal: bool
    last: SchedulerFit | None
    last_accepted: SchedulerFit | None

    @property
    def needed(self) -> int:
        return max(0, MIN_REVIEWS - self.reviews)


def status(user: User) -> Status:
    """The user's review count and latest fits (three small queries)."""
    reviews = db.session.scalar(db.select(func.count(Review.id)).where(Review.user_id == user.id)) or 0
    latest = db.select(SchedulerFit).where(SchedulerFit.user_id == user.id)
    last = db.session.scalar(latest.order_by(SchedulerFit.created_at.desc(), SchedulerFit.id.desc()).limit(1))
    accepted = None
    if user.fsrs_params is not None:
        accepted = db.session.scalar(
            latest.where(SchedulerFit.accepted.is_(True))
            .order_by(SchedulerFit.created_at.desc(), SchedulerFit.id.desc())
            .limit(1)
        )
    return Status(int(reviews), user.fsrs_params is not None, last, accepted)


def _due(counts, last_fits) -> list[int]:
    """Owners whose review count reached MIN_REVIEWS (never fitted) or grew by REFIT_AFTER since."""
    fitted = dict(db.session.execute(last_fits).all())
    return [
        owner
        for owner, count in db.session.execute(counts).all()
        if count >= MIN_REVIEWS and (owner not in fitted or count - fitted[owner] >= REFIT_AFTER)
    ]


def run_due_fits() -> list[str]:
    """Fit every user and role whose log grew enough since its last fit (the cron / queue job)."""
    report = []
    users = _due(
        db.select(Review.user_id, func.count()).group_by(Review.user_id),
        db.select(SchedulerFit.user_id, func.max(SchedulerFit.reviews))
        .where(SchedulerFit.user_id.is_not(None))
        .group_by(SchedulerFit.user_id),
    )
    for user_id in users:
        user = db.session.get(User, user_id)
        report.append(f"user {user_id}: {fit_user(user).message}")
    sharing = db.select(User.id).where(User.share_reviews.is_(True))
    roles = _due(
        db.select(QuestionSet.role_id, func.count())
        .select_from(Review)
        .join(Question, Question.id == Review.question_id)
        .join(QuestionSet)
        .where(Review.user_id.in_(sharing))
        .group_by(QuestionSet.role_id),
        db.select(SchedulerFit.role_id, func.max(SchedulerFit.reviews))
        .where(SchedulerFit.role_id.is_not(None))
        .group_by(SchedulerFit.role_id),
    )
    for role_id in roles:
        role = db.session.get(Role, role_id)
        report.append(f"role {role.slug}: {fit_role(role).message}")
    return report
