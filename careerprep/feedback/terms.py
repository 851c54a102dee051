"""Key points as the bank gives them, with the author's terms: synonyms, alternatives, required terms.

A bank key point is a string, or a mapping `{text, terms, required}`:

- `terms`, a list read in order: a term whose content words all occur in the point is an anchor, and
  the terms after it are alternatives for those words (["fork", "duplicates itself", "clone"]: either
  counts as "fork"); terms before any anchor stand for the whole point. Or a mapping from words of the
  point to their alternatives ({fork: [duplicates itself, clone]}).
- `required`, a list of terms of which one must occur, affirmed, or a list of such lists (each group
  needs one). Without it the point is not ticked, however many of its other words occur.

A term's words match in order with at most a couple of words between them; articles are ignored and
pronouns match any pronoun of their kind ("on their own" matches "on his own"). A negation inside a
term is part of it: "no copying" matches "no copying at all" but not "copying".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .points import PATH_VARIABLES, Concept, Form, ParsedPoint, content_keys, parse_text, read
from .text import Doc, Token, fold, strip_markdown, words

_PRONOUNS = (words("his her their"), words("he she they"), words("him her them"))  # third person only
_DROPPED_IN_TERMS = words("a an the")
_POLARITY_WORDS = words("not no never without")


@dataclass(frozen=True)
class KeyPoint:
    """One checklist item of a question, with the author's optional terms and required terms.

    Built from the bank shapes (`KeyPoint(text, terms=["fork", "clone"], required=["fork"])`) and kept
    normalised, so it is hashable: `terms` as (anchor, alternatives) pairs, an empty anchor meaning the
    alternatives stand for the whole point; `required` as groups of terms, each group needing one of
    its terms in the answer, affirmed.
    """

    text: str
    terms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    required: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", str(self.text))
        object.__setattr__(self, "terms", _term_groups(self.text, self.terms))
        object.__setattr__(self, "required", _required_groups(self.required))


def key_point(item: KeyPoint | str | Mapping) -> KeyPoint:
    """A bank key point (a string, or {text, terms, required}) as a KeyPoint.

    `terms` may be a list (anchors and alternatives, in order) or a mapping from words of the point to
    their alternatives. `required` may be a list of terms (one of them needed) or a list of such lists.
    """
    if isinstance(item, KeyPoint):
        return item
    if isinstance(item, str):
        return KeyPoint(item)
    return KeyPoint(str(item.get("text", "")), item.get("terms") or (), item.get("required") or ())


def _is_pair(item) -> bool:
    """Whether a terms item is already an (anchor, alternatives) pair."""
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], tuple)


def _term_groups(text: str, terms) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Author terms as (anchor, alternatives) pairs, from a flat list, a mapping or pairs already."""
    if not terms:
        return ()
    if isinstance(terms, Mapping):
        return tuple((str(k), tuple(str(t) for t in _as_list(v))) for k, v in terms.items())
    items = _as_list(terms)
    if all(_is_pair(x) for x in items):
        return tuple(items)
    point_stems = content_keys(text)
    groups: list[tuple[str, list[str]]] = [("", [])]
    for term in (str(t) for t in items):
        stems = content_keys(term)
        if stems and stems <= point_stems:
            groups.append((term, []))
        else:
            groups[-1][1].append(term)
    return tuple((anchor, tuple(alts)) for anchor, alts in groups if alts)


def _required_groups(required) -> tuple[tuple[str, ...], ...]:
    """Required terms as groups: a flat list is one group, a list of lists several."""
    items = _as_list(required)
    if not items:
        return ()
    if all(not isinstance(x, list | tuple) for x in items):
        return (tuple(str(x) for x in items),)
    return tuple(tuple(str(t) for t in _as_list(group)) for group in items)


def _as_list(value) -> list:
    """YAML gives a string, a number, a list or None: always a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def term_form(term: str, neg_window: int) -> Form | None:
    """An author term as one form: its words in order (articles dropped), with their polarity.

    Stopwords stay, so "both ways" and "on their own" keep their meaning; a third-person pronoun
    matches any other ("on their own" matches "on his own"). Negation words become polarity: "no
    copying" matches a denied "copying" only. Variable parts of a path are left out: "/proc/PID/limits"
    matches "/proc/1234/limits".
    """
    doc = read(strip_markdown(term), neg_window)
    units: list[frozenset[str]] = []
    negated: list[bool] = []
    for i, token in enumerate(doc.tokens):
        if token.key in _DROPPED_IN_TERMS or token.key in _POLARITY_WORDS or _path_variable(doc, i):
            continue
        units.append(_unit(token))
        negated.append(doc.negated[i])
    if not units:
        return None
    single = len(doc.tokens) == 1 and doc.tokens[0].kind == "word" and len(doc.tokens[0].raw) >= 6
    adjacent = len(units) > 1 and all(
        doc.text[a.end : b.start] == "-" for a, b in zip(doc.tokens, doc.tokens[1:], strict=False)
    )
    typo = fold(doc.tokens[0].raw) if single else ""
    return Form(tuple(units), tuple(negated), adjacent=adjacent, typo=typo, author=True)


def _path_variable(doc: Doc, i: int) -> bool:
    """Whether token i is the variable part of a path (PID, a number, $pid between slashes)."""
    token = doc.tokens[i]
    before = doc.text[doc.tokens[i - 1].end : token.start] if i else ""
    return before.endswith("/") and (fold(token.raw) in PATH_VARIABLES or token.kind == "num")


def _unit(token: Token) -> frozenset[str]:
    """The keys one word of a term matches."""
    for group in _PRONOUNS:
        if token.key in group:
            return group
    return frozenset({token.key})


def parse(point: KeyPoint, neg_window: int) -> ParsedPoint:
    """Read a key point and its author terms into claims of concepts and required groups."""
    parsed = parse_text(point.text, neg_window)
    _attach_terms(parsed, point.terms, neg_window)
    for group in point.required:
        forms = [f for f in (term_form(t, neg_window) for t in group) if f]
        if forms:
            parsed.required.append(forms)
    return parsed


def _attach_terms(parsed: ParsedPoint, terms: Sequence[tuple[str, Sequence[str]]], neg_window: int) -> None:
    """Add the author's alternatives as forms of the concepts their anchor names (or of all of them).

    When a word occurs twice in the point ("Cannot be killed; ... or be killed"), the anchor's own
    polarity picks the occurrence: "be killed" the affirmed one, "cannot be killed" the denied one.
    """
    concepts = parsed.concepts()
    for anchor, alternatives in terms:
        targets = _anchor_targets(concepts, anchor, neg_window) if anchor else concepts
        forms = [f for f in (term_form(t, neg_window) for t in alternatives) if f]
        for concept in targets:
            concept.forms.extend(forms)
        if anchor:  # a synonym of an example counts as that example
            stems = content_keys(anchor)
            for concept in (c for group in parsed.examples for phrase in group.phrases for c in phrase):
                if concept.stems & stems:
                    concept.forms.extend(forms)


def _anchor_targets(concepts: list[Concept], anchor: str, neg_window: int) -> list[Concept]:
    """The concepts an anchor names, matching polarity where the same word occurs both ways."""
    doc = read(strip_markdown(anchor), neg_window)
    polarity = {k: doc.negated[i] for i, t in enumerate(doc.tokens) if not t.stop for k in (t.key, *t.alts)}
    named = [c for c in concepts if c.stems & polarity.keys()]
    agreeing = [c for c in named if any(polarity.get(k) == c.negated for k in c.stems)]
    return agreeing or named or concepts
