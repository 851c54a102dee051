"""Bank files in YAML, JSON and CSV: read any of them into a validated bank, write a set back out.

The CSV layout is described in banks/csv_bank.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import yaml
from sqlalchemy import false

from ..extensions import db
from ..models import Question, QuestionSet, Role
from . import points
from .csv_bank import MAX_QUESTIONS, csv_error, dump_csv, read_csv
from .errors import BankError
from .parse import MAX_DEPTH, parse, too_deep
from .validate import validate

MAX_BYTES = 1024 * 1024
EXTENSIONS = {"yaml": "yaml", "yml": "yaml", "json": "json", "csv": "csv"}
MEDIA_TYPES = {
    "yaml": "application/yaml; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


def format_for(filename: str) -> str:
    """The bank format a file name stands for (yaml, json or csv); BankError for anything else."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in EXTENSIONS:
        raise BankError([f"{filename}: unsupported file type; use .yaml, .yml, .json or .csv"])
    return EXTENSIONS[ext]


def decode(raw: bytes | str, name: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); BankError for other encodings, NUL or no content."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise BankError([f"{name}: {len(raw):,} bytes; a file may be at most 1 MiB"])
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BankError(
                [f"{name}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 and upload it again"]
            ) from None
    text = raw.removeprefix("\ufeff")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise BankError([f"{name}: line {line} contains a NUL character; this is not a text file"])
    if not text.strip():
        raise BankError([f"{name}: the file is empty"])
    return text


def load(raw: bytes | str, filename: str) -> dict:
    """Read a YAML, JSON or CSV bank (format by file name) and validate it whole, or raise BankError."""
    fmt = format_for(filename)
    text = decode(raw, filename)
    try:
        if fmt == "csv":
            data, rows = read_csv(text, filename)
            try:
                return validate(data)
            except BankError as exc:
                raise BankError([csv_error(e, rows) for e in exc.errors]) from None
        data = _parse_json(text, filename) if fmt == "json" else parse(text, filename)
        _check_count(data, filename)
        return validate(data)
    except RecursionError:
        raise BankError([f"{filename}: nested too deeply to be a bank file"]) from None


def question_count(bank: dict) -> int:
    """Questions in a (validated) bank."""
    return sum(len(s["questions"]) for s in bank["sets"])


def _check_count(data: Any, name: str) -> None:
    """Refuse more than MAX_QUESTIONS before validating, so the error list stays short."""
    sets = data.get("sets") if isinstance(data, dict) else None
    if not isinstance(sets, list):
        return
    count = sum(
        len(s["questions"]) for s in sets if isinstance(s, dict) and isinstance(s.get("questions"), list)
    )
    if count > MAX_QUESTIONS:
        raise BankError([f"{name}: {count:,} questions; a file may hold at most {MAX_QUESTIONS:,}"])


# -- JSON --------------------------------------------------------------------------------------------


class _Pairs(dict):
    """A JSON object that remembers which keys it saw more than once (json keeps only the last)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Pairs:
    """json object_pairs_hook: a dict that lists its repeated keys."""
    obj = _Pairs(pairs)
    seen: set[str] = set()
    obj.duplicates = []
    for key, _ in pairs:
        if key in seen:
            obj.duplicates.append(key)
        seen.add(key)
    return obj


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_json_depth(text: str, name: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH before parsing it: one linear scan of the brackets."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise too_deep(name)
        elif bracket in "]}":
            depth -= 1


def _parse_json(text: str, name: str) -> Any:
    """Parse JSON strictly: syntax errors by line and column, duplicate keys by item and field."""

    def no_constant(value: str) -> None:
        raise ValueError(f"{value} is not allowed")

    check_json_depth(text, name)
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise BankError(
            [f"{name}: JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None
    except ValueError as exc:
        raise BankError([f"{name}: JSON syntax error: {exc}"]) from None
    errors = [f"{path}.{key}: duplicate key" for path, key in _duplicates(data, "bank")]
    if errors:
        raise BankError(errors)
    return data


def _duplicates(value: Any, path: str) -> Iterable[tuple[str, str]]:
    """(item path, key) for every duplicate key, with paths as validate() names items."""
    if isinstance(value, _Pairs):
        for key in value.duplicates:
            yield path, key
        for key, child in value.items():
            child_path = key if path == "bank" else f"{path}.{key}"
            yield from _duplicates(child, child_path)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _duplicates(child, f"{path}[{i}]")


# -- writing -----------------------------------------------------------------------------------------


def set_bank(qset: QuestionSet) -> dict:
    """One set and its role in the bank format, every field included; archived questions are left out."""
    return role_bank(qset.role, [qset])


def role_bank(role: Role, sets: list[QuestionSet] | None = None) -> dict:
    """A role's live sets (or the sets given) in one bank; archived sets and questions are left out."""
    if sets is None:
        sets = list(
            db.session.scalars(
                db.select(QuestionSet)
                .where(QuestionSet.role_id == role.id, QuestionSet.archived == false())
                .order_by(QuestionSet.id)
            )
        )
    questions: dict[int, list[Question]] = {s.id: [] for s in sets}
    for q in db.session.scalars(
        db.select(Question)
        .where(Question.set_id.in_(questions), Question.archived == false())
        .order_by(Question.position, Question.id)
    ):
        questions[q.set_id].append(q)
    return {
        "role": {"slug": role.slug, "title": role.title, "summary": role.summary or ""},
        "sets": [
            {
                "slug": qset.slug,
                "title": qset.title,
                "description": qset.description or "",
                "published": qset.published,
                "questions": [question_bank(q) for q in questions[qset.id]],
            }
            for qset in sets
        ],
    }


def question_bank(q: Question) -> dict:
    """One question in the bank format; a recall card has no exercise fields (as bundled banks)."""
    fields: dict[str, Any] = {"id": q.uid, "key": q.key}
    if q.kind != "recall":
        fields["kind"] = q.kind
    fields["prompt"] = q.prompt
    if q.code is not None:
        fields["code"] = q.code
    if q.language is not None:
        fields["language"] = q.language
    fields.update(q.exercise or {})
    fields.update(
        answer=q.answer,
        key_points=points.join(list(q.key_points), q.key_point_terms),
        category=q.category,
        difficulty=q.difficulty,
        tags=list(q.tags),
    )
    return fields


class _BankDumper(yaml.SafeDumper):
    """YAML that keeps multi-line Markdown readable as literal blocks."""


def _represent_str(dumper: _BankDumper, value: str) -> yaml.ScalarNode:
    """Multi-line text as a literal block."""
    # PyYAML falls back to a quoted style by itself when a literal block cannot hold the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BankDumper.add_representer(str, _represent_str)


def dump(bank: dict, fmt: str, progress: Callable[[int], object] | None = None) -> str:
    """A bank as YAML, JSON or CSV text that load() reads back to the same bank.

    `progress(n)` is called as questions are written (a command-line progress bar).
    """
    if fmt == "csv":
        return dump_csv(bank, progress)
    if fmt == "yaml":
        text = yaml.dump(bank, Dumper=_BankDumper, sort_keys=False, allow_unicode=True, width=100)
    elif fmt == "json":
        text = json.dumps(bank, ensure_ascii=False, indent=2) + "\n"
    else:
        raise ValueError(f"unknown format {fmt!r}")
    if progress is not None:
        progress(question_count(bank))
    return text
