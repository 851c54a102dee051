"""Dry run: what importing a validated bank would change, compared with the database.

The comparison follows import_bank() exactly, so the counts here are the counts an import reports:
a question is new (its key is not in the set), changed (any copied field differs, listed by name),
or unchanged. Live questions in the database but not in the file are "missing": imports never
delete or archive them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from .. import audit
from ..extensions import db
from ..models import Question, QuestionSet, Role
from .kinds import columns
from .rules import QUESTION_COPY

FIELD_LABELS = {"position": "order", "key_point_terms": "key point terms"}


@dataclass
class QuestionDiff:
    key: str
    prompt: str
    fields: list[str] = field(default_factory=list)  # changed fields (empty for new and unchanged)
    archived: bool = False  # in the database but archived: the import updates it, it stays archived


@dataclass
class SetDiff:
    slug: str
    title: str
    is_new: bool
    published: bool  # what the set will be after the import
    archived: bool = False
    fields: list[str] = field(default_factory=list)  # set fields that change (title, description)
    published_ignored: bool = False  # the file says otherwise, but imports keep an existing set's status
    new: list[QuestionDiff] = field(default_factory=list)
    changed: list[QuestionDiff] = field(default_factory=list)
    unchanged: list[QuestionDiff] = field(default_factory=list)
    missing: list[QuestionDiff] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        """True if importing this set writes anything."""
        return self.is_new or bool(self.fields or self.new or self.changed)


@dataclass
class BankDiff:
    role_slug: str
    role_title: str
    role_is_new: bool
    role_fields: list[str] = field(default_factory=list)
    sets: list[SetDiff] = field(default_factory=list)

    def count(self, kind: str) -> int:
        """Questions of one kind (new, changed, unchanged, missing) over all sets."""
        return sum(len(getattr(s, kind)) for s in self.sets)

    @property
    def counts(self) -> dict[str, int]:
        """Totals for the summary line and the audit log."""
        return {
            "new": self.count("new"),
            "changed": self.count("changed"),
            "unchanged": self.count("unchanged"),
            "missing": self.count("missing"),
            "new_sets": sum(s.is_new for s in self.sets),
            "new_roles": int(self.role_is_new),
        }

    @property
    def has_changes(self) -> bool:
        """True if importing the bank writes anything."""
        return self.role_is_new or bool(self.role_fields) or any(s.has_changes for s in self.sets)

    def summary(self) -> str:
        """One line: the counts in words."""
        c = self.counts
        text = (
            f"{c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged, "
            f"{c['missing']} missing from the file"
        )
        extras = [f"{c['new_sets']} new set{'s' * (c['new_sets'] != 1)}"] if c["new_sets"] else []
        if c["new_roles"]:
            extras.insert(0, "a new role")
        return text + (f" ({', '.join(extras)})" if extras else "")

    def lines(self) -> list[str]:
        """The diff as plain text lines (the command line's output)."""
        state = "new role" if self.role_is_new else "existing role"
        if self.role_fields:
            state += f"; changes {', '.join(self.role_fields)}"
        out = [f"Role {self.role_slug} ({self.role_title}): {state}"]
        for s in self.sets:
            label = "new set" if s.is_new else "set"
            out.append(
                f"  {label} {s.slug} ({s.title}): {len(s.new)} new, {len(s.changed)} changed, "
                f"{len(s.unchanged)} unchanged, {len(s.missing)} missing"
            )
            if s.fields:
                out.append(f"    set fields that change: {', '.join(s.fields)}")
            if s.published_ignored:
                out.append("    published differs from the database; imports keep an existing set's status")
            out.extend(f"    new: {q.key}" for q in s.new)
            out.extend(f"    changed: {q.key} ({', '.join(q.fields)})" for q in s.changed)
            out.extend(f"    missing: {q.key} (kept; imports never delete)" for q in s.missing)
        out.append(f"Total: {self.summary()}")
        return out


def changed_fields(question: Question, qdata: dict) -> list[str]:
    """The fields an import would change on a stored question, exercise fields named one by one."""
    fields = []
    for name in QUESTION_COPY:
        stored, incoming = getattr(question, name), qdata[name]
        if stored == incoming:
            continue
        if name == "exercise":
            stored, incoming = stored or {}, incoming or {}
            fields.extend(k for k in {**stored, **incoming} if stored.get(k) != incoming.get(k))
        else:
            fields.append(FIELD_LABELS.get(name, name))
    return fields


def diff_bank(bank: dict, session: Session | None = None) -> BankDiff:
    """Compare a validated bank with the database; reads only (three queries), writes nothing."""
    session = session or db.session
    role_data = bank["role"]
    role = session.scalar(db.select(Role).filter_by(slug=role_data["slug"]))
    result = BankDiff(role_slug=role_data["slug"], role_title=role_data["title"], role_is_new=role is None)
    existing_sets: dict[str, QuestionSet] = {}
    questions: dict[int | str, dict[str, Question]] = {}
    if role is not None:
        if role.title != role_data["title"]:
            result.role_fields.append("title")
        if role_data["summary"] and role.summary != role_data["summary"]:
            result.role_fields.append("summary")  # an empty summary in the file keeps the stored one
        stored_sets = session.scalars(db.select(QuestionSet).filter_by(role_id=role.id))
        existing_sets = {s.slug: s for s in stored_sets}
        set_ids = [s.id for s in existing_sets.values()]
        if set_ids:
            for q in session.scalars(db.select(Question).where(Question.set_id.in_(set_ids))):
                questions.setdefault(q.set_id, {})[q.key] = q
    renamed = _adopt_by_id(bank, existing_sets, questions)
    for set_data in bank["sets"]:
        qset = existing_sets.get(set_data["slug"])
        sd = SetDiff(
            slug=set_data["slug"],
            title=set_data["title"],
            is_new=qset is None,
            published=set_data["published"] if qset is None else qset.published,
        )
        result.sets.append(sd)
        stored = questions.get(_set_key(set_data["slug"], existing_sets), {})
        if qset is not None:
            sd.archived = qset.archived
            sd.fields = [f for f in ("title", "description") if getattr(qset, f) != set_data[f]]
            sd.published_ignored = qset.published != set_data["published"]
        keys = [q["key"] for q in set_data["questions"]]
        place = positions(keys, stored)
        place_in_file = set(keys)
        for qdata in set_data["questions"]:
            qdata = {**qdata, **columns(qdata), "position": place[qdata["key"]]}
            question = stored.get(qdata["key"])
            item = QuestionDiff(key=qdata["key"], prompt=qdata["prompt"])
            if question is None:
                sd.new.append(item)
                continue
            item.archived = question.archived
            item.fields = renamed.get(question.id, []) + changed_fields(question, qdata)
            (sd.changed if item.fields else sd.unchanged).append(item)
        for key, question in sorted(stored.items(), key=lambda kv: (kv[1].position, kv[1].id)):
            if key not in place_in_file and not question.archived:
                sd.missing.append(QuestionDiff(key=key, prompt=question.prompt))
    return result


def _set_key(slug: str, sets: dict[str, QuestionSet]) -> int | str:
    """The key of a file's set in the stored questions: its id, or its slug while it is still new."""
    return sets[slug].id if slug in sets else f"new:{slug}"


def _adopt_by_id(
    bank: dict, sets: dict[str, QuestionSet], questions: dict[int | str, dict[str, Question]]
) -> dict[int, list[str]]:
    """As importing does: a file question whose `id` is a stored question of the role is that
    question, under its new key and set. Moves them in `questions`; returns {id: ["key", "set"]}."""
    by_uid = {q.uid: (set_key, q) for set_key, qs in questions.items() for q in qs.values()}
    renamed: dict[int, list[str]] = {}
    for set_data in bank["sets"]:
        target = _set_key(set_data["slug"], sets)
        for qdata in set_data["questions"]:
            source, question = by_uid.get(qdata.get("id") or "", (None, None))
            if question is None or (source == target and question.key == qdata["key"]):
                continue
            del questions[source][question.key]
            questions.setdefault(target, {})[qdata["key"]] = question
            renamed[question.id] = [
                name
                for name, differs in (("key", question.key != qdata["key"]), ("set", source != target))
                if differs
            ]
    return renamed


def positions(file_keys: list[str], stored: dict[str, Question]) -> dict[str, int]:
    """Each question's place in its set after an import: the file's order, with every stored question
    the file leaves out (a CSV carries only some kinds, an admin trimmed the file) kept right after the
    question it followed, so a partial file never reshuffles the set."""
    order = list(file_keys)
    placed = set(order)
    previous: str | None = None
    for key, _question in sorted(stored.items(), key=lambda kv: (kv[1].position, kv[1].id)):
        if key not in placed:
            order.insert(order.index(previous) + 1 if previous is not None else 0, key)
            placed.add(key)
        previous = key
    return {key: index for index, key in enumerate(order)}


def record_import(changes: BankDiff, filename: str, fmt: str) -> None:
    """One audit row for an applied import, with its counts (the signed-in admin, or "system")."""
    role = db.session.scalar(db.select(Role).filter_by(slug=changes.role_slug))
    audit.record(
        "bank.import",
        role,
        f"Imported {filename}: {changes.summary()}",
        file=filename,
        format=fmt,
        sets=[s.slug for s in changes.sets],
        **changes.counts,
    )
