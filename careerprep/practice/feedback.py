"""Feedback on a typed answer at the reveal: the key points the detector finds (pre-ticked, with the
draft's matching words highlighted) and the answer insights. The detector itself is careerprep.feedback
(pure functions); this module feeds it a question, the role's language and the draft, for the drill,
the rating and the mock results.

The detector only pre-ticks: the learner confirms or changes the ticks and the rating follows the
confirmed ones. The rating view recomputes the detection from the draft the form carries, so a posted
"detected" set is never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic

from flask import current_app
from markupsafe import Markup, escape

from ..extensions import db
from ..feedback.insights import Insights, Vocabulary, answer_insights, role_vocabulary
from ..feedback.keypoints import RoleWeights, detect
from ..models import Question
from ..queries import visible_questions

BEHAVIOURAL = "Behavioural"  # the bank category of behavioural questions (STAR structure, not "answer first")
# How long a worker reuses a role's vocabulary before reading its banks again. Building it costs ~1-2 s
# for a role of ~230 questions (tokenizing every text), so it is kept an hour; an import clears it at once
# in the worker that imported, and an admin edit of one question changes it little.
ROLE_LANGUAGE_SECONDS = 3600
MATCHED_WORDS = 6  # at most this many matched words listed under a detected point
_CACHE = "careerprep.role_language"


@dataclass(frozen=True)
class RoleLanguage:
    """What the detector and the insights learn from a role's banks, built once per role."""

    weights: RoleWeights
    vocabulary: Vocabulary


@dataclass(frozen=True)
class AnswerFeedback:
    """What the back of a card shows about a typed answer; plain data and one escaped Markup."""

    detected: list[int]  # indexes of the key points found in the draft (pre-ticked)
    total: int
    matched: dict[int, tuple[str, ...]]  # detected point -> the draft's words that matched, in order
    draft_html: Markup  # the draft, escaped, with the matched words in <mark>
    insights: Insights | None

    @property
    def message(self) -> str:
        """ "We found 3 of 5 key points in your answer — check them"."""
        return f"We found {len(self.detected)} of {self.total} key points in your answer — check them"


def role_language(role_id: int) -> RoleLanguage:
    """The role's word weights and vocabulary, from its visible questions; cached per app and role.

    One query the first time a worker needs a role (and after ROLE_LANGUAGE_SECONDS); none after, so the
    reveal and the rating cost the same however large the banks are. An import clears the cache.
    """
    cache: dict[int, tuple[float, RoleLanguage]] = current_app.extensions.setdefault(_CACHE, {})
    hit = cache.get(role_id)
    if hit is not None and monotonic() - hit[0] < ROLE_LANGUAGE_SECONDS:
        return hit[1]
    rows = db.session.execute(
        visible_questions(role_id).with_only_columns(Question.prompt, Question.answer, Question.key_points)
    ).all()
    # The detector's weights are tuned on prompts and key points (bench/keypoint_eval.py); the insights'
    # vocabulary also reads the model answers.
    weights = RoleWeights.from_texts(f"{prompt}\n{' '.join(points or [])}" for prompt, _a, points in rows)
    vocabulary = role_vocabulary(f"{p}\n{answer}\n{' '.join(points or [])}" for p, answer, points in rows)
    language = RoleLanguage(weights, vocabulary)
    cache[role_id] = (monotonic(), language)
    return language


def forget_role_language() -> None:
    """Drop the cached role vocabularies (after an import changed the banks)."""
    current_app.extensions.pop(_CACHE, None)


def detected_points(question: Question, draft: str | None, language: RoleLanguage | None) -> list[int] | None:
    """The key points the detector finds in the draft, or None when there is no draft to read."""
    if not isinstance(draft, str) or not draft.strip() or not question.key_points:
        return None
    found = detect(draft, question.key_points, question.key_point_terms, role=language and language.weights)
    return [d.index for d in found if d.covered]


def answer_feedback(
    question: Question, draft: str | None, language: RoleLanguage, *, insights: bool = True
) -> AnswerFeedback | None:
    """Detection, highlights and insights for a draft (None without a draft)."""
    if not isinstance(draft, str) or not draft.strip():
        return None
    found = detect(draft, question.key_points, question.key_point_terms, role=language.weights)
    covered = [d for d in found if d.covered]
    matched = {d.index: _words(draft, d.spans) for d in covered}
    spans = [span for d in covered for span in d.spans]
    return AnswerFeedback(
        detected=[d.index for d in covered],
        total=len(question.key_points),
        matched=matched,
        draft_html=highlighted(draft, spans),
        insights=answer_insights(
            draft,
            question.answer,
            language.vocabulary,
            behavioural=question.category == BEHAVIOURAL,
            key_points=question.key_points,
        )
        if insights
        else None,
    )


def _words(draft: str, spans: tuple[tuple[int, int], ...]) -> tuple[str, ...]:
    """The distinct words of the draft at these spans, in the draft's order."""
    seen: dict[str, None] = {}
    for start, end in spans:
        seen.setdefault(draft[start:end], None)
    return tuple(seen)[:MATCHED_WORDS]


def highlighted(draft: str, spans) -> Markup:
    """The draft as escaped markup with the spans in <mark>: built from escaped pieces, never |safe."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        start, end = max(0, min(start, len(draft))), max(0, min(end, len(draft)))
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[Markup] = []
    position = 0
    for start, end in merged:
        pieces.append(escape(draft[position:start]))
        pieces.append(Markup("<mark>{}</mark>").format(draft[start:end]))
        position = end
    pieces.append(escape(draft[position:]))
    return Markup("").join(pieces)
