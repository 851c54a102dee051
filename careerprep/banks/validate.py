"""Validating a parsed bank whole: every problem named by item and field, nothing half-checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exercises import EXERCISE_FIELDS, KINDS
from .errors import BankError
from .kinds import exercise
from .parse import parse
from .points import check_points
from .rules import (
    DIFFICULTIES,
    KEY_POINTS,
    LIMITS,
    MAX_TAGS,
    MAX_TEXT,
    SLUG_RE,
    UID_RE,
    relative_images,
)

QUESTION_FIELDS = {
    "id",
    "key",
    "prompt",
    "answer",
    "key_points",
    "category",
    "difficulty",
    "tags",
    *EXERCISE_FIELDS,
}
SET_FIELDS = {"slug", "title", "description", "published", "questions"}
ROLE_FIELDS = {"slug", "title", "summary"}


@dataclass
class _Checker:
    errors: list[str] = field(default_factory=list)

    def text(self, obj: dict, path: str, name: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
        value = obj.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.errors.append(f"{path}.{name}: required")
            return ""
        if not isinstance(value, str):
            self.errors.append(f"{path}.{name}: must be text")
            return ""
        value = value.strip()
        if len(value) > limit:
            self.errors.append(f"{path}.{name}: longer than {limit} characters")
        return value

    def slug(self, obj: dict, path: str, name: str) -> str:
        value = self.text(obj, path, name, limit=LIMITS["slug"])
        if value and not SLUG_RE.match(value):
            self.errors.append(f"{path}.{name}: use lowercase letters, digits and hyphens")
        return value

    def mapping(self, obj: Any, path: str, allowed: set[str]) -> bool:
        if not isinstance(obj, dict):
            self.errors.append(f"{path}: must be a mapping")
            return False
        for unknown in sorted(set(map(str, obj)) - allowed):
            self.errors.append(f"{path}.{unknown}: unknown field")
        return True

    def string_list(self, obj: dict, path: str, name: str, *, low: int, high: int, limit: int) -> list[str]:
        value = obj.get(name, [] if low == 0 else None)
        if value is None:
            self.errors.append(f"{path}.{name}: required")
            return []
        if not isinstance(value, list):
            self.errors.append(f"{path}.{name}: must be a list")
            return []
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.errors.append(f"{path}.{name}[{i}]: must be non-empty text")
            elif len(item.strip()) > limit:
                self.errors.append(f"{path}.{name}[{i}]: longer than {limit} characters")
            else:
                items.append(item.strip())
        if not low <= len(value) <= high:
            self.errors.append(f"{path}.{name}: needs {low} to {high} items, got {len(value)}")
        return items


def validate(data: Any) -> dict:
    """Check a whole bank; return it cleaned, or raise BankError listing every problem."""
    check = _Checker()
    if not check.mapping(data, "bank", {"role", "sets"}):
        raise BankError(["bank: must be a mapping with `role` and `sets`"])
    role = data.get("role")
    clean_role: dict = {}
    if role is None:
        check.errors.append("role: required")
    elif check.mapping(role, "role", ROLE_FIELDS):
        clean_role = {
            "slug": check.slug(role, "role", "slug"),
            "title": check.text(role, "role", "title", limit=LIMITS["title"]),
            "summary": check.text(role, "role", "summary", required=False),
        }
    sets = data.get("sets")
    if not isinstance(sets, list) or not sets:
        check.errors.append("sets: required (a non-empty list)")
        sets = []
    clean_sets: list[dict] = []
    set_slugs: dict[str, int] = {}
    set_titles: dict[str, int] = {}
    ids: dict[str, str] = {}
    for si, qset in enumerate(sets):
        clean = _set(check, qset, f"sets[{si}]")
        if clean is None:
            continue
        if clean["slug"] in set_slugs:
            check.errors.append(f"sets[{si}].slug: duplicate of sets[{set_slugs[clean['slug']]}]")
        set_slugs.setdefault(clean["slug"], si)
        # Anki names a set's deck by its title: one title for two sets would merge their decks.
        title = clean["title"].casefold()
        if title and title in set_titles:
            check.errors.append(f"sets[{si}].title: duplicate of sets[{set_titles[title]}]")
        set_titles.setdefault(title, si)
        for qi, question in enumerate(clean["questions"]):
            if question.get("id") in ids:
                check.errors.append(f"sets[{si}].questions[{qi}].id: duplicate of {ids[question['id']]}")
            elif question.get("id"):
                ids[question["id"]] = f"sets[{si}].questions[{qi}]"
        clean_sets.append(clean)
    if check.errors:
        raise BankError(check.errors)
    return {"role": clean_role, "sets": clean_sets}


def _set(check: _Checker, qset: Any, path: str) -> dict | None:
    """One set, cleaned (None if it is not a mapping); problems go to `check.errors`."""
    if not check.mapping(qset, path, SET_FIELDS):
        return None
    published = qset.get("published", True)
    if not isinstance(published, bool):
        check.errors.append(f"{path}.published: must be true or false")
    clean = {
        "slug": check.slug(qset, path, "slug"),
        "title": check.text(qset, path, "title", limit=LIMITS["title"]),
        "description": check.text(qset, path, "description", required=False),
        "published": published is not False,
        "questions": [],
    }
    if "::" in clean["title"]:
        check.errors.append(f"{path}.title: must not contain '::' (Anki would make it a nested deck)")
    questions = qset.get("questions")
    if not isinstance(questions, list) or not questions:
        check.errors.append(f"{path}.questions: required (a non-empty list)")
        questions = []
    keys: dict[str, int] = {}
    for qi, q in enumerate(questions):
        qpath = f"{path}.questions[{qi}]"
        question = _question(check, q, qpath)
        if question is None:
            continue
        if question["key"] in keys:
            check.errors.append(f"{qpath}.key: duplicate of {path}.questions[{keys[question['key']]}]")
        keys.setdefault(question["key"], qi)
        clean["questions"].append(question)
    return clean


def _question(check: _Checker, q: Any, path: str) -> dict | None:
    """One question, cleaned (None if it is not a mapping); problems go to `check.errors`."""
    if not check.mapping(q, path, QUESTION_FIELDS):
        return None
    key = check.slug(q, path, "key") if "key" in q else ""
    if "key" not in q:
        check.errors.append(f"{path}.key: required")
    difficulty = q.get("difficulty")
    if difficulty is None:
        check.errors.append(f"{path}.difficulty: required")
    elif isinstance(difficulty, bool) or difficulty not in DIFFICULTIES:
        check.errors.append(f"{path}.difficulty: must be 1, 2 or 3")
    kind, fields = exercise(check, q, path)
    low, high = KINDS[kind].key_points or KEY_POINTS
    prompt = check.text(q, path, "prompt")
    answer = check.text(q, path, "answer")
    for name, value in (("prompt", prompt), ("answer", answer)):
        for src in relative_images(value):
            check.errors.append(
                f"{path}.{name}: image {src!r} is not an http(s) address; link a hosted image"
            )
    uid = check.text(q, path, "id", required=False, limit=LIMITS["uid"])
    if uid and not UID_RE.match(uid):
        check.errors.append(f"{path}.id: use 8 to 64 letters, digits, hyphens or underscores")
    return {
        **({"id": uid} if uid else {}),
        "key": key,
        **({"kind": kind} if kind != "recall" else {}),
        "prompt": prompt,
        **{name: value for name, value in fields.items() if name != "kind"},
        "answer": answer,
        "key_points": check_points(check, q, path, low=low, high=high),
        "category": check.text(q, path, "category", limit=LIMITS["category"]),
        "difficulty": difficulty,
        "tags": check.string_list(q, path, "tags", low=0, high=MAX_TAGS, limit=LIMITS["tag"]),
    }


def load_file(path: Path) -> dict:
    """Parse and validate one bank file, naming the file in every error."""
    try:
        return validate(parse(path.read_bytes(), path.name))
    except BankError as exc:
        raise BankError([e if e.startswith(path.name) else f"{path.name}: {e}" for e in exc.errors]) from None
