"""The account import's checking tools: its errors and summary, a field checker that names every bad
field by its path, and the checks of the `recordings` section (transcripts and kept audio).

Kept audio is checked as an upload is, before any write: base64 that decodes, within the upload size
limit, then the same checks the speech worker runs (type, codec, length, completeness, not empty,
not silent; careerprep/speech/audio.py), on a temporary file that is gone before the checks return.
"""

from __future__ import annotations

import base64
import binascii
import math
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app

from ..banks.rules import MAX_TEXT
from ..models import as_utc
from ..speech import audio

# A transcript's length may pass the speech limit by the slack audio.py allows for rounded container
# timestamps (a 5:00.4 recording of a 5-minute answer is fine there, so it is here).
DURATION_SLACK = 1.0
MAX_WORDS = 10_000  # whisper writes a few words a second; 5 minutes of fast speech is under 2,000
MAX_WORD = 200  # characters in one transcribed "word"
WORD_KEYS = {"word", "start", "end", "probability"}  # speech.engine.Word, which feedback rebuilds


class RestoreError(Exception):
    """The file cannot be imported; `errors` names every problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class RestoreSummary:
    added: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        names = ("reviews", "cards", "mock_interviews", "reports", "interview_dates", "recordings")
        added = ", ".join(f"{self.added.get(n, 0)} {n.replace('_', ' ')}" for n in names)
        return f"{added} written; {sum(self.skipped.values())} already here"


class Check:
    """Field checks that collect every problem by path instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def number(
        self, obj: dict, path: str, name: str, kind: type, low: float, high: float, null: bool = False
    ):
        value = obj.get(name)
        if value is None and null:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is int:
            ok = ok and float(value).is_integer()
        if not ok or not low <= value <= high:
            self.fail(f"{path}.{name}", f"must be a number from {low:g} to {high:g}")
            return None
        return kind(value)

    def boolean(self, obj: dict, path: str, name: str, null: bool = False) -> bool | None:
        value = obj.get(name)
        if not isinstance(value, bool) and not (value is None and null):
            self.fail(f"{path}.{name}", "must be true or false")
        return value

    def text(self, obj: dict, path: str, name: str, null: bool = True, choices=None) -> str | None:
        value = obj.get(name)
        if value is None and null:
            return None
        if (
            not isinstance(value, str)
            or len(value) > MAX_TEXT
            or (choices is not None and value not in choices)
        ):
            hint = f"one of {', '.join(choices)}" if choices is not None else f"text of at most {MAX_TEXT}"
            self.fail(f"{path}.{name}", f"must be {hint}")
            return None
        return value

    def time(self, obj: dict, path: str, name: str, null: bool = True) -> datetime | None:
        value = obj.get(name)
        if value is None and null:
            return None
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError
            return as_utc(parsed)
        except (TypeError, ValueError):
            self.fail(f"{path}.{name}", "must be an ISO 8601 time with its UTC offset")
            return None

    def ints(self, obj: dict, path: str, name: str) -> list[int] | None:
        value = obj.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value
        ):
            self.fail(f"{path}.{name}", "must be a list of whole numbers")
            return None
        return value

    def items(self, data: dict, name: str) -> list[tuple[str, dict]]:
        value = data.get(name, [])
        if not isinstance(value, list):
            self.fail(name, "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{name}[{i}]", item))
            else:
                self.fail(f"{name}[{i}]", "must be an object")
        return out


def question(check: Check, questions: dict[str, int], obj: dict, path: str) -> int | None:
    """The local question id for a permanent id; an error when this server has no such question."""
    uid = obj.get("question_id")
    if not isinstance(uid, str) or uid not in questions:
        check.fail(f"{path}.question_id", "no question with this id on this server (export format 2 needed)")
        return None
    return questions[uid]


def recordings(
    check: Check, data: dict, questions: dict[str, int], roles: dict[str, int], mocks: set[tuple]
) -> list[dict]:
    """Each transcribed recording: its question, its mock (one in this file, by role and creation
    time, as mock interviews are matched) or null, the transcript, word timings and kept audio."""
    limits = current_app.extensions["speech"].settings.limits
    out = []
    for path, item in check.items(data, "recordings"):
        out.append(
            {
                "question_id": question(check, questions, item, path),
                "mock": _mock_key(check, roles, mocks, item, path),
                "created_at": check.time(item, path, "created_at", null=False),
                "transcript": check.text(item, path, "transcript", null=False),
                "words": _words(check, item, path, limits.max_seconds + DURATION_SLACK),
                "duration": check.number(
                    item, path, "duration", float, 0, limits.max_seconds + DURATION_SLACK
                ),
                "audio": _audio(check, item, path, limits),
            }
        )
    return out


def _mock_key(check: Check, roles: dict, mocks: set[tuple], item: dict, path: str) -> tuple | None:
    """(role id, created_at) of the mock interview the recording was made in, or None."""
    mock = item.get("mock")
    if mock is None:
        return None
    if not isinstance(mock, dict):
        check.fail(f"{path}.mock", "must be an object (role, created_at) or null")
        return None
    key = (roles.get(mock.get("role")), check.time(mock, f"{path}.mock", "created_at", null=False))
    if key[1] is not None and key not in mocks:
        check.fail(f"{path}.mock", "no mock interview in this file with this role and created_at")
    return key


def _words(check: Check, item: dict, path: str, longest: float) -> list[dict]:
    """The word timings as the transcriber wrote them: {word, start, end, probability} each."""
    words = item.get("words")
    if not isinstance(words, list) or len(words) > MAX_WORDS:
        check.fail(f"{path}.words", f"must be a list of at most {MAX_WORDS:,} words")
        return []
    out = []
    for i, word in enumerate(words):
        wpath = f"{path}.words[{i}]"
        if not isinstance(word, dict) or set(word) != WORD_KEYS:
            check.fail(wpath, "must be an object with word, start, end and probability")
            continue
        text = word["word"]
        if not isinstance(text, str) or len(text) > MAX_WORD:
            check.fail(f"{wpath}.word", f"must be text of at most {MAX_WORD}")
        start = check.number(word, wpath, "start", float, 0, longest)
        end = check.number(word, wpath, "end", float, 0, longest)
        probability = check.number(word, wpath, "probability", float, 0, 1)
        if start is not None and end is not None and end < start:
            check.fail(f"{wpath}.end", "must not be before start")
        out.append({"word": text, "start": start, "end": end, "probability": probability})
    return out


def _audio(check: Check, item: dict, path: str, limits: audio.AudioLimits) -> bytes | None:
    """The kept audio's bytes, if it decodes and passes an upload's checks; None when not kept."""
    value = item.get("audio")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 4 * math.ceil(limits.max_bytes / 3):
        check.fail(f"{path}.audio", f"must be base64 of at most {limits.max_bytes:,} bytes, or null")
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        check.fail(f"{path}.audio", "is not base64")
        return None
    with tempfile.TemporaryDirectory(prefix="careerprep-import-") as folder:
        sample = Path(folder) / "recording.audio"
        sample.write_bytes(raw)
        try:
            audio.load(sample, limits)
        except audio.AudioError as exc:
            check.fail(f"{path}.audio", exc.message)
            return None
    return raw
