"""Transcribed spoken answers: the transcript with its word timings, and the audio only if kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utc_now


class Recording(db.Model):
    """One transcribed recording of an answer, made on the drill or in a mock interview.

    A row is written only once the transcript is ready: a recording that fails its checks or its
    transcription leaves nothing behind. ``audio_file`` names the kept audio (the user's "keep
    recordings" setting) in SPEECH_AUDIO_DIR; None once it is deleted, which is the default.
    """

    __tablename__ = "recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    mock_id: Mapped[int | None] = mapped_column(
        ForeignKey("mock_interview.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[str] = mapped_column(String(80), unique=True)  # idempotency: one row per job
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    transcript: Mapped[str] = mapped_column(Text)
    words: Mapped[list[dict]] = mapped_column(JSON, default=list)  # engine.Word as dicts
    duration: Mapped[float] = mapped_column(Float)  # seconds of audio, pauses included
    audio_file: Mapped[str | None] = mapped_column(String(120))
