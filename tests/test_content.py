"""The bundled catalogue meets the content standard (docs/CONTENT.md): sizes, shape and no duplicates."""

from __future__ import annotations

import difflib
import itertools
import re
import time
from collections import Counter, defaultdict

import pytest

from careerprep.banks import bundled_files, load_file, seed
from careerprep.extensions import db
from careerprep.models import Question, QuestionSet, Role

ROLE_MINIMUMS = {
    "software-systems-engineer": (150, 12),
    "backend-engineer": (40, 5),
    "sre-devops-engineer": (40, 5),
    "embedded-software-engineer": (40, 5),
    "data-engineer": (40, 5),
    "frontend-engineer": (40, 5),
    "engineering-manager": (40, 5),
}
SSE_CATEGORIES = {
    "Processes, threads and scheduling",
    "Concurrency and synchronization",
    "Memory management",
    "Operating system and kernel internals",
    "Networking",
    "Middleware and IPC",
    "Hardware interfaces and drivers",
    "Performance under load",
    "Reliability and error handling",
    "Debugging and observability",
    "Cross-platform and build",
    "Systems design",
    "Behavioural",
}
STOPWORDS = {
    "a",
    "an",
    "the",
    "of",
    "to",
    "in",
    "and",
    "or",
    "is",
    "what",
    "how",
    "you",
    "your",
    "do",
    "does",
    "would",
    "for",
    "on",
    "with",
    "why",
    "it",
    "be",
    "are",
    "that",
    "this",
    "when",
    "which",
}


def _catalogue() -> list[tuple[str, dict]]:
    """(role slug, question) for every bundled question."""
    out = []
    for path in bundled_files():
        bank = load_file(path)
        for qset in bank["sets"]:
            out.extend((bank["role"]["slug"], q) for q in qset["questions"])
    return out


CATALOGUE = _catalogue()


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower())) - STOPWORDS


def test_every_role_has_enough_questions_and_categories():
    per_role: dict[str, Counter] = defaultdict(Counter)
    for role, q in CATALOGUE:
        per_role[role][q["category"]] += 1
    for role, (min_questions, min_categories) in ROLE_MINIMUMS.items():
        categories = per_role[role]
        assert sum(categories.values()) >= min_questions, role
        assert len(categories) >= max(5, min_categories), role
        thin = {c: n for c, n in categories.items() if n < 3}
        assert not thin, f"{role}: categories with fewer than 3 questions: {thin}"
        assert "Behavioural" in categories, role


def test_systems_engineer_covers_the_named_categories():
    categories = {q["category"] for role, q in CATALOGUE if role == "software-systems-engineer"}
    assert categories >= SSE_CATEGORIES


@pytest.mark.parametrize("role", sorted(ROLE_MINIMUMS))
def test_difficulty_has_a_real_spread(role):
    spread = Counter(q["difficulty"] for r, q in CATALOGUE if r == role)
    total = sum(spread.values())
    for level in (1, 2, 3):
        assert spread[level] / total >= 0.15, (role, spread)


def test_every_question_has_the_expected_shape():
    for role, q in CATALOGUE:
        where = f"{role}/{q['key']}"
        assert 3 <= len(q["key_points"]) <= 6, where
        words = len(q["answer"].split())
        assert 80 <= words <= 250, f"{where}: answer has {words} words"
        assert len(set(map(_normalise, q["key_points"]))) == len(q["key_points"]), where
        assert q["tags"], where
        assert q["prompt"].strip() != q["answer"].strip(), where


def test_behavioural_answers_use_star():
    for _role, q in CATALOGUE:
        if q["category"] == "Behavioural":
            text = q["answer"].lower()
            for part in ("situation", "task", "action", "result"):
                assert part in text, f"{q['key']}: STAR outline lacks {part}"


def test_keys_are_unique_across_the_catalogue():
    keys = Counter(q["key"] for _, q in CATALOGUE)
    assert not {k: n for k, n in keys.items() if n > 1}


def test_no_two_prompts_are_the_same_or_nearly_the_same():
    prompts = [(q["key"], q["prompt"]) for _, q in CATALOGUE]
    normalised = Counter(_normalise(p) for _, p in prompts)
    assert not [p for p, n in normalised.items() if n > 1]
    tokens = {key: _tokens(p) for key, p in prompts}
    near = []
    for (k1, p1), (k2, p2) in itertools.combinations(prompts, 2):
        t1, t2 = tokens[k1], tokens[k2]
        jaccard = len(t1 & t2) / max(1, len(t1 | t2))
        if jaccard >= 0.6:
            near.append((k1, k2, round(jaccard, 2)))
        elif jaccard >= 0.3:  # texts 85% alike by characters share at least this many words in practice
            ratio = difflib.SequenceMatcher(None, _normalise(p1), _normalise(p2)).ratio()
            if ratio >= 0.85:
                near.append((k1, k2, round(ratio, 2)))
    assert not near


def test_seed_loads_the_whole_catalogue_quickly(app):
    # The content issue asks for this bound explicitly; it is generous (seed takes ~1 s here).
    started = time.perf_counter()
    with app.app_context():
        summary = seed()
        elapsed = time.perf_counter() - started
        counts = dict(
            db.session.execute(
                db.select(Role.slug, db.func.count(Question.id))
                .join(QuestionSet, QuestionSet.role_id == Role.id)
                .join(Question, Question.set_id == QuestionSet.id)
                .group_by(Role.slug)
            ).all()
        )
    assert summary.created == len(CATALOGUE)
    for role, (min_questions, _) in ROLE_MINIMUMS.items():
        assert counts[role] >= min_questions
    assert elapsed < 5, f"seed took {elapsed:.2f}s"
