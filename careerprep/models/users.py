"""Users and their sign-ins."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import localtime
from ..extensions import db
from .base import UTCDateTime, utc_now


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower-case) so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # Study settings (the account page).
    new_per_day: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    max_reviews_per_day: Mapped[int] = mapped_column(Integer, default=200, server_default="200")
    desired_retention: Mapped[float] = mapped_column(Float, default=0.9, server_default="0.9")
    draft_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    mock_questions: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    mock_minutes: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    # Spoken answers: keep the audio after transcription (off: it is deleted once transcribed).
    keep_recordings: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    theme: Mapped[str] = mapped_column(String(10), default="system", server_default="system")
    # The dashboard's roll-up of closed days (ActivityDay) covers reviews before this instant, counted
    # in this zone. A trigger on review clears it when a review before it is added, changed or removed.
    activity_zone: Mapped[str | None] = mapped_column(String(64))
    activity_boundary: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The personal scheduler (models/scheduler.py): fitted FSRS parameters (None: the role's defaults),
    # Easy Days (7 shares of a normal day's load, Monday first; None: off), load balancing, and whether
    # this user's reviews may help fit the instance defaults of their roles (the opt-out).
    fsrs_params: Mapped[list[float] | None] = mapped_column(JSON(none_as_null=True))
    easy_days: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    load_balance: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    share_reviews: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Moves on every change to the user's cards or flags (triggers on card_state and card_flag), so a
    # summary of the cards computed earlier is known to be current when this has not moved.
    study_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # The sign-in this request belongs to (set at login and by the user loader; not a column).
    session_token = None

    def local_today(self, now: datetime) -> date:
        """The calendar date it is at `now` where the user lives (their time zone)."""
        return localtime.local_today(self.timezone, now)

    def day_start(self, now: datetime) -> datetime:
        """When the user's current local day began, as a UTC instant."""
        return localtime.day_start(self.timezone, now)

    def get_id(self) -> str:
        """Flask-Login id: user id and sign-in token, so revoking the sign-in ends its cookies."""
        return f"{self.id}:{self.session_token}"


class UserSession(db.Model):
    """One sign-in on one device. Revoking it ends that session and its remember-me cookie."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token in the cookie: a copy of the database does not yield live cookies.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # When the sign-in was last used (moved at most once an hour); idle sign-ins expire (SESSION_IDLE_DAYS).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
