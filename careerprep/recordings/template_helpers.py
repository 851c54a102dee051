"""What templates ask about speech: whether to show the recorder, and a revealed answer's delivery."""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

from ..models import MockInterview, Question
from . import service


def speech_enabled() -> bool:
    """Show "Record answer" only when the extra, the model (and the worker) are there."""
    return current_user.is_authenticated and service.enabled()


def revealed_delivery(question: Question, mock: MockInterview | None = None):
    """The delivery feedback for the recording the reveal form carried (the learner's own), or None.

    The recorder puts the recording's id in the draft form; the reveal reads it here, so the drill's
    views need not know about speech.
    """
    if not current_user.is_authenticated or request.method != "POST":
        return None
    recording = service.own_recording(request.form.get("recording"), current_user.id)
    if recording is None or recording.question_id != question.id:
        return None
    return service.delivery_of(recording, service.suggested_seconds(question, mock))


def register(app: Flask) -> None:
    """Expose the helpers to templates."""
    app.jinja_env.globals["speech_enabled"] = speech_enabled
    app.jinja_env.globals["revealed_delivery"] = revealed_delivery
