"""Validating the fields an exercise kind adds to a question: the listing and its language, accepted
outputs, faulty lines, a solution and its tests, follow-ups and an estimate.

Errors name the item and field as the rest of the validator does
(`sets[0].questions[3].bug_lines: line 14 is past the end of the code (12 lines)`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..exercises import KINDS, LANGUAGES, UNITS, code_lines, normalise_output
from . import points
from .rules import (
    CODE_CHARS,
    CODE_LINES,
    FOLLOW_UPS,
    LIMITS,
    MAX_ACCEPTED,
    MAX_BUG_LINES,
    MAX_TEXT,
    OUTPUT_CHARS,
    PLATFORM_CHARS,
    RUN_ITEMS,
)

if TYPE_CHECKING:
    from .validate import _Checker

RUN_FIELDS = {"stdout", "stderr", "cflags", "args", "stdin"}
RUN_OUTPUTS = ("pipe", "tty")
ESTIMATE_FIELDS = ("prompt", "value", "unit", "low", "high")
FOLLOW_UP_FIELDS = {"prompt", "answer"}
MAX_NUMBER = 1e18
LISTINGS = ("code", "solution", "tests")  # fields holding source code


def columns(question: dict) -> dict:
    """A clean question's fields as a stored question holds them: key point texts and their terms apart
    (banks/points.py), kind, code, language, and the rest in one `exercise` mapping (None for a recall
    card)."""
    fields = {field: question[field] for field in _FIELDS if field in question}
    key_points, key_point_terms = points.split(question.get("key_points") or [])
    return {
        "key_points": key_points,
        "key_point_terms": key_point_terms,
        "kind": question.get("kind", "recall"),
        "code": question.get("code"),
        "language": question.get("language"),
        "exercise": fields or None,
    }


def exercise(check: _Checker, q: dict, path: str) -> tuple[str, dict]:
    """The kind of a question and the fields it adds, cleaned and in the bank's order (a recall card
    adds none, so a clean bank validates again to itself)."""
    name = q.get("kind", "recall")
    if name is None:
        name = "recall"
    if not isinstance(name, str) or name not in KINDS:
        check.errors.append(f"{path}.kind: must be one of {', '.join(KINDS)}")
        return "recall", {}
    kind = KINDS[name]
    for field in ("code", "language", *_FIELDS):
        if field in q and field not in kind.fields:
            check.errors.append(f"{path}.{field}: not used by {name} questions")
        elif field in kind.required and q.get(field) is None:
            check.errors.append(f"{path}.{field}: required for {name} questions")
    if name == "recall":
        return name, {}
    clean: dict[str, Any] = {"kind": name}
    if q.get("code") is not None and "code" in kind.fields:
        clean["code"] = _listing(check, q, path, "code")
    if "language" in kind.fields:
        language = _language(check, q, path, default="text" if name == "read_output" else None)
        if language is not None:
            clean["language"] = language
    for field in _FIELDS:
        if field in kind.fields and q.get(field) is not None:
            value = _FIELDS[field](check, q, path, field)
            if value is not None:
                clean[field] = value
    if name == "spot_bug" and "bug_lines" in clean:
        _check_bug_lines(check, clean["bug_lines"], clean.get("code"), path)
    if name == "predict" and "accepted" in clean:
        _check_distinct(check, clean["accepted"], bool(clean.get("exact_whitespace")), path)
    return name, clean


def _listing(check: _Checker, obj: dict, path: str, name: str) -> str:
    """Source code or a tool's output, kept exactly (line numbers count), trailing blank space dropped."""
    value = obj.get(name)
    if not isinstance(value, str):
        check.errors.append(f"{path}.{name}: must be text")
        return ""
    value = value.rstrip()
    if not value.strip():
        check.errors.append(f"{path}.{name}: required")
    elif len(value) > CODE_CHARS:
        check.errors.append(f"{path}.{name}: longer than {CODE_CHARS:,} characters")
    elif len(code_lines(value)) > CODE_LINES:
        check.errors.append(f"{path}.{name}: {len(code_lines(value))} lines; at most {CODE_LINES}")
    return value


def _language(check: _Checker, q: dict, path: str, default: str | None) -> str | None:
    value = q.get("language", default)
    if value is None:
        return None  # reported as required above
    if not isinstance(value, str) or value not in LANGUAGES:
        check.errors.append(f"{path}.language: must be one of {', '.join(LANGUAGES)}")
        return default
    return value


def _text(check: _Checker, obj: dict, path: str, name: str, limit: int) -> str | None:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip():
        check.errors.append(f"{path}.{name}: must be non-empty text")
        return None
    if len(value.strip()) > limit:
        check.errors.append(f"{path}.{name}: longer than {limit:,} characters")
    return value.strip()


def _flag(check: _Checker, q: dict, path: str, name: str) -> bool | None:
    """A yes/no option, stored only when true (false is the default)."""
    value = q.get(name)
    if not isinstance(value, bool):
        check.errors.append(f"{path}.{name}: must be true or false")
        return None
    return True if value else None


def _accepted(check: _Checker, q: dict, path: str, name: str) -> list[str] | None:
    value = q.get(name)
    if isinstance(value, str):
        value = [value]  # one accepted output may be written without the list
    if not isinstance(value, list):
        check.errors.append(f"{path}.{name}: must be a list of outputs")
        return None
    if not 1 <= len(value) <= MAX_ACCEPTED:
        check.errors.append(f"{path}.{name}: needs 1 to {MAX_ACCEPTED} outputs, got {len(value)}")
    outputs = []
    for i, output in enumerate(value):
        if not isinstance(output, str) or not output.strip():
            check.errors.append(f"{path}.{name}[{i}]: must be non-empty text (the whole output)")
        elif len(output) > OUTPUT_CHARS:
            check.errors.append(f"{path}.{name}[{i}]: longer than {OUTPUT_CHARS:,} characters")
        else:
            outputs.append(output.rstrip("\r\n"))
    return outputs


def _check_distinct(check: _Checker, outputs: list[str], exact: bool, path: str) -> None:
    seen: dict[tuple[str, ...], int] = {}
    for i, output in enumerate(outputs):
        lines = tuple(normalise_output(output, exact))
        if lines in seen:
            check.errors.append(f"{path}.accepted[{i}]: the same output as accepted[{seen[lines]}]")
        seen.setdefault(lines, i)


def _run(check: _Checker, q: dict, path: str, name: str) -> dict | None:
    """How the content tests run a snippet: stdout to a pipe or a terminal, stderr, flags, args, stdin."""
    value = q.get(name)
    where = f"{path}.{name}"
    if not isinstance(value, dict):
        check.errors.append(f"{where}: must be a mapping (stdout, stderr, cflags, args, stdin)")
        return None
    for unknown in sorted(set(map(str, value)) - RUN_FIELDS):
        check.errors.append(f"{where}.{unknown}: unknown field")
    run = {"stdout": value.get("stdout", "pipe"), "stderr": value.get("stderr", False)}
    if run["stdout"] not in RUN_OUTPUTS:
        check.errors.append(f"{where}.stdout: must be pipe or tty")
    if not isinstance(run["stderr"], bool):
        check.errors.append(f"{where}.stderr: must be true or false")
    for field in ("cflags", "args"):
        items = value.get(field, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and 0 < len(i) <= 200 for i in items):
            check.errors.append(f"{where}.{field}: must be a list of short texts")
            items = []
        elif len(items) > RUN_ITEMS:
            check.errors.append(f"{where}.{field}: at most {RUN_ITEMS} items")
        run[field] = items
    stdin = value.get("stdin", "")
    if not isinstance(stdin, str) or len(stdin) > OUTPUT_CHARS:
        check.errors.append(f"{where}.stdin: must be text of at most {OUTPUT_CHARS:,} characters")
        stdin = ""
    run["stdin"] = stdin
    return run


def _bug_lines(check: _Checker, q: dict, path: str, name: str) -> list[int] | None:
    value = q.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        check.errors.append(f"{path}.{name}: must be a list of line numbers")
        return None
    lines = []
    for i, line in enumerate(value):
        if isinstance(line, bool) or not isinstance(line, int) or line < 1:
            check.errors.append(f"{path}.{name}[{i}]: must be a line number (1 is the first line)")
        elif line in lines:
            check.errors.append(f"{path}.{name}[{i}]: line {line} is listed twice")
        else:
            lines.append(line)
    if len(value) > MAX_BUG_LINES:
        check.errors.append(f"{path}.{name}: at most {MAX_BUG_LINES} lines, got {len(value)}")
    return sorted(lines)


def _check_bug_lines(check: _Checker, lines: list[int], code: str | None, path: str) -> None:
    listing = code_lines(code)
    if not listing:
        return  # the missing code is reported already
    for line in lines:
        if line > len(listing):
            check.errors.append(
                f"{path}.bug_lines: line {line} is past the end of the code ({len(listing)} lines)"
            )
        elif not listing[line - 1].strip():
            check.errors.append(f"{path}.bug_lines: line {line} of the code is blank")


def _follow_ups(check: _Checker, q: dict, path: str, name: str) -> list[dict] | None:
    value = q.get(name)
    low, high = FOLLOW_UPS
    if not isinstance(value, list):
        check.errors.append(f"{path}.{name}: must be a list of follow-ups (prompt and answer)")
        return None
    if not low <= len(value) <= high:
        check.errors.append(f"{path}.{name}: needs {low} to {high} follow-ups, got {len(value)}")
    follow_ups = []
    for i, item in enumerate(value):
        where = f"{path}.{name}[{i}]"
        if not isinstance(item, dict):
            check.errors.append(f"{where}: must be a mapping with prompt and answer")
            continue
        for unknown in sorted(set(map(str, item)) - FOLLOW_UP_FIELDS):
            check.errors.append(f"{where}.{unknown}: unknown field")
        prompt = _text(check, item, where, "prompt", LIMITS["summary"])
        answer = _text(check, item, where, "answer", MAX_TEXT)
        if prompt and answer:
            follow_ups.append({"prompt": prompt, "answer": answer})
    return follow_ups


def _number(check: _Checker, obj: dict, where: str, name: str) -> float | int | None:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        check.errors.append(f"{where}.{name}: must be a number")
        return None
    if not 0 <= value <= MAX_NUMBER:
        check.errors.append(f"{where}.{name}: must be between 0 and {MAX_NUMBER:g}")
        return None
    return value


def _estimate(check: _Checker, q: dict, path: str, name: str) -> dict | None:
    value = q.get(name)
    where = f"{path}.{name}"
    if not isinstance(value, dict):
        check.errors.append(f"{where}: must be a mapping ({', '.join(ESTIMATE_FIELDS)})")
        return None
    for unknown in sorted(set(map(str, value)) - set(ESTIMATE_FIELDS)):
        check.errors.append(f"{where}.{unknown}: unknown field")
    for field in ESTIMATE_FIELDS:
        if value.get(field) is None:
            check.errors.append(f"{where}.{field}: required")
    prompt = (
        _text(check, value, where, "prompt", LIMITS["summary"]) if value.get("prompt") is not None else None
    )
    unit = value.get("unit")
    if unit is not None and (not isinstance(unit, str) or unit not in UNITS):
        shown = unit if isinstance(unit, str) else type(unit).__name__
        check.errors.append(f"{where}.unit: unknown unit {shown[:20]!r}; use one of {', '.join(UNITS)}")
    numbers = {
        f: _number(check, value, where, f) for f in ("value", "low", "high") if value.get(f) is not None
    }
    if len(numbers) == 3 and None not in numbers.values():
        low, guess, high = numbers["low"], numbers["value"], numbers["high"]
        if low > high:
            check.errors.append(f"{where}.low: must not be above high ({low:g} > {high:g})")
        elif not low <= guess <= high:
            check.errors.append(f"{where}.value: must lie in the accepted range {low:g} to {high:g}")
        elif high == 0:
            check.errors.append(f"{where}.high: must be above 0")
    if prompt is None or not isinstance(unit, str) or unit not in UNITS or None in numbers.values():
        return None
    if len(numbers) < 3:
        return None
    return {
        "prompt": prompt,
        "value": numbers["value"],
        "unit": unit,
        "low": numbers["low"],
        "high": numbers["high"],
    }


# The `exercise` fields, in the order a bank lists them, and how each is checked.
_FIELDS = {
    "platform": lambda check, q, path, name: _text(check, q, path, name, PLATFORM_CHARS),
    "accepted": _accepted,
    "any_order": _flag,
    "exact_whitespace": _flag,
    "run": _run,
    "bug_lines": _bug_lines,
    "solution": _listing,
    "tests": _listing,
    "follow_ups": _follow_ups,
    "estimate": _estimate,
}
