"""Answer insights shown beside the draft after the reveal, in plain words (never a score out of 100).

Public API (pure functions, no app or database):

    role_vocabulary(texts, *, min_questions=2, max_share=0.25) -> dict[str, str]
    answer_insights(draft, model_answer, vocabulary, *, behavioural, key_points=(), limit=8) -> Insights

- `texts`: one text per question of the role (prompt, model answer and key points); build the
  vocabulary once per role. It maps a match key to how the term is displayed.
- `draft`: the learner's answer; `model_answer`: the bank's (Markdown is stripped); `behavioural`: the
  question is a behavioural one (STAR parts instead of "direct answer first"); `key_points`: the point
  texts, so the missed terms they use come first; `limit`: at most this many terms used and missed.

`Insights` holds plain data for the template:

- the role's key terms the draft used, and the model answer's key terms it missed;
- the words it repeats most, and its filler and hedging words ("um", "basically", "I think", "kind
  of"; "like" only when set off as a filler: "so, like, it", not "I'd like to" or "like a mutex");
- its length against the model answer ("about half the length of the model answer");
- its structure: situation, task, action and result for a behavioural question, or whether a
  technical answer opens with a direct answer.

The role's vocabulary comes from its bank text: words that recur across several of the role's
questions but not everywhere, and that are rare in everyday English or written as code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .points import FRAMING
from .text import STOPWORDS, stem, strip_markdown, tokenize, words
from .weights import commonness_weight

Vocabulary = dict[str, str]  # match key (stem or identifier) -> how to display it

# Words of the banks' model-answer scaffolding and of key-point framing ("Mentions", "Explains"), not of
# the subject.
_NOT_TERMS = FRAMING | frozenset(
    stem(word)
    for word in words(
        """situation task action result example sketch interviewer listen answer question point explicitly
        typically usually"""
    )
)

# A filler "like" is set off by commas or opens a sentence ("so, like, it", "Like, the kernel"),
# unlike "I'd like to" or "like a mutex".
_FILLERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("um", r"\b(?:um+|umm+|erm)\b"),
        ("uh", r"\buh+\b"),
        ("basically", r"\bbasically\b"),
        ("I think", r"\bI think\b"),
        ("kind of", r"\bkind of\b"),
        ("sort of", r"\bsort of\b"),
        ("you know", r"\byou know\b"),
        ("actually", r"\bactually\b"),
        ("literally", r"\bliterally\b"),
        ("like", r"(?:^|[.!?]\s+|,\s*)like\s*,"),
    )
)
_LEAD_INS = re.compile(
    r"^\s*(?:so|um+|uh+|well|okay|ok|hmm+|basically|right|i think|i guess|that's a (?:good|great) question"
    r"|good question|great question|let me think|it depends|first of all)\b",
    re.IGNORECASE,
)
_VERDICT = re.compile(r"^\s*(?:yes|no|nope|not (?:necessarily|really|quite)|correct|wrong)\b\W{0,3}$", re.I)
# Cue phrases for the parts of a STAR story; "_" stands for a space between words.
_STAR_PHRASES = (
    (
        "Situation",
        """situation context background at_my_(?:last|previous|old)_(?:job|company|team) when_i_was we_were
        we_had there_was our_team our_(?:service|product|system) last_year a_few_years_ago at_the_time""",
    ),
    (
        "Task",
        """my_(?:task|job|role|responsibility|goal)_was i_was_(?:responsible|asked|assigned|tasked) i_had_to
        i_needed_to responsible_for the_goal_was we_needed_to my_task it_was_on_me""",
    ),
    (
        "Action",
        """(?:i|we)_(?:decided|proposed|wrote|built|added|talked|spoke|started|paired|changed|fixed|asked
        |suggested|set_up|rolled_back|reverted|introduced|created|implemented|ran|tested|reproduced
        |investigated|escalated|explained|showed|convinced|negotiated|organi[sz]ed|scheduled|reviewed
        |refactored|moved|raised|pushed_back|took|called|met|put|drafted|offered|presented)""",
    ),
    (
        "Result",
        """as_a_result the_result in_the_end outcome ended_up since_then afterwards it_worked we_shipped
        reduced
        improved dropped went_(?:down|up)_from saved turned_out learned lesson
        no_(?:more|further)_(?:incidents|crashes|outages)""",
    ),
)
_STAR_CUES = tuple(
    (
        part,
        re.compile(
            r"\b(?:"
            + "|".join(re.sub(r"\s*\n\s*\|", "|", phrases).split()).replace("_", r"\s+")
            + r")\b"
            + (r"|\d+\s?%" if part == "Result" else ""),
            re.IGNORECASE,
        ),
    )
    for part, phrases in _STAR_PHRASES
)
_LENGTHS = (  # (largest ratio, words), checked in order
    (0.15, "much shorter than the model answer"),
    (0.3, "about a quarter of the length of the model answer"),
    (0.42, "about a third of the length of the model answer"),
    (0.58, "about half the length of the model answer"),
    (0.8, "about two-thirds of the length of the model answer"),
    (1.25, "about the same length as the model answer"),
    (1.75, "about one and a half times the length of the model answer"),
    (2.5, "about twice the length of the model answer"),
)


@dataclass(frozen=True)
class Insights:
    """What the template shows next to the draft; every field is plain data."""

    words: int
    model_words: int
    length: str  # "about half the length of the model answer"
    terms_used: tuple[str, ...]
    terms_missed: tuple[str, ...]
    repeated: tuple[tuple[str, int], ...]  # (word, times), most repeated first
    fillers: tuple[tuple[str, int], ...]  # (filler, times), most frequent first
    behavioural: bool
    structure: tuple[tuple[str, bool], ...]  # ("Situation", True) ... or (("Direct answer first", False),)


def _content(text: str) -> list[tuple[str, str]]:
    """(word as written, match key) for each content word: no stopwords, numbers or single letters."""
    out = []
    for token in tokenize(text).tokens:
        raw, key = token.raw, token.key
        if len(key) > 2 and key not in STOPWORDS and key != "not" and not key[0].isdigit():
            out.append((raw, key))
    return out


def role_vocabulary(texts: Iterable[str], *, min_questions: int = 2, max_share: float = 0.25) -> Vocabulary:
    """The role's distinctive technical terms, from one text per question (prompt, answer, key points).

    A term counts when it appears in at least `min_questions` questions but in no more than `max_share`
    of them (so not "use" or "system"), and is rare in everyday English or written as code.
    """
    documents = [_content(strip_markdown(text)) for text in texts]
    share = Counter(key for document in documents for key in {key for _, key in document})
    forms: dict[str, Counter[str]] = {}
    for document in documents:
        for raw, key in document:
            forms.setdefault(key, Counter())[raw if _is_code(raw) else raw.lower()] += 1
    limit = max(min_questions, max_share * len(documents))
    vocabulary: Vocabulary = {}
    for key, count in share.most_common():
        if not min_questions <= count <= limit or key in _NOT_TERMS:
            continue
        display = forms[key].most_common(1)[0][0]
        if _is_code(display) or commonness_weight(display.lower()) >= 0.9:
            vocabulary[key] = display
    return vocabulary


def _is_code(raw: str) -> bool:
    """Whether a word is written as code (snake_case, dotted, with digits or inner capitals)."""
    return any(c in raw for c in "_.") or any(c.isdigit() for c in raw) or any(c.isupper() for c in raw[1:])


def length_sentence(words: int, model_words: int) -> str:
    """The draft's length against the model answer's, in words a person would say."""
    if model_words <= 0:
        return ""
    ratio = words / model_words
    for limit, sentence in _LENGTHS:
        if ratio < limit:
            return sentence
    return f"about {round(ratio)} times the length of the model answer"


def fillers(text: str) -> tuple[tuple[str, int], ...]:
    """Filler and hedging words with how often each occurs, most frequent first."""
    counts = Counter({label: len(pattern.findall(text)) for label, pattern in _FILLERS})
    return tuple((label, n) for label, n in counts.most_common() if n)


def repeated_words(text: str, *, at_least: int = 3, limit: int = 5) -> tuple[tuple[str, int], ...]:
    """The content words used most often (at least `at_least` times), most repeated first."""
    counts: Counter[str] = Counter()
    shown: dict[str, Counter[str]] = {}
    filler_words = {"basically", "actually", "literally", "like", "think", "know"}
    for raw, key in _content(text):
        if raw.lower() not in filler_words:
            counts[key] += 1
            shown.setdefault(key, Counter())[raw.lower()] += 1
    top = [(shown[key].most_common(1)[0][0], n) for key, n in counts.most_common() if n >= at_least]
    return tuple(top[:limit])


def star_parts(text: str) -> tuple[tuple[str, bool], ...]:
    """For a behavioural answer: whether it shows a situation, a task, actions and a result."""
    return tuple((part, bool(pattern.search(text))) for part, pattern in _STAR_CUES)


def opens_directly(text: str, terms: Iterable[str] = ()) -> bool:
    """Whether a technical answer opens with a direct answer rather than a lead-in.

    The first sentence must not start with a lead-in ("So, basically", "Good question", "It depends"),
    must be under 35 words and, when key terms are given, use at least one of them.
    """
    first = re.split(r"(?<=[.!?])\s+|\n", text.strip(), maxsplit=1)[0] if text.strip() else ""
    if _VERDICT.match(first):
        return True
    if not first or _LEAD_INS.match(first) or len(first.split()) >= 35:
        return False
    wanted = set(terms)
    return not wanted or any(key in wanted for _, key in _content(first))


def answer_insights(
    draft: str,
    model_answer: str,
    vocabulary: Vocabulary,
    *,
    behavioural: bool,
    key_points: Iterable[str] = (),
    limit: int = 8,
) -> Insights:
    """Everything shown beside the draft after the reveal, for one question.

    Missed terms are the role's terms in the model answer that the draft lacks, those the key points
    use first, then the model answer's most frequent.
    """
    model = _content(strip_markdown(model_answer))
    draft_keys = Counter(key for _, key in _content(draft))
    model_keys = Counter(key for _, key in model)
    point_keys = {key for point in key_points for _, key in _content(strip_markdown(point))}
    used = [key for key, _ in draft_keys.most_common() if key in vocabulary]
    missed = [key for key, _ in model_keys.most_common() if key in vocabulary and key not in draft_keys]
    missed.sort(key=lambda key: key not in point_keys)  # stable: keeps frequency order within each group
    words, model_words = len(tokenize(draft)), len(tokenize(strip_markdown(model_answer)))
    if behavioural:
        structure = star_parts(draft)
    else:
        subject = {key for raw, key in model if key in vocabulary or commonness_weight(raw.lower()) >= 0.9}
        structure = (("Direct answer first", opens_directly(draft, subject)),)
    return Insights(
        words=words,
        model_words=model_words,
        length=length_sentence(words, model_words),
        terms_used=tuple(vocabulary[key] for key in used[:limit]),
        terms_missed=tuple(vocabulary[key] for key in missed[:limit]),
        repeated=repeated_words(draft),
        fillers=fillers(draft),
        behavioural=behavioural,
        structure=structure,
    )
