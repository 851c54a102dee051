"""A learner's scheduler: fitted FSRS parameters (personal and per role), Easy Days, load balancing.

The parameters in use are copied onto `User.fsrs_params` (personal) and `Role.fsrs_params` (the
instance default for a role), so the drill reads them with the rows it loads anyway; `SchedulerFit`
keeps every fit, accepted or not, with its figures.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utc_now


class SchedulerFit(db.Model):
    """One run of the FSRS optimizer: a user's own log (user_id) or a role's pooled log (role_id)."""

    __tablename__ = "scheduler_fit"
    __table_args__ = (
        Index("ix_scheduler_fit_user_id_created_at", "user_id", "created_at"),
        Index("ix_scheduler_fit_role_id_created_at", "role_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    fsrs_version: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[list[float]] = mapped_column(JSON)
    reviews: Mapped[int] = mapped_column(Integer)  # reviews in the log when it was fitted
    held_out: Mapped[int] = mapped_column(Integer)  # the latest reviews kept aside to judge the fit
    # Figures on the held-out reviews: the parameters before (old) and the new ones.
    log_loss_old: Mapped[float] = mapped_column(Float)
    log_loss_new: Mapped[float] = mapped_column(Float)
    rmse_old: Mapped[float] = mapped_column(Float)
    rmse_new: Mapped[float] = mapped_column(Float)
    accepted: Mapped[bool] = mapped_column(Boolean)
