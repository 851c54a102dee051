"""The exercise kinds and the rules of the ones checked automatically: predicted output, the faulty
lines of a listing, and back-of-envelope estimates with units.

One home for each rule: the drill, the mock interview, the bank validator, the admin editor and the
content tests (which compile and run every snippet) all call these functions. The rating a check
suggests is decided in practice/rating.py; the user always confirms it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """An exercise kind: its name in the app, the fields it adds to a question, how it is checked, and
    how the back of its card names the explanation and the key points.

    `code` and `language` are columns of a question; the other fields live in its `exercise` mapping.
    """

    label: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    key_points: tuple[int, int] | None = None  # None: the usual range (banks/rules.py KEY_POINTS)
    checked: bool = False  # the drill checks the answer itself and suggests a rating
    answer_heading: str = "Model answer"
    points_legend: str = "Key points a good answer covers: tick the ones you said"

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field the kind uses."""
        return self.required + self.optional


_WHY = "What the explanation rests on: tick the ones you knew"

# The kinds of question, in the order the editor offers them. Today's cards are `recall`.
KINDS: dict[str, Kind] = {
    "recall": Kind("Recall (explain, compare, walk through)"),
    "predict": Kind(
        "Predict the output",
        ("code", "language", "accepted"),
        ("platform", "any_order", "exact_whitespace", "run"),
        key_points=(2, 6),
        checked=True,
        answer_heading="Why",
        points_legend=_WHY,
    ),
    "spot_bug": Kind(
        "Spot the bug",
        ("code", "language", "bug_lines", "solution"),
        ("platform",),
        key_points=(2, 6),
        checked=True,
        answer_heading="What goes wrong",
        points_legend=_WHY,
    ),
    "write_code": Kind(
        "Write the code",
        ("language", "solution"),
        ("code", "platform", "tests"),
        answer_heading="The approach",
        points_legend="Edge cases and tests a correct solution passes: tick the ones yours handles",
    ),
    "read_output": Kind(
        "Read the output",
        ("code",),
        ("language",),
        answer_heading="What it tells you",
        points_legend="What a good reading spots: tick the ones you saw",
    ),
    "design": Kind(
        "Design with numbers",
        ("follow_ups", "estimate"),
        checked=True,
        answer_heading="A model design",
        points_legend="Key points a good design covers: tick the ones you said",
    ),
}
# Every field any kind adds, in the order a bank file lists them.
EXERCISE_FIELDS = ("kind", "code", "language", "platform", "accepted", "any_order", "exact_whitespace", "run",
                   "bug_lines", "solution", "tests", "follow_ups", "estimate")  # fmt: skip
LANGUAGES = {"c": "C", "cpp": "C++", "bash": "Bash", "sh": "POSIX sh", "python": "Python", "text": "Text"}

_SPACES = re.compile(r"[ \t]+")


# -- predict: what does this print? -----------------------------------------------------------------


def normalise_output(text: str, exact_whitespace: bool = False) -> list[str]:
    """Program output as a list of lines, compared as the bank says.

    Line endings are always unified and blank lines at the start and end dropped. Unless whitespace is
    exact, runs of spaces and tabs count as one space and lines are trimmed.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not exact_whitespace:
        lines = [_SPACES.sub(" ", line).strip() for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def predict_matches(answer: str, question: dict) -> bool:
    """True when `answer` is one of the question's accepted outputs (order of lines per the bank).

    `question` is the bank form (`accepted`, `any_order`, `exact_whitespace`) or a Question's
    `exercise` mapping, which holds the same keys.
    """
    exact = bool(question.get("exact_whitespace"))
    any_order = bool(question.get("any_order"))
    mine = normalise_output(answer, exact)
    if any_order:
        mine = sorted(mine)
    for accepted in question.get("accepted") or []:
        theirs = normalise_output(accepted, exact)
        if (sorted(theirs) if any_order else theirs) == mine:
            return True
    return False


# -- spot_bug: which lines are wrong? ---------------------------------------------------------------


@dataclass(frozen=True)
class LinesCheck:
    """How a choice of lines compares with the faulty ones."""

    found: tuple[int, ...]  # faulty lines the user chose
    missed: tuple[int, ...]  # faulty lines the user did not choose
    extra: tuple[int, ...]  # lines chosen that are fine

    @property
    def correct(self) -> bool:
        """Every faulty line found, at most one fine line chosen with them (a neighbour is forgiven)."""
        return not self.missed and len(self.extra) <= 1


def check_lines(chosen: list[int], bug_lines: list[int]) -> LinesCheck:
    """Compare the lines a user chose with the bank's faulty lines."""
    picked, faulty = set(chosen), set(bug_lines)
    return LinesCheck(
        tuple(sorted(picked & faulty)), tuple(sorted(faulty - picked)), tuple(sorted(picked - faulty))
    )


def code_lines(code: str | None) -> list[str]:
    """A listing's lines as the user numbers them (line 1 is the first)."""
    return (code or "").rstrip("\n").split("\n") if code else []


# -- design: estimates with units -------------------------------------------------------------------

# unit -> (what it measures, how many of the measure's base unit one of it is)
UNITS: dict[str, tuple[str, float]] = {
    "B": ("bytes", 1),
    "KB": ("bytes", 1e3),
    "MB": ("bytes", 1e6),
    "GB": ("bytes", 1e9),
    "TB": ("bytes", 1e12),
    "PB": ("bytes", 1e15),
    "KiB": ("bytes", 2**10),
    "MiB": ("bytes", 2**20),
    "GiB": ("bytes", 2**30),
    "TiB": ("bytes", 2**40),
    "B/s": ("data rate", 8),
    "KB/s": ("data rate", 8e3),
    "MB/s": ("data rate", 8e6),
    "GB/s": ("data rate", 8e9),
    "bit/s": ("data rate", 1),
    "kbit/s": ("data rate", 1e3),
    "Mbit/s": ("data rate", 1e6),
    "Gbit/s": ("data rate", 1e9),
    "/s": ("rate", 1),
    "k/s": ("rate", 1e3),
    "M/s": ("rate", 1e6),
    "/min": ("rate", 1 / 60),
    "/h": ("rate", 1 / 3600),
    "/day": ("rate", 1 / 86400),
    "ns": ("time", 1e-9),
    "us": ("time", 1e-6),
    "ms": ("time", 1e-3),
    "s": ("time", 1),
    "min": ("time", 60),
    "h": ("time", 3600),
    "day": ("time", 86400),
    "count": ("count", 1),
    "k": ("count", 1e3),
    "M": ("count", 1e6),
    "bn": ("count", 1e9),
}
MEASURES = sorted({measure for measure, _ in UNITS.values()})


def units_like(unit: str) -> list[str]:
    """The units a user may answer in for an estimate asked in `unit` (the same measure)."""
    measure = UNITS[unit][0]
    return [name for name, (m, _) in UNITS.items() if m == measure]


@dataclass(frozen=True)
class EstimateCheck:
    """An estimate against the accepted range: within it, or off by a factor (above or below)."""

    value: float  # the user's estimate, in the bank's unit
    within: bool
    factor: float  # how many times too high (> 1) or too low (< 1) against the nearest end; 1 within

    @property
    def words(self) -> str:
        """What the check says, in plain words."""
        if self.within:
            return "within the accepted range"
        direction = "high" if self.factor > 1 else "low"
        if self.factor <= 0 or math.isinf(self.factor):
            return f"far too {direction}"  # zero or less, or beyond what a float holds
        times = self.factor if self.factor > 1 else 1 / self.factor
        if times >= 1000:
            return f"more than 1,000× too {direction}"
        return f"about {times:.1f}× too {direction}" if times < 10 else f"about {times:.0f}× too {direction}"


def check_estimate(value: float, unit: str, estimate: dict) -> EstimateCheck:
    """Convert the user's value into the bank's unit and compare it with the accepted range."""
    if unit not in UNITS or UNITS[unit][0] != UNITS[estimate["unit"]][0]:
        raise ValueError(f"{unit!r} does not measure the same thing as {estimate['unit']!r}")
    converted = value * UNITS[unit][1] / UNITS[estimate["unit"]][1]
    low, high = float(estimate["low"]), float(estimate["high"])
    if low <= converted <= high:
        return EstimateCheck(converted, True, 1.0)
    if converted <= 0:
        return EstimateCheck(converted, False, math.inf if high <= 0 else 0.0)
    factor = converted / high if converted > high else converted / low
    return EstimateCheck(converted, False, factor)


def parse_number(text: str | None) -> float | None:
    """A number a user typed ("120", "1,200", "1.5e3"), or None; never NaN or infinity."""
    cleaned = (text or "").strip().replace(",", "").replace("_", "")
    if not cleaned or len(cleaned) > 40:
        return None
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
