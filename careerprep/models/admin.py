"""Reports from learners and the append-only audit log of admin actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utc_now
from .catalogue import Question
from .users import User


class Report(db.Model):
    """A user's report that a question is wrong, unclear or a duplicate, for admins to resolve."""

    __tablename__ = "report"
    __table_args__ = (Index("ix_report_status_created_at", "status", "created_at"),)

    REASONS = {"wrong": "The answer is wrong", "unclear": "It is unclear", "duplicate": "It is a duplicate"}
    STATUSES = ("open", "resolved", "dismissed")

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(Integer)  # an admin's user id (kept if they leave)
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    question: Mapped[Question] = relationship()
    user: Mapped[User] = relationship()


class AuditLog(db.Model):
    """Who did what to which object and when. Rows are only ever added (see the guard below)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # The actor is copied, not linked: the record outlives an account that is later deleted.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(254), default="system")
    action: Mapped[str] = mapped_column(String(40), index=True)  # e.g. question.edit, set.publish
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


@event.listens_for(AuditLog, "before_update")
def _audit_rows_are_never_edited(_mapper, _connection, target: AuditLog) -> None:
    raise RuntimeError(f"audit log row {target.id} cannot be edited")


@event.listens_for(AuditLog, "before_delete")
def _audit_rows_are_never_deleted(_mapper, _connection, target: AuditLog) -> None:
    raise RuntimeError(f"audit log row {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_audit_writes(state: Any) -> None:
    """Bulk UPDATE and DELETE skip the mapper events above: refuse them for the audit log too."""
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) == AuditLog.__tablename__:
        raise RuntimeError("the audit log is append-only: bulk updates and deletes are refused")
