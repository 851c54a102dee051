"""Transcription jobs: a request submits a recording and returns; the page polls for the result.

Two backends, one API (``submit``, ``result``, ``available``):

- **RQ** (``SPEECH_REDIS_URL`` set): jobs go on the ``careerprep-speech`` queue in Redis and one
  dedicated worker process per machine runs them, so the model is loaded once per machine, not
  once per gunicorn worker (tiny.en: 160 MB loaded, 300-520 MB at peak for 15 s to 3 min answers).
  Results stay in Redis for ``result_ttl`` seconds. Start the worker with ``run_worker(settings)``
  (for the app's CLI, e.g. ``flask speech-worker``) or with RQ's own command, which needs the same
  two options::

      rq worker careerprep-speech --url redis://127.0.0.1:6379/0 \\
          --worker-class rq.worker.SimpleWorker --serializer rq.serializers.JSONSerializer

  ``SimpleWorker`` runs jobs in the worker process itself; RQ's default worker forks a child per
  job, which would load the model again for every recording. JSON, not pickle, crosses Redis.
- **Thread** (no Redis URL): one worker thread in this process with a bounded queue, results in
  memory. For development and single-process deployments: each process that submits loads a model.

Ownership of the audio file passes to the job when ``submit`` returns: the job deletes it once
decoded (the recording is not kept). When ``submit`` raises, the file is still the caller's.

No Flask here: the app passes its config in ``SpeechSettings.from_mapping(app.config)``.
"""

from __future__ import annotations

import logging
import math
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import audio, engine
from .audio import AudioError, AudioLimits
from .engine import Transcript

log = logging.getLogger(__name__)

QUEUE_NAME = "careerprep-speech"
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what RQ accepts in a job id, with a length cap

FAILED = "Transcription failed. Please type your answer instead."
EXPIRED = "This recording is no longer waiting to be transcribed. Please record it again or type your answer."
NO_WORDS = (
    "We couldn't make out any words in the recording. Please speak closer to the microphone and try again."
)


class QueueFull(Exception):
    """Too many recordings are waiting: the page says so and offers typing instead."""


class Unavailable(Exception):
    """Transcription can't run now (no model, no worker, Redis down): offer typing instead."""


@dataclass(frozen=True)
class Pending:
    """Still waiting (``started`` once a worker has picked it up)."""

    started: bool = False


@dataclass(frozen=True)
class Done:
    """Transcribed."""

    transcript: Transcript


@dataclass(frozen=True)
class Failed:
    """Not transcribed, with a message for the learner."""

    message: str


Outcome = Pending | Done | Failed


@dataclass(frozen=True)
class SpeechSettings:
    """Everything the jobs need, read from the app's config by ``from_mapping``."""

    model: str = "tiny.en"
    redis_url: str | None = None
    queue: str = QUEUE_NAME
    key_prefix: str = "careerprep-speech-"  # starts every RQ job id (RQ keeps its keys under "rq:")
    result_ttl: int = 3600  # seconds a result (or a failure) stays readable
    max_pending: int = 8  # recordings waiting before ``submit`` raises QueueFull
    job_timeout: int = 180  # seconds one transcription may take before the worker gives up on it
    delete_audio: bool = True
    limits: AudioLimits = field(default_factory=AudioLimits)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SpeechSettings:
        """Settings from SPEECH_* keys (an app.config or any mapping), defaults for the rest."""
        base = cls()
        limits = AudioLimits(
            max_bytes=int(config.get("SPEECH_MAX_BYTES", base.limits.max_bytes)),
            max_seconds=float(config.get("SPEECH_MAX_SECONDS", base.limits.max_seconds)),
        )
        return cls(
            model=str(config.get("SPEECH_MODEL", base.model)),
            redis_url=config.get("SPEECH_REDIS_URL") or None,
            queue=str(config.get("SPEECH_QUEUE", base.queue)),
            key_prefix=str(config.get("SPEECH_KEY_PREFIX", base.key_prefix)),
            result_ttl=int(config.get("SPEECH_RESULT_TTL", base.result_ttl)),
            max_pending=int(config.get("SPEECH_MAX_PENDING", base.max_pending)),
            job_timeout=int(config.get("SPEECH_JOB_TIMEOUT", base.job_timeout)),
            limits=limits,
        )

    def for_job(self, keep_audio: bool = False) -> dict[str, Any]:
        """What the job function needs, as JSON-able data (it travels through Redis)."""
        delete = self.delete_audio and not keep_audio
        return {"model": self.model, "delete_audio": delete, "limits": asdict(self.limits)}


def run_job(audio_path: str, prompt: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Check, decode and transcribe one recording: the function an RQ worker imports and runs.

    Returns ``{"transcript": {...}}``, or ``{"error": message}`` for a recording the learner can
    fix. Anything else raises, and the job fails with the generic message.
    """
    try:
        try:
            samples = audio.load(audio_path, AudioLimits(**settings["limits"]))
        finally:
            if settings.get("delete_audio", True):
                Path(audio_path).unlink(missing_ok=True)
        transcript = engine.transcribe(samples, prompt, spec=settings["model"])
    except AudioError as exc:
        return {"error": exc.message}
    if not transcript.words:
        return {"error": NO_WORDS}
    return {"transcript": transcript.to_dict()}


def outcome_of(data: Mapping[str, Any] | None) -> Done | Failed:
    """A finished job's return value as Done or Failed."""
    if data and "transcript" in data:
        return Done(Transcript.from_dict(data["transcript"]))
    if data and data.get("error"):
        return Failed(str(data["error"]))
    return Failed(FAILED)


def _check_id(job_id: str) -> None:
    if not _JOB_ID.fullmatch(job_id):
        raise ValueError(f"job id must be 1-64 letters, digits, '-' or '_': {job_id!r}")


class ThreadJobs:
    """One worker thread in this process, a bounded queue, results in memory for ``result_ttl``."""

    def __init__(self, settings: SpeechSettings, runner: Callable[..., dict[str, Any]] = run_job) -> None:
        self.settings = settings
        self._runner = runner
        self._queue: queue.Queue[tuple[str, str, str, bool] | None] = queue.Queue(
            maxsize=settings.max_pending
        )
        self._results: dict[str, tuple[float, Outcome]] = {}  # job id -> (expires at, outcome)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def available(self) -> bool:
        """faster-whisper is installed and the model is on this machine (loading happens in the thread)."""
        return engine.local_model_path(self.settings.model) is not None

    def submit(self, job_id: str, audio_path: str, prompt: str, keep_audio: bool = False) -> None:
        """Queue a recording; QueueFull when ``max_pending`` are waiting, Unavailable without a model."""
        _check_id(job_id)
        if not self.available():
            raise Unavailable(f"speech model {self.settings.model!r} is not available")
        with self._lock:
            self._prune()
            if job_id in self._results:
                raise ValueError(f"job {job_id!r} already exists")
            try:
                self._queue.put_nowait((job_id, audio_path, prompt, keep_audio))
            except queue.Full:
                raise QueueFull(f"{self.settings.max_pending} recordings are already waiting") from None
            self._results[job_id] = (math.inf, Pending())
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="speech-jobs", daemon=True)
                self._thread.start()

    def result(self, job_id: str) -> Outcome:
        """Pending, Done or Failed; Failed(EXPIRED) for an unknown or expired job."""
        with self._lock:
            self._prune()
            entry = self._results.get(job_id)
        return entry[1] if entry else Failed(EXPIRED)

    def close(self, timeout: float | None = None) -> None:
        """Finish the queued jobs and stop the thread (tests; the thread is a daemon otherwise)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)

    def _work(self) -> None:
        """The worker thread: run jobs one at a time; a failing job never stops the thread."""
        while (item := self._queue.get()) is not None:
            job_id, audio_path, prompt, keep_audio = item
            self._set(job_id, Pending(started=True), math.inf)
            try:
                outcome: Outcome = outcome_of(
                    self._runner(audio_path, prompt, self.settings.for_job(keep_audio))
                )
            except Exception:
                log.exception("speech job %s failed", job_id)
                outcome = Failed(FAILED)
            self._set(job_id, outcome, time.monotonic() + self.settings.result_ttl)

    def _set(self, job_id: str, outcome: Outcome, expires: float) -> None:
        with self._lock:
            self._results[job_id] = (expires, outcome)

    def _prune(self) -> None:
        now = time.monotonic()
        for job_id in [k for k, (expires, _) in self._results.items() if expires < now]:
            del self._results[job_id]


class RQJobs:
    """Jobs on an RQ queue in Redis, run by a dedicated worker process (``run_worker``)."""

    def __init__(self, settings: SpeechSettings) -> None:
        from redis import Redis
        from rq import Queue
        from rq.serializers import JSONSerializer

        if not settings.redis_url:
            raise ValueError("RQJobs needs settings.redis_url")
        if settings.key_prefix and not _JOB_ID.fullmatch(settings.key_prefix):
            raise ValueError("SPEECH_KEY_PREFIX may hold only letters, digits, '-' and '_'")
        self.settings = settings
        self.connection = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.queue = Queue(settings.queue, connection=self.connection, serializer=JSONSerializer)

    def available(self) -> bool:
        """Redis answers and a worker is listening on the queue."""
        from redis.exceptions import RedisError
        from rq import Worker

        try:
            return bool(Worker.all(queue=self.queue))
        except RedisError:
            return False

    def submit(self, job_id: str, audio_path: str, prompt: str, keep_audio: bool = False) -> None:
        """Enqueue a recording; QueueFull past ``max_pending``, Unavailable without Redis or a worker."""
        from redis.exceptions import RedisError
        from rq.job import Job

        _check_id(job_id)
        rq_id = self.settings.key_prefix + job_id
        try:
            if not self.available():
                raise Unavailable(f"no worker is listening on the {self.settings.queue!r} queue")
            if self.queue.count >= self.settings.max_pending:
                raise QueueFull(f"{self.settings.max_pending} recordings are already waiting")
            if Job.exists(rq_id, connection=self.connection):
                raise ValueError(f"job {job_id!r} already exists")
            self.queue.enqueue(
                run_job,
                args=(audio_path, prompt, self.settings.for_job(keep_audio)),
                job_id=rq_id,
                job_timeout=self.settings.job_timeout,
                result_ttl=self.settings.result_ttl,
                failure_ttl=self.settings.result_ttl,
                ttl=self.settings.result_ttl,  # a job nobody picks up in this time is dropped
            )
        except RedisError as exc:
            raise Unavailable(f"Redis: {exc}") from exc

    def result(self, job_id: str) -> Outcome:
        """Pending, Done or Failed; Failed(EXPIRED) for an unknown or expired job; Unavailable if no Redis."""
        from redis.exceptions import RedisError
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus
        from rq.serializers import JSONSerializer

        _check_id(job_id)
        try:
            job = Job.fetch(
                self.settings.key_prefix + job_id, connection=self.connection, serializer=JSONSerializer
            )
            status = job.get_status(refresh=False)
            if status == JobStatus.FINISHED:
                return outcome_of(job.return_value())
            if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                return Failed(FAILED)
            return Pending(started=status == JobStatus.STARTED)
        except NoSuchJobError:
            return Failed(EXPIRED)
        except RedisError as exc:
            raise Unavailable(f"Redis: {exc}") from exc


def make_jobs(settings: SpeechSettings) -> ThreadJobs | RQJobs:
    """RQ when a Redis URL is configured, else the in-process thread."""
    return RQJobs(settings) if settings.redis_url else ThreadJobs(settings)


def run_worker(settings: SpeechSettings, *, burst: bool = False) -> bool:
    """Run the machine's speech worker (what ``flask speech-worker`` wraps): load the model, then work.

    The model is loaded before the first job so a broken setup fails at start, not on a learner's
    recording. ``burst`` stops once the queue is empty (tests). Returns whether any job ran.
    """
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer
    from rq.worker import SimpleWorker

    if not settings.redis_url:
        raise ValueError("the speech worker needs SPEECH_REDIS_URL")
    engine.load_model(settings.model)
    connection = Redis.from_url(settings.redis_url)
    work_queue = Queue(settings.queue, connection=connection, serializer=JSONSerializer)
    worker = SimpleWorker([work_queue], connection=connection, serializer=JSONSerializer)
    return worker.work(burst=burst, with_scheduler=False)


_current: ThreadJobs | RQJobs | None = None


def configure(settings: SpeechSettings) -> ThreadJobs | RQJobs:
    """Choose the backend for this process (the app factory calls it with its settings)."""
    global _current
    _current = make_jobs(settings)
    return _current


def available() -> bool:
    """Whether to offer recording: configured, and a model (thread) or a live worker (RQ) is there."""
    return _current is not None and _current.available()


def submit(job_id: str, audio_path: str, prompt: str) -> None:
    """Queue a recording for transcription; raises QueueFull or Unavailable (offer typing instead)."""
    if _current is None:
        raise Unavailable("speech jobs are not configured")
    _current.submit(job_id, audio_path, prompt)


def result(job_id: str) -> Outcome:
    """Pending, Done(transcript) or Failed(message) for a submitted job."""
    if _current is None:
        raise Unavailable("speech jobs are not configured")
    return _current.result(job_id)
