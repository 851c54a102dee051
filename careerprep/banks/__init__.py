"""Question banks: parse and validate whole files, then import them in one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Question, QuestionSet, Role

BANK_DIR = Path(__file__).resolve().parent
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LIMITS = {"slug": 80, "title": 120, "key": 120, "category": 120, "tag": 40}
QUESTION_FIELDS = {"key", "prompt", "answer", "key_points", "category", "difficulty", "tags"}
SET_FIELDS = {"slug", "title", "description", "published", "questions"}
ROLE_FIELDS = {"slug", "title", "summary"}
MAX_TEXT = 20_000


class BankError(Exception):
    """A bank file that is not valid; `errors` lists every problem by item and field."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load that refuses duplicate mapping keys instead of keeping the last one."""


class _FastUniqueKeyLoader(getattr(yaml, "CSafeLoader", _UniqueKeyLoader)):
    """The same on libyaml's parser when PyYAML has it (its wheels do): a 2,000-question file parses
    in 0.3 s instead of 2 s. Construction stays PyYAML's safe constructor."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FastUniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


MAX_DEPTH = 32  # a bank is 5 levels deep; anything far deeper is not a bank file
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def too_deep(name: str) -> BankError:
    """The error for a file nested deeper than any bank."""
    return BankError([f"{name}: nested more than {MAX_DEPTH} levels deep; this is not a bank file"])


def check_depth(raw: str, name: str) -> None:
    """Refuse YAML nested deeper than MAX_DEPTH before building anything from it.

    PyYAML builds nested nodes by recursion in C, which overflows the stack (the worker dies with
    SIGSEGV) at 20-40 thousand levels, before Python's RecursionError could be caught. libyaml's event
    stream is a loop, so counting open collections on it is safe and cheap (about a quarter of the
    parse itself); a syntax error is left for the parse to report with its position.
    """
    depth = 0
    try:
        for event in yaml.parse(raw, Loader=_FAST_LOADER):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise too_deep(name)
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.YAMLError:
        return


def parse(raw: bytes | str, name: str = "bank") -> Any:
    """Parse YAML (a superset of JSON) safely; raise BankError on bad encoding, depth or syntax."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BankError([f"{name}: not UTF-8 text (byte {exc.start})"]) from None
    check_depth(raw, name)
    try:
        return yaml.load(raw, Loader=_FastUniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError:
        pass
    try:
        # Parse a broken file again for the message: the pure-Python parser points at the mistake
        # itself, where libyaml often points at the end of the file.
        return yaml.load(raw, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BankError([f"{name}: YAML syntax error{where}: {problem}"]) from None


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
    clean_sets: list[dict] = []
    if not isinstance(sets, list) or not sets:
        check.errors.append("sets: required (a non-empty list)")
        sets = []
    set_slugs: dict[str, int] = {}
    for si, qset in enumerate(sets):
        path = f"sets[{si}]"
        if not check.mapping(qset, path, SET_FIELDS):
            continue
        slug = check.slug(qset, path, "slug")
        if slug in set_slugs:
            check.errors.append(f"{path}.slug: duplicate of sets[{set_slugs[slug]}]")
        set_slugs.setdefault(slug, si)
        published = qset.get("published", True)
        if not isinstance(published, bool):
            check.errors.append(f"{path}.published: must be true or false")
        clean_set = {
            "slug": slug,
            "title": check.text(qset, path, "title", limit=LIMITS["title"]),
            "description": check.text(qset, path, "description", required=False),
            "published": published is not False,
            "questions": [],
        }
        questions = qset.get("questions")
        if not isinstance(questions, list) or not questions:
            check.errors.append(f"{path}.questions: required (a non-empty list)")
            questions = []
        keys: dict[str, int] = {}
        for qi, q in enumerate(questions):
            qpath = f"{path}.questions[{qi}]"
            if not check.mapping(q, qpath, QUESTION_FIELDS):
                continue
            key = check.slug(q, qpath, "key") if "key" in q else ""
            if "key" not in q:
                check.errors.append(f"{qpath}.key: required")
            if key in keys:
                check.errors.append(f"{qpath}.key: duplicate of {path}.questions[{keys[key]}]")
            keys.setdefault(key, qi)
            difficulty = q.get("difficulty")
            if difficulty is None:
                check.errors.append(f"{qpath}.difficulty: required")
            elif isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
                check.errors.append(f"{qpath}.difficulty: must be 1, 2 or 3")
            clean_set["questions"].append(
                {
                    "key": key,
                    "prompt": check.text(q, qpath, "prompt"),
                    "answer": check.text(q, qpath, "answer"),
                    "key_points": check.string_list(q, qpath, "key_points", low=3, high=6, limit=300),
                    "category": check.text(q, qpath, "category", limit=LIMITS["category"]),
                    "difficulty": difficulty,
                    "tags": check.string_list(q, qpath, "tags", low=0, high=12, limit=LIMITS["tag"]),
                }
            )
        clean_sets.append(clean_set)
    if check.errors:
        raise BankError(check.errors)
    return {"role": clean_role, "sets": clean_sets}


def load_file(path: Path) -> dict:
    """Parse and validate one bank file, naming the file in every error."""
    try:
        return validate(parse(path.read_bytes(), path.name))
    except BankError as exc:
        raise BankError([e if e.startswith(path.name) else f"{path.name}: {e}" for e in exc.errors]) from None


@dataclass
class ImportSummary:
    roles: int = 0
    sets_created: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{self.created} questions added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.sets_created} new sets"
        )


QUESTION_COPY = ("prompt", "answer", "key_points", "category", "difficulty", "tags", "position")


def import_bank(
    bank: dict, session: Session | None = None, summary: ImportSummary | None = None
) -> ImportSummary:
    """Upsert a validated bank by slug and key, keeping question ids (and so everyone's progress).

    The caller commits, so several banks can share one transaction.
    """
    session = session or db.session
    summary = summary or ImportSummary()
    role_data = bank["role"]
    role = session.scalar(db.select(Role).filter_by(slug=role_data["slug"]))
    if role is None:
        role = Role(slug=role_data["slug"], title=role_data["title"], summary=role_data["summary"])
        session.add(role)
        session.flush()
        summary.roles += 1
    else:
        role.title = role_data["title"]
        if role_data["summary"]:
            role.summary = role_data["summary"]
    existing_sets = {s.slug: s for s in session.scalars(db.select(QuestionSet).filter_by(role_id=role.id))}
    for set_data in bank["sets"]:
        qset = existing_sets.get(set_data["slug"])
        if qset is None:
            qset = QuestionSet(role_id=role.id, slug=set_data["slug"], published=set_data["published"])
            session.add(qset)
            summary.sets_created += 1
        qset.title = set_data["title"]
        qset.description = set_data["description"]
        session.flush()
        existing = {q.key: q for q in session.scalars(db.select(Question).filter_by(set_id=qset.id))}
        for position, qdata in enumerate(set_data["questions"]):
            qdata = {**qdata, "position": position}
            question = existing.get(qdata["key"])
            if question is None:
                session.add(
                    Question(set_id=qset.id, key=qdata["key"], **{f: qdata[f] for f in QUESTION_COPY})
                )
                summary.created += 1
            elif any(getattr(question, f) != qdata[f] for f in QUESTION_COPY):
                for f in QUESTION_COPY:
                    setattr(question, f, qdata[f])
                summary.updated += 1
            else:
                summary.unchanged += 1
    session.flush()
    return summary


def bundled_files(directory: Path = BANK_DIR) -> list[Path]:
    """The bundled bank files, in a stable order."""
    return sorted(directory.glob("*.yaml"))


def seed(directory: Path = BANK_DIR) -> ImportSummary:
    """Load every bank file in `directory` in one transaction; nothing is written if any is invalid."""
    banks, errors = [], []
    for path in bundled_files(directory):
        try:
            banks.append(load_file(path))
        except BankError as exc:
            errors.extend(exc.errors)
    if errors:
        raise BankError(errors)
    summary = ImportSummary()
    try:
        for bank in banks:
            import_bank(bank, summary=summary)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return summary
