"""An exercise attempt: what the user typed or chose, read from a form, checked, and described.

The drill and the mock interview read attempts from their forms here; the history and review pages
describe stored ones the same way. The checks themselves are careerprep/exercises.py; the rating they
suggest is practice/rating.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..banks.rules import CODE_CHARS, OUTPUT_CHARS
from ..exercises import (
    UNITS,
    EstimateCheck,
    LinesCheck,
    check_estimate,
    check_lines,
    code_lines,
    parse_number,
    predict_matches,
    units_like,
)
from ..models import Question

MAX_WHY = 2000  # "why" beside the lines chosen in a spot-the-bug card


class AttemptError(ValueError):
    """An attempt that cannot be checked (too long, a line that does not exist, no estimate): the
    message says what to change, and nothing is recorded."""


@dataclass(frozen=True)
class Attempt:
    """A checked attempt. `data` is what a review stores (None for kinds with nothing to store)."""

    kind: str
    data: dict | None
    correct: bool | None  # None: the kind is not checked automatically
    lines: LinesCheck | None = None
    estimate: EstimateCheck | None = None

    @property
    def partly(self) -> bool:
        """Some of the faulty lines found, but not all of them."""
        return bool(self.lines and self.lines.found and not self.correct)

    @property
    def verdict(self) -> str:
        """The check's result in plain words (empty for kinds that are not checked)."""
        if self.kind == "predict":
            if not (self.data or {}).get("output", "").strip():
                return "No answer given. Here is what it prints."
            if self.correct:
                return "Right: that is what it prints."
            return "Not quite: compare with the real output."
        if self.kind == "spot_bug" and self.lines is not None:
            return _lines_verdict(self.lines, bool(self.correct))
        if self.kind == "design" and self.estimate is not None:
            value = self.data["estimate"]
            return f"Your estimate, {value['value']:g} {value['unit']}, is {self.estimate.words}."
        return ""


def _lines_verdict(check: LinesCheck, correct: bool) -> str:
    def named(lines: tuple[int, ...]) -> str:
        return ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines))

    if not (check.found or check.extra):
        verb = "is" if len(check.missed) == 1 else "are"
        return f"No line chosen. The faulty {named(check.missed)} {verb} marked below."
    if correct:
        extra = f" ({named(check.extra)} is fine, but close)" if check.extra else ""
        return f"Right: you found {named(check.found)}{extra}."
    parts = []
    if check.found:
        parts.append(f"you found {named(check.found)}")
    if check.missed:
        parts.append(f"missed {named(check.missed)}")
    if check.extra:
        parts.append(f"{named(check.extra)} {'is' if len(check.extra) == 1 else 'are'} fine")
    return "Not quite: " + ", ".join(parts) + "."


def _text(values: Mapping, name: str, limit: int, what: str) -> str:
    value = values.get(name) or ""
    if not isinstance(value, str):
        raise AttemptError(f"{what} must be text.")
    value = value.replace("\r\n", "\n")
    if len(value) > limit:
        raise AttemptError(f"{what} is longer than {limit:,} characters; shorten it and try again.")
    return value


def _is_line_number(text: str) -> bool:
    # ASCII digits only: "²" passes str.isdigit() but not int().
    return text.isascii() and text.isdigit() and len(text) <= 6


def chosen_lines(values) -> list[int]:
    """The line numbers a refused spot-the-bug form had ticked, to tick them again (junk dropped)."""
    return [int(v) for v in values.getlist("lines") if _is_line_number(v)]


def _lines(values, question: Question) -> list[int]:
    count = len(code_lines(question.code))
    raw = values.getlist("lines") if hasattr(values, "getlist") else values.get("lines", [])
    chosen = set()
    for value in raw if isinstance(raw, list) else [raw]:
        text = str(value).strip()
        if not _is_line_number(text) or not 1 <= int(text) <= count:
            raise AttemptError(f"Choose lines from 1 to {count}.")
        chosen.add(int(text))
    return sorted(chosen)


def read_attempt(question: Question, values: Mapping, estimate_required: bool = True) -> Attempt:
    """The attempt a form holds for this question's kind, checked; AttemptError for bad input.

    A mock interview moves on without an estimate (`estimate_required=False`): the clock decides there.
    """
    kind = question.kind
    if kind == "predict":
        return check({"output": _text(values, "output", OUTPUT_CHARS, "Your answer")}, question)
    if kind == "spot_bug":
        why = _text(values, "why", MAX_WHY, "Your reason").strip()
        data = {"lines": _lines(values, question), **({"why": why} if why else {})}
        return check(data, question)
    if kind == "write_code":
        code = _text(values, "code", CODE_CHARS, "Your code")
        return check({"code": code} if code.strip() else None, question)
    if kind == "design":
        if not estimate_required and not str(values.get("estimate") or "").strip():
            return Attempt(kind, None, None)
        return check({"estimate": _estimate(values, question)}, question)
    return Attempt(kind, None, None)


def _estimate(values: Mapping, question: Question) -> dict:
    estimate = (question.exercise or {})["estimate"]
    raw = values.get("estimate")
    if not isinstance(raw, str) or not raw.strip():
        raise AttemptError(f"Enter your estimate: a number of {estimate['unit']} or a unit like it.")
    number = parse_number(raw)
    if number is None or number < 0:
        raise AttemptError("Your estimate must be a number such as 120, 1.5e3 or 2,000.")
    unit = values.get("unit") or estimate["unit"]
    if unit not in units_like(estimate["unit"]):
        raise AttemptError(f"Choose a unit from the list ({', '.join(units_like(estimate['unit']))}).")
    return {"value": number, "unit": unit}


def check(data: dict | None, question: Question) -> Attempt:
    """Check an attempt's data (from a form, or stored on a review) against the question."""
    kind, exercise = question.kind, question.exercise or {}
    if kind == "predict":
        return Attempt(kind, data, predict_matches((data or {}).get("output", ""), exercise))
    if kind == "spot_bug":
        lines = check_lines((data or {}).get("lines", []), exercise.get("bug_lines", []))
        return Attempt(kind, data, lines.correct, lines=lines)
    if kind == "design" and data and data.get("estimate"):
        value = data["estimate"]
        if value.get("unit") in UNITS and "estimate" in exercise:
            try:
                result = check_estimate(value["value"], value["unit"], exercise["estimate"])
            except (ValueError, TypeError):
                return Attempt(kind, data, None)
            return Attempt(kind, data, result.within, estimate=result)
    return Attempt(kind, data, None)


def stored(question: Question, data: dict | None) -> Attempt | None:
    """A review's stored attempt, checked again for display (None when there is nothing to show)."""
    if data is None and question.kind not in ("predict", "spot_bug"):
        return None
    return check(data, question)


def summary(question: Question, data: dict | None, correct: bool | None) -> str:
    """One line on a past attempt for the history list ("" for a card without an attempt)."""
    mark = "" if correct is None else (" ✓" if correct else " ✗")
    data = data or {}
    if question.kind == "predict":
        output = " / ".join(line for line in data.get("output", "").strip().splitlines()[:3])
        return f"You said it prints: {output[:120]}{mark}" if output else f"No output given{mark}"
    if question.kind == "spot_bug":
        lines = data.get("lines") or []
        if not lines:
            return f"No line chosen{mark}"
        return f"You chose line{'s' * (len(lines) > 1)} {', '.join(map(str, lines))}{mark}"
    if question.kind == "write_code":
        count = len(code_lines(data.get("code")))
        return f"You wrote {count} line{'s' * (count != 1)} of code" if count else "No code written"
    if question.kind == "design" and data.get("estimate"):
        checked = check(data, question)
        value = data["estimate"]
        words = f", {checked.estimate.words}" if checked.estimate else ""
        return f"Your estimate: {value['value']:g} {value['unit']}{words}{mark}"
    return ""
