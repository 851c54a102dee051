"""Mock interviews and their questions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utc_now
from .catalogue import Question


class MockInterview(db.Model):
    """A timed mock interview: questions answered in turn, revealed and rated at the end."""

    __tablename__ = "mock_interview"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds_per_question: Mapped[int] = mapped_column(Integer)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)

    items: Mapped[list[MockItem]] = relationship(
        back_populates="mock", order_by="MockItem.position", cascade="all, delete-orphan"
    )


class MockItem(db.Model):
    """One question of a mock interview, with the user's draft and, after the end, a rating."""

    __tablename__ = "mock_item"
    __table_args__ = (UniqueConstraint("mock_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mock_id: Mapped[int] = mapped_column(ForeignKey("mock_interview.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draft: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[dict | None] = mapped_column(JSON)  # an exercise's answer: output, lines, estimate
    rating: Mapped[int | None] = mapped_column(Integer)
    covered: Mapped[list[int] | None] = mapped_column(JSON)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"))

    mock: Mapped[MockInterview] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()
