"""Which key points a learner's answer covers, and which of its words show it.

Public API (pure functions, no app or database):

    detect(answer, points, terms=None, *, role=None) -> list[Detection]

- `answer`: the learner's text, any length (a 20,000-character answer takes a few milliseconds).
- `points`: the question's key points in bank order, each a string, a bank mapping
  `{text, terms, required}` or a `KeyPoint` (see `terms.py` for what terms and required mean).
- `terms`: optional author terms kept apart from the points, point text -> {terms, required}.
- `role`: optional `RoleWeights.from_texts(<one text per question of the role>)`, so words every
  question of the role uses weigh less. Build it once per role and reuse it.

Each `Detection` gives `covered` (pre-tick it), `score` (0 to 1; covered when >= THRESHOLD and every
required group is present) and `spans`, the (start, end) character offsets of the answer's words that
matched, for highlighting. Nothing here judges truth: the score is how much of the point's own
vocabulary (and the author's terms) the answer uses affirmatively, with denied mentions not counted.

How: the answer is tokenized (Snowball stems, code identifiers, numbers with units, flags) and its
denied words marked (`negation.py`). Each point is read into claims, slots ("A or B": either counts)
and concepts (`points.py`) with the author's alternatives (`terms.py`). A concept is credited when one
of its forms occurs with the right polarity. The score is the weighted share of concepts credited,
weights from `weights.py`, lowered when a claim of a compound point ("X; Y", "X, and Y") is missing,
when a point's examples ("such as A or B") are all missing, and for words in a buzzword list.
bench/keypoint_eval.py measures it on a labelled set and chooses THRESHOLD on its tune part.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from .points import Concept, Examples, Form, ParsedPoint, read
from .terms import KeyPoint, key_point, parse
from .text import Doc, fold
from .weights import NO_ROLE, RoleWeights, commonness_weight, is_english_word

__all__ = ["THRESHOLD", "Detection", "KeyPoint", "Params", "RoleWeights", "detect", "key_point"]


@dataclass(frozen=True)
class Detection:
    """Whether the answer covers key point `index`, how strongly, and which of its words matched."""

    index: int
    score: float
    covered: bool
    spans: tuple[tuple[int, int], ...]  # character offsets in the answer, for highlighting


@dataclass(frozen=True)
class Params:
    """The detector's weights (chosen on the tune part of bench/keypoints only)."""

    neg_window: int = 4  # content words after a negation cue that it reaches, within the clause
    code_weight: float = 1.0  # identifiers, numbers and flags, against a rare plain word
    common_power: float = 1.0  # how steeply weight falls for everyday words (0: every word weighs 1)
    idf_floor: float = 0.3  # weight kept by a word every question of the role uses
    shared_decay: float = 0.5  # a concept in k points of the question weighs 1 / k ** decay
    paren_weight: float = 0.5  # a concept inside parentheses
    negated_weight: float = 0.5  # a concept the point itself denies ("not on disk")
    fuzzy_credit: float = 0.8  # credit for a one-typo match of a word of six letters or more
    phrase_gap: int = 2  # words allowed between consecutive words of a multi-word term
    claim_floor: float = 0.34  # a claim of a compound point scoring below this...
    claim_penalty: float = 0.7  # ...multiplies the score by this
    window: int = 2  # sentences in the run the point is looked for in
    window_mix: float = 0.5  # weight of the best run's score against the whole answer's
    required_factor: float = 0.5  # score multiplier when a required group is missing
    example_factor: float = 0.4  # score multiplier when a point's examples ("such as X or Y") are all missing
    contradiction: float = 0.8  # score lost per share of the point's weight the answer only denies
    vague_credit: float = 0.3  # credit for words in a buzzword list ("gcore, symbols, that kind of stuff")


PARAMS = Params()
THRESHOLD = 0.44  # the tune-part choice of bench/keypoint_eval.py (best accuracy at >= 90% precision)


def detect(
    answer: str,
    points: Sequence[KeyPoint | str | Mapping],
    terms: Mapping[str, Mapping] | None = None,
    *,
    role: RoleWeights | None = None,
    threshold: float = THRESHOLD,
    params: Params = PARAMS,
) -> list[Detection]:
    """For each key point, whether the answer covers it, with a score in [0, 1] and the matched spans."""
    items = [_with_terms(key_point(p), terms) for p in points]
    parsed = [_parse(p, params.neg_window) for p in items]
    doc = read(answer or "", params.neg_window)
    shared: dict[str, int] = {}
    for point in parsed:
        for key in {c.key for c in point.concepts()}:
            shared[key] = shared.get(key, 0) + 1
    matcher = _Matcher(doc, params)
    results = []
    for i, point in enumerate(parsed):
        score, positions, gate = _score(point, matcher, shared, role or NO_ROLE, params)
        spans = tuple(sorted({(doc.tokens[p].start, doc.tokens[p].end) for p in positions}))
        results.append(Detection(i, round(score, 4), gate and score >= threshold, spans))
    return results


def _with_terms(point: KeyPoint, terms: Mapping[str, Mapping] | None) -> KeyPoint:
    """The point with the author terms given apart from it (by point text), if any."""
    spec = (terms or {}).get(point.text)
    if not spec:
        return point
    extra = key_point({"text": point.text, **spec})
    return KeyPoint(point.text, point.terms + extra.terms, point.required + extra.required)


@lru_cache(maxsize=4096)
def _parse(point: KeyPoint, neg_window: int) -> ParsedPoint:
    """A key point read once (the drill asks about the same points again and again)."""
    return parse(point, neg_window)


def concept_weight(concept: Concept, role: RoleWeights, params: Params) -> float:
    """How much a concept counts before sharing: rarity in English and in the role, kind, position."""
    if concept.kind == "word":
        weight = commonness_weight(fold(concept.raw), params.common_power)
    else:
        weight = params.code_weight
    weight *= params.idf_floor + (1 - params.idf_floor) * role.idf(concept.key)
    if concept.parenthetical:
        weight *= params.paren_weight
    if concept.negated:
        weight *= params.negated_weight
    return weight


def _score(
    point: ParsedPoint, matcher: _Matcher, shared: dict[str, int], role: RoleWeights, params: Params
) -> tuple[float, set[int], bool]:
    """The point's score, the answer positions that showed it, and whether its required groups are met.

    The score is the better of the whole answer's and the best run of `window` sentences', mixed:
    a point is usually made in one place, and words scattered over a long answer prove less.
    """
    concepts = point.concepts()
    weights = {
        id(c): concept_weight(c, role, params) / shared.get(c.key, 1) ** params.shared_decay for c in concepts
    }
    hits = {id(c): matcher.hits(c) for c in concepts}
    if matcher.vague and not point.listing and params.vague_credit < 1:
        hits = {
            k: [(p, cr * params.vague_credit if p in matcher.vague else cr) for p, cr in h]
            for k, h in hits.items()
        }
    _credit_shared_denials(concepts, hits, matcher)
    overall = _combine(
        point, weights, {k: max((cr for _, cr in h), default=0.0) for k, h in hits.items()}, params
    )
    sentence = matcher.doc.sentence
    best_window = 0.0
    if params.window_mix:
        starts = sorted({sentence[p] for h in hits.values() for p, _ in h})
        for s in starts:
            credit = {
                k: max((cr for p, cr in h if s <= sentence[p] < s + params.window), default=0.0)
                for k, h in hits.items()
            }
            best_window = max(best_window, _combine(point, weights, credit, params))
    score = params.window_mix * best_window + (1 - params.window_mix) * overall
    if params.contradiction:
        score -= params.contradiction * _denied_share(concepts, weights, hits, matcher)
    gate = all(any(matcher.form(form) or matcher.typos(form) for form in group) for group in point.required)
    if not gate:
        score *= params.required_factor
    if not all(_examples_shown(group, point, matcher) for group in point.examples):
        score *= params.example_factor
    positions = {p for h in hits.values() for p, _ in h}
    return max(0.0, min(1.0, score)), positions, gate


def _examples_shown(group: Examples, point: ParsedPoint, matcher: _Matcher) -> bool:
    """Whether the answer gives one of the point's examples, or does not need to.

    An example counts when at least half of its words occur (or an author synonym of it); so does an
    author term of the word the examples illustrate (the author's own instances: "newline" for
    "delimiter"). The examples are not needed when the answer takes another alternative of an "or"
    ("a length prefix or a delimiter such as NDJSON": "a length prefix" is enough).
    """
    if any(2 * sum(1 for c in phrase if matcher.hits(c)) >= len(phrase) for phrase in group.phrases):
        return True
    if any(f.author and (matcher.form(f) or matcher.typos(f)) for f in group.head.forms):
        return True
    for claim in point.claims:
        for slot in claim:
            if any(group.head in alt for alt in slot):
                others = [alt for alt in slot if group.head not in alt]
                return any(all(matcher.hits(c) for c in alt) for alt in others)
    return False


def _credit_shared_denials(concepts: list[Concept], hits: dict[int, list], matcher: _Matcher) -> None:
    """Credit the point's affirmed words that the answer denies together with a word the point denies.

    "A zombie cannot be killed" and "you can't kill a zombie": the answer's "can't" reaches "zombie"
    too, but it denies the killing, which the point also denies, so "zombie" is not contradicted.
    Only words after the cue: "CLOSE_WAIT isn't an application bug" denies all it says.
    """
    scope = matcher.doc.scope
    shared = {scope[p] for c in concepts if c.negated for p, _ in hits[id(c)]} - {0}
    if not shared:
        return
    for c in concepts:
        if not c.negated and not hits[id(c)]:
            hits[id(c)] = [(p, 1.0) for p in matcher.opposite(c) if scope[p] in shared and p >= scope[p]]


def _denied_share(
    concepts: list[Concept], weights: dict[int, float], hits: dict[int, list], matcher: _Matcher
) -> float:
    """Share of the point's weight the answer mentions only with the opposite polarity.

    "The parent directory is not fsynced" is evidence against "needs an fsync of its parent directory",
    not just an absence: the answer talks about the point and denies it. A word the point denies as a
    condition ("spins forever without volatile") is not contradicted by an answer that affirms it.
    """
    denied = sum(
        weights[id(c)] for c in concepts if not c.condition and not hits[id(c)] and matcher.opposite(c)
    )
    mentioned = denied + sum(weights[id(c)] for c in concepts if hits[id(c)])
    return denied / mentioned if mentioned else 0.0


def _combine(
    point: ParsedPoint, weights: dict[int, float], credit: dict[int, float], params: Params
) -> float:
    """Weighted share of the point's concepts credited: the best alternative of each slot, per claim."""
    claim_scores: list[tuple[float, float]] = []
    for claim in point.claims:
        total = got = 0.0
        for slot in claim:
            slot_weight = best = 0.0
            for alternative in slot:
                weight = sum(weights[id(c)] for c in alternative)
                found = sum(weights[id(c)] * credit[id(c)] for c in alternative)
                slot_weight = max(slot_weight, weight)
                best = max(best, found / weight if weight else 0.0)
            total += slot_weight
            got += best * slot_weight
        claim_scores.append((total, got / total if total else 0.0))
    grand = sum(total for total, _ in claim_scores)
    score = sum(total * s for total, s in claim_scores) / grand if grand else 0.0
    if len(claim_scores) > 1 and min(s for _, s in claim_scores) < params.claim_floor:
        score *= params.claim_penalty
    return score


class _Matcher:
    """Finds forms in one answer, caching what it found (points of a question share concepts)."""

    def __init__(self, doc: Doc, params: Params) -> None:
        self.doc = doc
        self.params = params
        self._forms: dict[Form, list[int]] = {}
        self._words: dict[str, dict[str, list[int]]] | None = None
        self.vague = _vague_positions(doc)

    def hits(self, concept: Concept) -> list[tuple[int, float]]:
        """Where the answer shows a concept: (position, credit), 1 for a form, less for a typo."""
        found: dict[int, float] = {}
        for form in concept.forms:
            for p in self.form(form):
                found[p] = 1.0
            if form.typo:
                for p in self.typos(form):
                    found.setdefault(p, self.params.fuzzy_credit)
        return list(found.items())

    def opposite(self, concept: Concept) -> list[int]:
        """Positions where the answer mentions the concept with the other polarity (a denied "fsync")."""
        flipped = (replace(f, negated=tuple(not n for n in f.negated)) for f in concept.forms)
        return sorted({p for f in flipped for p in self.form(f)})

    def form(self, form: Form) -> list[int]:
        """Positions of every occurrence of the form with the right polarity (empty if none)."""
        if form not in self._forms:
            self._forms[form] = self._find(form)
        return self._forms[form]

    def _find(self, form: Form) -> list[int]:
        doc, negated = self.doc, self.doc.negated
        gap = 0 if form.adjacent else self.params.phrase_gap
        starts = sorted({p for key in form.units[0] for p in doc.positions(key)})
        found: list[int] = []
        for p in starts:
            if negated[p] != form.negated[0]:
                continue
            run = [p]
            for unit, polarity in zip(form.units[1:], form.negated[1:], strict=True):
                q = self._next(unit, run[-1], gap)
                if q is None or negated[q] != polarity:
                    break
                run.append(q)
            else:
                found.extend(run)
        if len(form.units) == 1:  # "wake up" for "wakeup"
            for key in form.units[0]:
                for p in doc.joined.get(key, ()):
                    if negated[p] == form.negated[0]:
                        found.extend((p, p + 1))
        return found

    def _next(self, unit: frozenset[str], after: int, gap: int) -> int | None:
        """The first position after `after`, at most `gap` words on, holding one of the unit's keys."""
        best = None
        for key in unit:
            positions = self.doc.positions(key)
            k = bisect_left(positions, after + 1)
            if (
                k < len(positions)
                and positions[k] <= after + 1 + gap
                and (best is None or positions[k] < best)
            ):
                best = positions[k]
        return best

    def typos(self, form: Form) -> list[int]:
        """Positions of misspelt answer words one typo away from the form's word (same first letter).

        Polarity must agree too.

        Only words missing from the everyday-English lists count: "closed" is not a typo of "closer".
        """
        if not form.typo:
            return []
        if self._words is None:
            self._words = {}
            for i, token in enumerate(self.doc.tokens):
                low = fold(token.raw)
                if token.kind == "word" and len(low) >= 5 and low.isalpha() and not is_english_word(low):
                    self._words.setdefault(low[0], {}).setdefault(low, []).append(i)
        word = form.typo
        hits = [
            p
            for other, positions in self._words.get(word[:1], {}).items()
            if abs(len(other) - len(word)) <= 1 and _one_edit(word, other)
            for p in positions
            if self.doc.negated[p] == form.negated[0]
        ]
        return sorted(hits)


_VAGUE_LIST = re.compile(
    r"\b(?:that|this) (?:kind|sort) of (?:stuff|thing)s?\b|\bstuff like that\b|\bthings like that\b"
    r"|\band (?:so on|stuff|whatnot|all that)\b|(?<![/\w])etc\b(?!/)",
    re.IGNORECASE,
)


def _vague_positions(doc: Doc) -> frozenset[int]:
    """Positions of the words in a sentence that trails off into "that kind of stuff" or "etc.".

    Such a sentence names things without saying anything about them (labelling rule 8: "gcore,
    symbols, build IDs, that kind of stuff" credits nothing), so its words prove less.
    """
    if not doc.tokens or not _VAGUE_LIST.search(doc.text):
        return frozenset()
    starts = [t.start for t in doc.tokens]
    sentences = {
        doc.sentence[max(0, bisect_right(starts, m.start()) - 1)] for m in _VAGUE_LIST.finditer(doc.text)
    }
    return frozenset(i for i, s in enumerate(doc.sentence) if s in sentences)


def _one_edit(a: str, b: str) -> bool:
    """Whether two different words are one insertion, deletion, substitution or swap apart."""
    if a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i + 2 :] == b[i + 2 :] and a[i : i + 2] == b[i : i + 2][::-1])
    return a[i:] == b[i + 1 :]
