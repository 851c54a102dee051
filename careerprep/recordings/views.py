"""Record an answer: the upload (checked before anything is decoded) and the transcription's status."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, render_template, request
from flask_login import current_user, login_required

from ..extensions import db, limiter
from ..htmx import render
from ..models import MockInterview, Question
from ..queries import visible_questions
from ..speech import audio, jobs
from ..web import int_id
from . import service

bp = Blueprint("recordings", __name__)

NO_FILE = "No recording arrived. Please record your answer again."
NOT_THIS_QUESTION = "This recording does not belong to a question you are answering."


def _upload_limit() -> str:
    return current_app.config.get("SPEECH_RATE_LIMIT", "20 per minute; 300 per day")


def _per_user() -> str:
    return f"speech:{current_user.get_id()}"


def _status(status: int, **context) -> Response:
    """The recorder's status fragment (what the page shows under the Record button)."""
    response = make_response(render_template("speech/_status.html", **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_request
@login_required
def _signed_in() -> None:
    """Recording needs a signed-in user."""


@bp.post("/speech/recordings")
@limiter.limit(_upload_limit, key_func=_per_user)
def upload() -> Response:
    """Take a recorded answer, check it cheaply and queue it; the page then polls for the transcript."""
    settings = current_app.extensions["speech"].settings
    limits = settings.limits
    # The size is refused from the header, before a byte of the body is read.
    request.max_content_length = limits.max_bytes + 64 * 1024
    if request.content_length is not None and request.content_length > request.max_content_length:
        return _status(413, message=audio.too_large(limits).message)
    question, mock, error = _target(request.form)
    if error:
        return _status(422, message=error)
    upload_file = request.files.get("audio")
    if upload_file is None:
        return _status(422, message=NO_FILE)
    # Bad input is refused as such first; a well-formed upload with no transcription service is a 503.
    if not service.enabled():
        return _status(503, message=service.UNAVAILABLE)
    job_id = service.new_job_id(current_user.id)
    ref = service.JobRef(
        job_id,
        current_user.id,
        question.id,
        mock.id if mock else None,
        f"{job_id}.audio",
        bool(current_user.keep_recordings),
    )
    path = service.audio_dir() / ref.audio_name
    try:
        audio.save_upload(upload_file.stream, path, limits)
        audio.probe(path, limits)  # size, type, codec, length, completeness: nothing is decoded
    except audio.AudioError as exc:
        path.unlink(missing_ok=True)
        too_big = exc.message == audio.too_large(limits).message
        return _status(413 if too_big else 422, message=exc.message)
    prompt = service.prompt_for(question)
    db.session.rollback()  # end the read transaction: the job may take seconds to be picked up
    try:
        service.submit(ref, prompt)
    except jobs.QueueFull:
        path.unlink(missing_ok=True)
        return _status(503, message=service.BUSY)
    except jobs.Unavailable:
        path.unlink(missing_ok=True)
        return _status(503, message=service.UNAVAILABLE)
    token = service.job_token(job_id, current_user.id, question.id, ref.mock_id, ref.audio_name, ref.keep)
    return _status(202, token=token, pending=True, started=False)


def _target(form) -> tuple[Question | None, MockInterview | None, str | None]:
    """The question (visible) and mock (the user's own, unfinished, holding it) a recording answers."""
    question_id = int_id(form.get("question_id"))
    question = (
        db.session.scalar(visible_questions().where(Question.id == question_id)) if question_id else None
    )
    if question is None:
        return None, None, NOT_THIS_QUESTION
    mock = None
    if form.get("mock_id"):
        mock_id = int_id(form.get("mock_id"))
        mock = db.session.get(MockInterview, mock_id) if mock_id else None
        if mock is None or mock.user_id != current_user.id or mock.finished_at is not None:
            return None, None, NOT_THIS_QUESTION
        if question.id not in {item.question_id for item in mock.items}:
            return None, None, NOT_THIS_QUESTION
    return question, mock, None


@bp.get("/speech/recordings/<token>")
def status(token: str) -> Response:
    """Where a transcription is: waiting, working, the transcript (saved once), or why not."""
    ref = service.read_job_token(token, current_user.id)
    if ref is None:
        return _page(404, message=jobs.EXPIRED)
    try:
        outcome = service.outcome(ref)
    except jobs.Unavailable:
        return _page(200, message=service.UNAVAILABLE)
    if isinstance(outcome, jobs.Pending):
        return _page(200, token=token, pending=True, started=outcome.started)
    if isinstance(outcome, jobs.Failed):
        service.discard_audio(ref)
        return _page(200, message=outcome.message)
    recording = service.record_transcript(ref, outcome.transcript)
    return _page(200, recording=recording)


def _page(status_code: int, **context) -> Response:
    """The status as a page (a refresh without JavaScript) or as the recorder's fragment."""
    response = render("speech/status.html", "speech/_status.html", status=status_code, **context)
    response.headers["Cache-Control"] = "no-store"
    return response
