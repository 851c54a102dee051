"""Spoken answers in the app: whether to offer them, the prompt, job tokens, transcripts and audio files.

The engine (``careerprep.speech``) knows nothing of Flask; this module binds it to the app: the job
backend chosen from the config (RQ on Redis, or one thread in this process), the folder recordings are
written to, and the rows a finished transcription leaves (``Recording``).
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from ..extensions import db
from ..feedback.weights import is_english_word
from ..models import MockInterview, Question, Recording, Role
from ..speech import delivery, jobs
from ..speech.engine import Transcript, Word

log = logging.getLogger(__name__)

UNAVAILABLE = "Transcription is unavailable right now: please type your answer."
BUSY = "Transcription is busy right now: please type your answer, or record again in a minute."
AVAILABLE_FOR = 10.0  # seconds a "the worker is there" answer is reused (RQ asks Redis)
SPEAKING_WPM = 140  # the drill's suggested length: the model answer said at this pace...
SUGGESTED_MIN, SUGGESTED_MAX = 30, 180  # ...within these seconds
_TOKEN_SALT = "speech-job"  # noqa: S105 (a signing salt, not a secret)


@dataclass
class SpeechState:
    """The app's speech backend (None: the extra is missing) and its cached availability."""

    settings: jobs.SpeechSettings
    backend: jobs.ThreadJobs | jobs.RQJobs | None
    checked: tuple[float, bool] = field(default=(0.0, False))


def init_app(app: Flask) -> None:
    """Choose the job backend from the config; a missing extra or a bad setting turns recording off."""
    settings = jobs.SpeechSettings.from_mapping(app.config)
    backend = None
    if app.config.get("SPEECH_ENABLED", True):
        try:
            backend = jobs.make_jobs(settings)
        except (ImportError, ValueError) as exc:  # rq or redis missing, or a bad key prefix
            log.warning("speech recording is off: %s", exc)
    app.extensions["speech"] = SpeechState(settings=settings, backend=backend)


def _state() -> SpeechState:
    return current_app.extensions["speech"]


def enabled() -> bool:
    """Whether to offer "Record answer": the extra, a model and (with RQ) a live worker are there."""
    state = _state()
    if state.backend is None:
        return False
    at, answer = state.checked
    now = time.monotonic()
    if now - at > AVAILABLE_FOR:
        try:
            answer = state.backend.available()
        except Exception:  # any failure to ask means "offer typing"
            log.exception("speech availability check failed")
            answer = False
        state.checked = (now, answer)
    return answer


def audio_dir() -> Path:
    """Where uploads wait for the worker and kept recordings stay (the worker must see the same path)."""
    folder = Path(
        current_app.config.get("SPEECH_AUDIO_DIR") or Path(current_app.instance_path) / "recordings"
    )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def key_terms(question: Question) -> list[str]:
    """The question's jargon for whisper's prompt: the author's terms, then uncommon words of the points."""
    terms: list[str] = []
    for point in question.key_points or []:
        if isinstance(point, dict):
            raw = point.get("terms") or []
            listed = raw if isinstance(raw, list) else [k for k in raw]
            terms.extend(str(t) for t in listed if isinstance(t, str))
            text = str(point.get("text", ""))
        else:
            text = str(point)
        for word in text.replace("`", " ").replace("*", " ").split():
            word = word.strip(".,;:()[]\"'!?")
            if len(word) > 2 and (not is_english_word(word.lower()) or any(c.isupper() for c in word[1:])):
                terms.append(word)
    seen: set[str] = set()
    unique = []
    for term in terms:
        if term.lower() not in seen:
            seen.add(term.lower())
            unique.append(term)
    return unique


def prompt_for(question: Question) -> str:
    """Whisper's initial prompt for an answer to ``question``: fillers, then its key terms."""
    from ..speech.engine import initial_prompt

    return initial_prompt(key_terms(question))


def suggested_seconds(question: Question, mock: MockInterview | None = None) -> float:
    """How long an answer should take: the mock's time per question, else the model answer said aloud."""
    if mock is not None:
        return float(mock.seconds_per_question)
    words = len((question.answer or "").split())
    return float(min(SUGGESTED_MAX, max(SUGGESTED_MIN, round(words / SPEAKING_WPM * 60 / 10) * 10)))


# -- job tokens: who recorded what, signed, so nothing is stored before the transcript is ready --------


def new_job_id(user_id: int) -> str:
    """A job id that names its owner (so their files can be found on account deletion)."""
    return f"u{user_id}-{secrets.token_hex(12)}"


def job_token(
    job_id: str, user_id: int, question_id: int, mock_id: int | None, audio_name: str, keep: bool
) -> str:
    """The signed reference the page polls with: which job, whose, for which question."""
    serializer = URLSafeSerializer(current_app.secret_key, salt=_TOKEN_SALT)
    return serializer.dumps([job_id, user_id, question_id, mock_id, audio_name, keep])


@dataclass(frozen=True)
class JobRef:
    """A verified job token."""

    job_id: str
    user_id: int
    question_id: int
    mock_id: int | None
    audio_name: str
    keep: bool


def read_job_token(token: str, user_id: int) -> JobRef | None:
    """The job a token names, if it is signed by us and belongs to this user; None otherwise."""
    serializer = URLSafeSerializer(current_app.secret_key, salt=_TOKEN_SALT)
    try:
        job_id, owner, question_id, mock_id, audio_name, keep = serializer.loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if owner != user_id:
        return None
    return JobRef(job_id, owner, question_id, mock_id, audio_name, bool(keep))


def submit(ref: JobRef, prompt: str) -> None:
    """Queue the saved upload for transcription; QueueFull or Unavailable for "type instead"."""
    backend = _state().backend
    if backend is None:
        raise jobs.Unavailable("speech is off")
    backend.submit(ref.job_id, str(audio_dir() / ref.audio_name), prompt, keep_audio=ref.keep)


def outcome(ref: JobRef) -> jobs.Outcome:
    """Pending, Done or Failed for a job; Unavailable if the backend can't be asked."""
    backend = _state().backend
    if backend is None:
        raise jobs.Unavailable("speech is off")
    return backend.result(ref.job_id)


def record_transcript(ref: JobRef, transcript: Transcript) -> Recording:
    """Save a finished transcript (once per job), keeping its audio only if the learner asked to.

    This is a write made during a GET (the page's poll): it is idempotent on the job id, so a poll
    repeated or raced by a second tab finds the row the first one wrote.
    """
    existing = db.session.scalar(select(Recording).where(Recording.job_id == ref.job_id))
    if existing is not None:
        return existing
    path = audio_dir() / ref.audio_name
    recording = Recording(
        user_id=ref.user_id,
        question_id=ref.question_id,
        mock_id=ref.mock_id,
        job_id=ref.job_id,
        transcript=transcript.text,
        words=[w.__dict__ for w in transcript.words],
        duration=transcript.duration,
        audio_file=ref.audio_name if ref.keep and path.exists() else None,
    )
    db.session.add(recording)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        existing = db.session.scalar(select(Recording).where(Recording.job_id == ref.job_id))
        if existing is None:
            raise
        return existing
    if not ref.keep:
        path.unlink(missing_ok=True)  # the job deletes it; this covers a job that kept it by mistake
    return recording


def discard_audio(ref: JobRef) -> None:
    """Remove a failed job's upload (the job keeps it when the learner keeps recordings)."""
    (audio_dir() / ref.audio_name).unlink(missing_ok=True)


# -- feedback -------------------------------------------------------------------------------------


def own_recording(recording_id: object, user_id: int) -> Recording | None:
    """The user's recording with this id (from a form), or None: another user's is never found."""
    try:
        rid = int(str(recording_id))
    except (TypeError, ValueError):
        return None
    if not 0 < rid < 2**31:
        return None
    return db.session.scalar(select(Recording).where(Recording.id == rid, Recording.user_id == user_id))


def delivery_of(recording: Recording, suggested: float | None) -> delivery.Delivery:
    """Pace, fillers, pauses and length for a recording."""
    words = [Word(**w) for w in recording.words or []]
    return delivery.analyse(words, suggested_seconds=suggested)


def mock_deliveries(mock: MockInterview) -> dict[int, delivery.Delivery]:
    """Delivery feedback per question of a mock: its latest recording made in this mock."""
    rows = db.session.scalars(
        select(Recording)
        .where(Recording.mock_id == mock.id, Recording.user_id == mock.user_id)
        .order_by(Recording.created_at, Recording.id)
    )
    latest = {row.question_id: row for row in rows}
    return {qid: delivery_of(row, float(mock.seconds_per_question)) for qid, row in latest.items()}


# -- privacy --------------------------------------------------------------------------------------


def kept_audio(user_id: int) -> list[dict]:
    """The user's recordings for the data export: the question by its permanent id, the mock interview
    (its role and start, as the export names mock interviews), transcript, words, and kept audio as
    base64. Everything the account import (account/restore_check.py) needs to put them back."""
    out = []
    rows = db.session.execute(
        select(Recording, Question.uid, Question.key, Role.slug, MockInterview.created_at)
        .join(Question, Question.id == Recording.question_id)
        .outerjoin(MockInterview, MockInterview.id == Recording.mock_id)
        .outerjoin(Role, Role.id == MockInterview.role_id)
        .where(Recording.user_id == user_id)
        .order_by(Recording.created_at, Recording.id)
    )
    folder = audio_dir()
    for row, uid, key, role, mock_at in rows:
        item = {
            "question_id": uid,
            "question_key": key,
            "mock": {"role": role, "created_at": mock_at.isoformat()} if row.mock_id is not None else None,
            "created_at": row.created_at.isoformat(),
            "transcript": row.transcript,
            "words": row.words,
            "duration": row.duration,
            "audio": None,
        }
        if row.audio_file and (folder / row.audio_file).is_file():
            item["audio_name"] = row.audio_file
            item["audio"] = base64.b64encode((folder / row.audio_file).read_bytes()).decode("ascii")
        out.append(item)
    return out


def delete_user_audio(user_id: int) -> int:
    """Delete every audio file of the user (kept or still waiting); returns how many went."""
    folder = audio_dir()
    removed = 0
    for path in folder.glob(f"u{user_id}-*"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
