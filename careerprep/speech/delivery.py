"""Delivery feedback from word timestamps: pace, fillers, hedges, long pauses and length.

It reads the words whisper wrote (``engine.Word``: text with punctuation, start, end) and returns
figures plus plain-language sentences. It never scores an answer: a number out of 100 would claim
a precision a tiny speech model doesn't have, and the content is judged elsewhere.

Every threshold is a constant below, so the page and any script read the same rule from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from .engine import Word

PAUSE_SECONDS = 2.0  # a gap longer than this between two words is a long pause
MIN_PACE_SECONDS = 5.0  # below this much talking, a words-per-minute figure means nothing
SLOW_WPM = 110  # conversational English runs at about 120-160 words a minute
FAST_WPM = 170
FILLERS_PER_MINUTE = 3.0  # at or above this rate the feedback suggests pausing instead
MAX_PAUSES_SHOWN = 3

# Spellings whisper uses for hesitation sounds, counted under one name.
_SOUNDS = {
    "um": "um",
    "umm": "um",
    "uhm": "um",
    "uh": "uh",
    "uhh": "uh",
    "er": "er",
    "erm": "er",
    "hmm": "hmm",
}
_ALWAYS_FILLERS = {"basically"}
_HEDGES = {("i", "think"): "I think", ("kind", "of"): "kind of", ("sort", "of"): "sort of"}
_HEDGE_WORDS = {"kinda": "kind of", "sorta": "sort of"}
# "a kind of lock", "what sort of queue": the phrase is the content, not a hedge.
_DETERMINERS = frozenset(
    {
        *("a", "an", "the", "this", "that", "these", "those", "what", "which", "some", "any", "one"),
        *("each", "every", "no", "same", "another", "its", "their", "my", "your", "our", "his", "her"),
        *("all", "different", "other"),
    }
)
_SET_OFF = (",", ";", ":", "-", "\u2014", "\u2026", "...", "?", ".", "!")
_SET_OFF_AFTER_LIKE = (",", ";", ":", "-", "\u2014", "\u2026", "...")


@dataclass(frozen=True)
class Pause:
    """A long silence between two words."""

    start: float  # seconds into the recording
    seconds: float
    after: str  # the word before the silence
    before: str  # the word after it


@dataclass(frozen=True)
class Mark:
    """Where a filler or hedge was said: words[first:last+1] of the transcript."""

    kind: str  # "filler" or "hedge"
    phrase: str
    first: int
    last: int
    start: float


@dataclass(frozen=True)
class Delivery:
    """Figures about how an answer was spoken, and sentences that say them plainly."""

    words: int
    talking_seconds: float  # from the first word to the last
    started_after: float  # silence before the first word
    words_per_minute: float | None  # None when the answer is too short to measure
    fillers: dict[str, int]
    hedges: dict[str, int]
    pauses: list[Pause]
    suggested_seconds: float | None
    marks: list[Mark] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


def analyse(
    words: Sequence[Word], *, suggested_seconds: float | None = None, pause_seconds: float = PAUSE_SECONDS
) -> Delivery:
    """Measure pace, fillers, hedges, pauses and length, and say what they mean for the learner."""
    spoken = [w for w in words if _norm(w.word)]
    if not spoken:
        return Delivery(
            words=0,
            talking_seconds=0.0,
            started_after=0.0,
            words_per_minute=None,
            fillers={},
            hedges={},
            pauses=[],
            suggested_seconds=suggested_seconds,
            sentences=["We couldn't hear any words in this recording."],
        )
    talking = max(0.0, spoken[-1].end - spoken[0].start)
    wpm = round(len(spoken) / talking * 60, 1) if talking >= MIN_PACE_SECONDS else None
    marks = find_marks(spoken)
    fillers = Counter(m.phrase for m in marks if m.kind == "filler")
    hedges = Counter(m.phrase for m in marks if m.kind == "hedge")
    result = Delivery(
        words=len(spoken),
        talking_seconds=round(talking, 2),
        started_after=round(spoken[0].start, 2),
        words_per_minute=wpm,
        fillers=dict(fillers.most_common()),
        hedges=dict(hedges.most_common()),
        pauses=long_pauses(spoken, pause_seconds),
        suggested_seconds=suggested_seconds,
        marks=marks,
    )
    result.sentences.extend(_sentences(result))
    return result


def find_marks(words: Sequence[Word]) -> list[Mark]:
    """Every filler and hedge, in order; "like" and "you know" only when set off as fillers."""
    norms = [_norm(w.word) for w in words]
    marks: list[Mark] = []
    i = 0
    while i < len(words):
        pair = (norms[i], norms[i + 1]) if i + 1 < len(words) else None
        previous = norms[i - 1] if i > 0 else ""
        found: tuple[str, str, int] | None = None  # kind, phrase, words used
        if pair in _HEDGES and not (pair[0] in ("kind", "sort") and previous in _DETERMINERS):
            found = ("hedge", _HEDGES[pair], 2)
        elif pair == ("you", "know") and (i + 2 == len(words) or _set_off_after(words, i + 1, _SET_OFF)):
            found = ("filler", "you know", 2)
        elif norms[i] in _SOUNDS:
            found = ("filler", _SOUNDS[norms[i]], 1)
        elif norms[i] in _ALWAYS_FILLERS:
            found = ("filler", norms[i], 1)
        elif norms[i] in _HEDGE_WORDS and previous not in _DETERMINERS:
            found = ("hedge", _HEDGE_WORDS[norms[i]], 1)
        elif norms[i] == "like" and _set_off_after(words, i, _SET_OFF_AFTER_LIKE):
            found = ("filler", "like", 1)
        if found is None:
            i += 1
            continue
        kind, phrase, used = found
        marks.append(Mark(kind=kind, phrase=phrase, first=i, last=i + used - 1, start=words[i].start))
        i += used
    return marks


def long_pauses(words: Sequence[Word], pause_seconds: float = PAUSE_SECONDS) -> list[Pause]:
    """Silences longer than ``pause_seconds`` between two words, in the order they happened."""
    pauses = []
    for before, after in zip(words, words[1:], strict=False):
        gap = after.start - before.end
        if gap > pause_seconds:
            pauses.append(
                Pause(
                    start=before.end,
                    seconds=round(gap, 2),
                    after=_norm(before.word),
                    before=_norm(after.word),
                )
            )
    return pauses


def _set_off_after(words: Sequence[Word], index: int, marks: tuple[str, ...]) -> bool:
    """Whether whisper put punctuation after words[index]: the word was spoken as an aside."""
    return words[index].word.rstrip().endswith(marks)


def _norm(word: str) -> str:
    """Lower case without surrounding punctuation: "Um," -> "um", "-weight" -> "weight"."""
    return word.strip().strip(".,;:!?\"'()[]{}-\u2014\u2026").lower()


def _sentences(d: Delivery) -> list[str]:
    """Plain-language feedback, one sentence per point worth making."""
    out = [_pace_sentence(d)]
    total_fillers = sum(d.fillers.values())
    if total_fillers == 0:
        out.append("You used no filler words such as \u201cum\u201d or \u201clike\u201d.")
    else:
        listed = _listing(d.fillers)
        line = f"You said {listed}."
        minutes = d.talking_seconds / 60
        if minutes > 0 and total_fillers / minutes >= FILLERS_PER_MINUTE and total_fillers >= 3:
            line += " A short silent pause sounds more confident than a filler: try pausing instead."
        out.append(line)
    if d.hedges:
        out.append(
            f"You hedged with {_listing(d.hedges)}. Say what you know plainly, and keep "
            "\u201cI think\u201d for what you are really unsure about."
        )
    if d.pauses:
        longest = sorted(d.pauses, key=lambda p: p.seconds, reverse=True)[:MAX_PAUSES_SHOWN]
        where = "; ".join(
            f"{p.seconds:.1f} s after \u201c{p.after}\u201d (at {_clock(p.start)})"
            for p in sorted(longest, key=lambda p: p.start)
        )
        out.append(
            f"You paused for long stretches: {where}. If you need a moment, say so "
            "(\u201clet me think about that\u201d) rather than going quiet."
        )
    if d.suggested_seconds:
        out.append(_length_sentence(d.talking_seconds, d.suggested_seconds))
    return out


def _pace_sentence(d: Delivery) -> str:
    """What the words-per-minute figure means."""
    if d.words_per_minute is None:
        return "Your answer was too short to measure your pace."
    wpm = round(d.words_per_minute)
    if wpm < SLOW_WPM:
        return (
            f"You spoke at about {wpm} words a minute, slower than most speakers: you can pick up the pace."
        )
    if wpm > FAST_WPM:
        return (
            f"You spoke at about {wpm} words a minute, faster than most speakers: "
            "slow down so the interviewer can follow."
        )
    return f"You spoke at about {wpm} words a minute, a comfortable pace to follow."


def _length_sentence(talking: float, suggested: float) -> str:
    """How the answer's length compares with the suggested length."""
    said = f"Your answer took {_duration(talking)}; the suggested length is about {_duration(suggested)}."
    ratio = talking / suggested
    if ratio < 0.5:
        return f"{said} It is much shorter: add an example or the reasoning behind your answer."
    if ratio < 0.8:
        return f"{said} It is a little short: one more detail or example would help."
    if ratio <= 1.25:
        return f"{said} That is about right."
    if ratio <= 1.75:
        return f"{said} It is a little long: lead with your main point."
    return (
        f"{said} It is much longer: interviewers may lose the thread, so give your main point first "
        "and stop after one example."
    )


def _listing(counts: dict[str, int]) -> str:
    """'\u201cum\u201d 3 times and \u201clike\u201d once'."""
    parts = [f"\u201c{phrase}\u201d {_times(n)}" for phrase, n in counts.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _clock(seconds: float) -> str:
    """0:42, 2:05."""
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _duration(seconds: float) -> str:
    """'40 s', '2 min', '1 min 40 s'."""
    whole = int(round(seconds))
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" if not rest else f"{minutes} min {rest} s"
