"""The question editor's exercise fields: the form as a bank-format question, checked by the bank
validator (the one rule for what a valid question is), its errors put beside the fields, and the
card preview.

The form holds text (line numbers by commas, accepted outputs split by `---` lines, numbers as
typed); `bank_question` turns it into the dict a bank file holds and `check_question` runs it through
`banks.validate` exactly as an import does, so an editor and a bank file can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from ..banks import points
from ..banks.errors import BankError
from ..banks.formats import question_bank
from ..banks.rules import CODE_CHARS, FOLLOW_UPS, MAX_TEXT, OUTPUT_CHARS
from ..banks.validate import validate
from ..exercises import KINDS, parse_number

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

    from .forms import QuestionForm

OUTPUT_SEPARATOR = "---"  # a line holding only this separates two accepted outputs
ESTIMATE_PARTS = ("prompt", "value", "unit", "low", "high")
LISTINGS = ("code", "solution", "tests")
FLAGS = ("any_order", "exact_whitespace")
# Fields whose text the editor keeps, hidden, while the chosen kind does not use them.
CARRIED = ("code", "language", "platform", "accepted", *FLAGS, "bug_lines", "solution", "tests",
           *(f"estimate_{part}" for part in ESTIMATE_PARTS))  # fmt: skip
_FOLLOW_UP_NAME = re.compile(r"^follow_ups-(\d{1,4})-(prompt|answer)$")
# `sets[0].questions[0].bug_lines[1]: must be …`, `….estimate.low: …`, `….follow_ups[0].answer: …`
_ERROR = re.compile(
    r"^sets\[0\]\.questions\[0\]\.(?P<name>\w+)(?:\[(?P<index>\d+)\])?(?:\.(?P<part>\w+))?: (?P<message>.*)$",
    re.S,
)
MAX_MESSAGES = 5  # per field; the rest are alike
_ITEM_WORDS = {"accepted": "Output", "key_points": "Point", "tags": "Tag", "follow_ups": "Follow-up"}


def unix_newlines(value: str | None) -> str | None:
    """A WTForms filter: browsers send a textarea's lines ending in CRLF; listings count LF lines."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


# -- follow-ups: up to four prompt/answer pairs -------------------------------------------------------


@dataclass
class FollowUpRow:
    """One follow-up pair as the editor shows it, with the problems found in each half."""

    prompt: str = ""
    answer: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        """Nothing typed in either half (such a pair is ignored)."""
        return not self.prompt.strip() and not self.answer.strip()


def follow_up_rows(formdata: MultiDict | None, stored: Any = None) -> list[FollowUpRow]:
    """The pairs sent (`follow_ups-<n>-prompt`/`-answer`, in order of n) or stored, empty pairs left
    out, padded with empty pairs to the most a question may have."""
    if formdata is not None:
        indices = sorted({int(m[1]) for name in formdata if (m := _FOLLOW_UP_NAME.match(name))})
        rows = [
            FollowUpRow(
                unix_newlines(formdata.get(f"follow_ups-{i}-prompt", "")) or "",
                unix_newlines(formdata.get(f"follow_ups-{i}-answer", "")) or "",
            )
            for i in indices
        ]
    else:
        items = stored if isinstance(stored, list) else []
        rows = [
            FollowUpRow(str(item.get("prompt") or ""), str(item.get("answer") or ""))
            for item in items
            if isinstance(item, dict)
        ]
    rows = [row for row in rows if not row.blank]
    return rows + [FollowUpRow() for _ in range(FOLLOW_UPS[1] - len(rows))]


# -- stored question <-> editor text ------------------------------------------------------------------


def _number_text(value: Any) -> str:
    """A stored number as the editor shows it (1000, not 1000.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return "" if value is None else str(value)


def editor_data(question) -> dict:
    """A stored question as the text the editor shows (key points one per line, tags by commas,
    faulty lines by commas, accepted outputs split by `---` lines)."""
    bank = question_bank(question)
    estimate = bank.get("estimate") or {}
    return {
        "key": bank["key"],
        "kind": bank.get("kind", "recall"),
        "prompt": bank["prompt"],
        "answer": bank["answer"],
        "key_points": "\n".join(points.text(p) for p in bank["key_points"]),
        "key_point_terms": terms_text(bank["key_points"]),
        "category": bank["category"],
        "difficulty": str(bank["difficulty"]),
        "tags": ", ".join(bank["tags"]),
        "code": bank.get("code") or "",
        "language": bank.get("language") or "",
        "platform": bank.get("platform") or "",
        "accepted": f"\n{OUTPUT_SEPARATOR}\n".join(bank.get("accepted") or []),
        "any_order": bool(bank.get("any_order")),
        "exact_whitespace": bool(bank.get("exact_whitespace")),
        "bug_lines": ", ".join(str(n) for n in bank.get("bug_lines") or []),
        "solution": bank.get("solution") or "",
        "tests": bank.get("tests") or "",
        **{f"estimate_{part}": _number_text(estimate.get(part)) for part in ESTIMATE_PARTS},
        "follow_ups": bank.get("follow_ups") or [],
    }


# -- the form as a bank-format question ---------------------------------------------------------------


# The editor's terms box: one line per key point, "alternative | alternative ; required: term | term"
# (several "; required:" parts for several groups, each needing one of its terms).
_REQUIRED = re.compile(r"\s*;?\s*required\s*:\s*", re.IGNORECASE)


def terms_text(items: list) -> str:
    """Bank key points' terms as the editor's lines, one per point (empty for a point without terms)."""
    lines = []
    for item in items:
        if not isinstance(item, dict):
            lines.append("")
            continue
        required = item.get("required") or []
        groups = required if required and isinstance(required[0], list) else [required] if required else []
        line = " | ".join(item.get("terms") or [])
        lines.append(line + "".join(f" ; required: {' | '.join(group)}" for group in groups))
    return "\n".join(lines).rstrip("\n")


def _terms(part: str) -> list[str]:
    return [t.strip() for t in part.split("|") if t.strip()]


def point_items(texts: list[str], terms: str | None) -> list:
    """Key points in the bank format, from the editor's points and its terms box (line N: point N)."""
    lines = (terms or "").splitlines()
    items: list = []
    for i, point in enumerate(texts):
        alternatives, *required = _REQUIRED.split(lines[i].strip() if i < len(lines) else "")
        groups = [g for g in (_terms(part) for part in required) if g]
        found = {"terms": _terms(alternatives), "required": groups[0] if len(groups) == 1 else groups}
        found = {k: v for k, v in found.items() if v}
        items.append({"text": point, **found} if found else point)
    return items


def split_outputs(text: str | None) -> list[str]:
    """Accepted outputs typed in one box, separated by lines holding only `---`; empty ones dropped."""
    outputs: list[list[str]] = [[]]
    for line in (text or "").split("\n"):
        if line.strip() == OUTPUT_SEPARATOR:
            outputs.append([])
        else:
            outputs[-1].append(line)
    joined = ("\n".join(lines).strip("\n") for lines in outputs)
    return [output for output in joined if output.strip()]


def parse_lines(text: str | None) -> list[int | str]:
    """Faulty line numbers typed with commas or spaces; what is not a number is kept for the
    validator to name."""
    tokens = [t for t in re.split(r"[\s,;]+", text or "") if t]
    return [int(t) if t.isascii() and t.isdigit() and len(t) <= 18 else t for t in tokens]


def _number(text: str | None) -> float | int | str | None:
    """A number typed into the estimate (None when empty; the text itself when it is not a number)."""
    if not (text or "").strip():
        return None
    number = parse_number(text)
    if number is None:
        return text.strip()[:40]
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _estimate(form: QuestionForm) -> dict:
    """The estimate as a bank file holds it; parts left empty are left out (the validator names them)."""
    estimate: dict[str, Any] = {}
    prompt = (form.estimate_prompt.data or "").strip()
    if prompt:
        estimate["prompt"] = prompt
    if form.estimate_unit.data:
        estimate["unit"] = form.estimate_unit.data
    for part in ("value", "low", "high"):
        number = _number(form[f"estimate_{part}"].data)
        if number is not None:
            estimate[part] = number
    return estimate


def _exercise_field(form: QuestionForm, name: str, stored: dict | None) -> Any:
    """One field a kind adds, as a bank file would hold it; None when left empty."""
    if name in LISTINGS:
        text = form[name].data or ""
        return text if text.strip() else None
    if name in FLAGS:
        return True if form[name].data else None
    if name == "accepted":
        return split_outputs(form.accepted.data) or None
    if name == "bug_lines":
        return parse_lines(form.bug_lines.data) or None
    if name == "follow_ups":
        return [
            {"prompt": r.prompt.strip(), "answer": r.answer.strip()} for r in form.follow_ups if not r.blank
        ]
    if name == "estimate":
        return _estimate(form)
    if name == "run":  # not edited here: how the content tests run a snippet stays as the bank set it
        return (stored or {}).get("run")
    return form[name].data or None  # language, platform


def bank_question(form: QuestionForm, stored: dict | None = None) -> dict:
    """The form as a bank-format question: the common fields and only the fields its kind uses.

    `stored` is the question's stored `exercise` mapping (its `run` settings are kept)."""
    kind = form.kind.data
    difficulty = form.difficulty.data
    question: dict[str, Any] = {
        "key": form.key.data,
        "kind": kind,
        "prompt": form.prompt.data,
        "answer": form.answer.data,
        "key_points": form.point_items(),
        "category": form.category.data,
        "difficulty": int(difficulty) if difficulty in ("1", "2", "3") else difficulty,
        "tags": form.tag_list(),
    }
    for name in KINDS[kind].fields if kind in KINDS else ():
        value = _exercise_field(form, name, stored)
        if value is not None:
            question[name] = value
    return question


# -- validation through the bank validator --------------------------------------------------------------


def validated(question: dict) -> tuple[dict | None, list[str]]:
    """Run one question through the importer's validator: (the clean question, []) or (None, errors)."""
    bank = {
        "role": {"slug": "editor", "title": "Editor"},
        "sets": [{"slug": "editor", "title": "Editor", "questions": [question]}],
    }
    try:
        clean = validate(bank)
    except BankError as exc:
        return None, exc.errors
    return clean["sets"][0]["questions"][0], []


def _sentence(message: str) -> str:
    """A validator message as a sentence, naming other accepted outputs as the editor numbers them."""
    message = "This field is required" if message == "required" else message
    message = re.sub(r"\baccepted\[(\d+)\]", lambda m: f"output {int(m[1]) + 1}", message)
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?")) else message + "."


def _add(target: list[str], message: str) -> None:
    """Add a message once, and at most a few to one field (5,000 bad line numbers make one point)."""
    if message in target or len(target) > MAX_MESSAGES:
        return
    target.append(message if len(target) < MAX_MESSAGES else "There are more problems like these.")


def place_errors(form: QuestionForm, errors: list[str]) -> None:
    """Put each validator error beside the field it names; a field the form checked already keeps
    only the form's own (friendlier) message; anything else goes to the summary."""
    already = {name for name, f in form._fields.items() if f.errors}
    for error in errors:
        match = _ERROR.match(error)
        if not match:
            _add(form.other_errors, error)
            continue
        name, index, part = match["name"], match["index"], match["part"]
        message = _sentence(match["message"])
        if index is not None and name not in ("follow_ups", "estimate"):
            message = _sentence(f"{_ITEM_WORDS.get(name, 'Item')} {int(index) + 1}: {match['message']}")
        if name == "follow_ups":
            rows = form.follow_ups
            if index is not None and part in ("prompt", "answer") and int(index) < len(rows):
                _add(rows[int(index)].errors.setdefault(part, []), message)
            else:
                item = f"Follow-up {int(index) + 1}: " if index is not None else ""
                _add(form.group_errors["follow_ups"], item + message)
        elif name == "estimate":
            if part in ESTIMATE_PARTS:
                _add(form[f"estimate_{part}"].errors, message)
            else:
                _add(form.group_errors["estimate"], message)
        elif name in form._fields and name not in already and name != "csrf_token":
            target = form[name]
            target.errors = list(target.errors)
            _add(target.errors, message)
        elif name not in already:
            _add(form.other_errors, f"{name.replace('_', ' ').capitalize()}: {message}")


def check_question(form: QuestionForm, stored: dict | None = None) -> dict | None:
    """The clean bank-format question when the form passes the bank's rules; else None, with every
    problem placed on the form."""
    clean, errors = validated(bank_question(form, stored))
    place_errors(form, errors)
    return clean


# -- the preview ----------------------------------------------------------------------------------------


def preview_card(form: QuestionForm) -> SimpleNamespace:
    """What a learner would see, from whatever is typed so far (valid or not): the fields of the card
    templates (kind, prompt, code, language, exercise, answer, key points)."""
    kind = form.kind_name
    question = bank_question(form)
    exercise: dict[str, Any] = {
        name: question[name]
        for name in ("platform", "any_order", "exact_whitespace", "solution", "tests", "follow_ups")
        if name in question
    }
    exercise["accepted"] = [output[:OUTPUT_CHARS] for output in question.get("accepted") or []]
    exercise["bug_lines"] = [n for n in question.get("bug_lines") or [] if isinstance(n, int)]
    estimate = question.get("estimate") or {}
    numbers = [estimate.get(part) for part in ("value", "low", "high")]
    exercise["estimate"] = {
        **estimate,
        "complete": all(isinstance(n, int | float) for n in numbers) and "unit" in estimate,
    }
    for name in ("solution", "tests"):
        if name in exercise:
            exercise[name] = exercise[name][:CODE_CHARS]
    difficulty = question["difficulty"]
    return SimpleNamespace(
        kind=kind,
        prompt=(form.prompt.data or "")[:MAX_TEXT],
        answer=(form.answer.data or "")[:MAX_TEXT],
        code=(question.get("code") or "").rstrip()[:CODE_CHARS],
        language=question.get("language") or "text",
        exercise=exercise,
        key_points=form.point_list(),
        category=form.category.data or "",
        difficulty=difficulty if isinstance(difficulty, int) else None,
    )


def carried(form: QuestionForm) -> list[tuple[str, str]]:
    """(name, value) of what was typed into fields the chosen kind does not use, so switching kind
    and back keeps it (sent along hidden, never saved)."""
    uses = KINDS[form.kind_name].fields
    pairs: list[tuple[str, str]] = []
    for name in CARRIED:
        if (name.split("_", 1)[0] if name.startswith("estimate_") else name) in uses:
            continue
        data = form[name].data
        if data:
            pairs.append((name, "y" if name in FLAGS else str(data)))
    if "follow_ups" not in uses:
        for i, row in enumerate(row for row in form.follow_ups if not row.blank):
            pairs += [(f"follow_ups-{i}-prompt", row.prompt), (f"follow_ups-{i}-answer", row.answer)]
    return pairs
