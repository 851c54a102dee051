"""Cutting a text into tokens the detector can match: stemmed words, code identifiers, numbers, flags.

Every token keeps its character span in the original text, so a match can be highlighted exactly.
Keys are what matches: a Snowball stem for a word ("forked" -> "fork"), the lower-cased identifier for
code (`O_CLOEXEC` -> "o_cloexec"), a canonical number and unit ("64K" -> "64" "kb"), a flag as written
(`-T` differs from `-t`). Accents are folded and compatibility characters normalised in the key only.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of a text, as a set (for word lists written as prose)."""
    return frozenset(text.split())


def _token_pattern(word_chars: str) -> re.Pattern[str]:
    """The token regex: flags, operators, abbreviations, numbers, words and identifiers."""
    return re.compile(
        r"(?P<flag>(?<![\w-])--?[A-Za-z][\w-]*)"
        r"|(?P<sym>\+=|\+\+|&&|\|\||->|::|==|!=|<=|>=|\|)"
        r"|(?P<abbr>\b(?:e\.g|i\.e|etc)\.)"
        r"|(?P<num>(?:(?<![\w.])-)?\d+(?:[.,]\d+)*(?!xx))"
        rf"|(?P<word>{word_chars}+(?:(?:['’]|[_.:]{{1,2}}){word_chars}+)*(?:\+\+)?)"
    )


_TOKEN_RE = _token_pattern(r"[^\W_]")
_TOKEN_RE_ACCENTS = _token_pattern(r"(?:[^\W_]|[\u0300-\u036f])")  # e + U+0301: one word
_COMBINING = re.compile(r"[\u0300-\u036f]")
_CLAUSE_RE = re.compile(r"[.;:!?,()\[\]{}\n—–]")
_SENTENCE_RE = re.compile(r"[.!?;]\s|[.!?;]$|\n")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})
_BRITISH = re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations|er|ers)$")
_SPELLING = {"queuing": "queueing", "acknowledgment": "acknowledgement", "behaviour": "behavior"}
_NEGATED_AUX = re.compile(
    r"(?:do|does|did|is|are|was|were|has|have|had|ca|wo|could|should|would|must|need|ai|might)n'?t"
)
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        re.split(
            " ",
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty",
        )
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1e6"}
_UNITS = {
    **dict.fromkeys(["k", "kb", "kib", "kbyte", "kbytes", "kilobyte", "kilobytes"], "kb"),
    **dict.fromkeys(["m", "mb", "mib", "megabyte", "megabytes"], "mb"),
    **dict.fromkeys(["g", "gb", "gib", "gigabyte", "gigabytes"], "gb"),
    **dict.fromkeys(["ms", "msec", "msecs", "millisecond", "milliseconds"], "ms"),
    **dict.fromkeys(["us", "µs", "usec", "microsecond", "microseconds"], "us"),
    **dict.fromkeys(["ns", "nanosecond", "nanoseconds"], "ns"),
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds"], "s"),
    **dict.fromkeys(["min", "mins", "minute", "minutes"], "min"),
    **dict.fromkeys(["x", "times", "fold"], "x"),
    **dict.fromkeys(["%", "percent", "pc"], "%"),
    **dict.fromkeys(
        ["hz", "khz", "mhz", "ghz", "mbaud", "kbaud", "baud", "bit", "bits", "byte", "bytes"], ""
    ),
}
STOPWORDS = words(
    """a an the and but if then else when of to in on at by for with from into onto over under via as
    than so that this these those it its is are was were be been being am do does did doing have has had
    having can could will would shall should may might must i me my we our us you your he she him her
    they them their his there here what which who whom whose why how where all any both each few more
    most other some such only own same just also very too up down out off again further once about
    against between through during because until whether either one ones etc get gets got really even
    still yet already much many every per lot lots kind sort or nor either neither e.g i.e s t d ll ve re
    m basically actually like um uh so well ok okay"""
)
NEGATORS = words("not no never without nor neither none nothing nobody cannot")
_PARTICLES = words("up out off down back over on in")  # "wake up" -> wakeup, "back off"
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def fold(raw: str) -> str:
    """Lower case, compatibility forms normalised (ﬁ -> fi), accents removed (café -> cafe)."""
    text = unicodedata.normalize("NFKD", raw.translate(_APOSTROPHES)).casefold()
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of a folded word, with British -ise/-our spellings folded to US ones."""
    word = _SPELLING.get(word, word)
    word = _BRITISH.sub(r"iz\1", word)
    if len(word) > 5 and word.endswith(("our", "ours")):
        word = word.replace("our", "or")
    return _stemmer.stemWord(word)


class Token(NamedTuple):
    """One token: where it is, how it is written, its kind and the keys it matches."""

    start: int
    end: int
    raw: str
    kind: str  # word, code, num, unit, flag or sym
    key: str
    alts: tuple[str, ...] = ()  # other keys it also matches: identifier parts, dotted suffixes
    stop: bool = False  # a stopword, negation or single letter: never a concept of its own


@lru_cache(maxsize=65536)
def classify(raw: str, kind: str) -> tuple[str, str, tuple[str, ...]]:
    """(kind, key, alternative keys) of one matched token."""
    if kind in ("flag", "sym"):
        return kind, raw if kind == "flag" else raw, ()
    low = fold(raw)
    if kind == "num":
        return "num", low.replace(",", "").lstrip("+"), ()
    if kind == "abbr":
        return "word", low.rstrip("."), ()
    if "'" in low:
        head, _, tail = low.partition("'")
        if tail == "t" or _NEGATED_AUX.fullmatch(low.replace("'", "")):
            return "word", "not", ()
        low = head if tail in ("s", "d", "ll", "ve", "re", "m", "") else low.replace("'", "")
    if _NEGATED_AUX.fullmatch(low) or low in ("cannot", "dont", "doesnt", "didnt", "isnt", "arent"):
        return "word", "not", ()
    if low in _NUMBER_WORDS:
        return "num", _NUMBER_WORDS[low], (stem(low),)
    if low in STOPWORDS or low in NEGATORS:
        return "word", low, ()
    if re.fullmatch(r"[A-Z][A-Z0-9]+s", raw):  # PIDs, FINs: the acronym
        return "code", low[:-1], (low,)
    is_code = any(c in low for c in "_.:+") or any(c.isdigit() for c in low) or _mixed_case(raw)
    if is_code:
        alts = _code_alts(low) + ((stem(low),) if low.isalpha() and stem(low) != low else ())
        return "code", low, alts
    return "word", stem(low), ()


def _mixed_case(raw: str) -> bool:
    """SIGCHLD, fdatasync-style names written in capitals, or camelCase: code, not a word."""
    return len(raw) > 1 and (raw.isupper() or any(c.isupper() for c in raw[1:]))


def _code_alts(low: str) -> tuple[str, ...]:
    """Other keys an identifier answers to: dotted suffixes and underscore parts, stemmed."""
    alts: list[str] = []
    pieces = [p for p in re.split(r"::|\.", low) if p]
    for i in range(1, len(pieces)):  # vm.overcommit_memory -> overcommit_memory
        alts.append(".".join(pieces[i:]))
    for piece in pieces:
        parts = [p for p in piece.split("_") if p]
        alts.extend(stem(p) if p.isalpha() else p for p in parts if len(p) > 1 or len(parts) == 1)
        if len(pieces) > 1 and piece.isalpha():
            alts.append(stem(piece))
    return tuple(dict.fromkeys(a for a in alts if a and a != low))


@dataclass
class Doc:
    """A text cut into tokens, with clause and sentence boundaries and an index from key to positions."""

    text: str
    tokens: list[Token] = field(default_factory=list)
    clause_break: list[bool] = field(default_factory=list)  # a boundary sits just before token i
    sentence: list[int] = field(default_factory=list)
    negated: list[bool] = field(default_factory=list)
    scope: list[int] = field(default_factory=list)  # 1 + the negation cue denying token i, or 0
    index: dict[str, list[int]] = field(default_factory=dict)
    joined: dict[str, list[int]] = field(default_factory=dict)  # "wake up" -> "wakeup" at the first word

    def __len__(self) -> int:
        return len(self.tokens)

    def keys(self) -> list[str]:
        """Each token's key, in order."""
        return [t.key for t in self.tokens]

    def positions(self, key: str) -> list[int]:
        """Sorted positions of the tokens matching a key."""
        return self.index.get(key, [])


def tokenize(text: str) -> Doc:
    """Cut a text into tokens and build its index (negation marks are added by the caller)."""
    doc = Doc(text)
    tokens, breaks, sentences = doc.tokens, doc.clause_break, doc.sentence
    pattern = _TOKEN_RE_ACCENTS if _COMBINING.search(text) else _TOKEN_RE
    previous_end, sentence, previous_kind = 0, 0, ""
    for match in pattern.finditer(text):
        start, end = match.span()
        raw = match.group()
        gap = text[previous_end:start]
        kind, key, alts, stop = _classified(raw, match.lastgroup or "word")
        if previous_kind == "num" and kind in ("word", "code") and gap in ("", " ") and _UNITS.get(fold(raw)):
            kind, key, stop = "unit", _UNITS[fold(raw)], False
        if gap == " " or not tokens:
            breaks.append(not tokens)
        else:
            breaks.append(bool(_CLAUSE_RE.search(gap)))
            sentence += bool(_SENTENCE_RE.search(gap))
        tokens.append(Token(start, end, raw, kind, key, alts, stop))
        sentences.append(sentence)
        previous_end, previous_kind = end, kind
    _build_index(doc)
    return doc


@lru_cache(maxsize=65536)
def _classified(raw: str, kind: str) -> tuple[str, str, tuple[str, ...], bool]:
    """classify() plus whether the token is a stopword (never a concept of its own)."""
    kind, key, alts = classify(raw, kind)
    return kind, key, alts, kind == "word" and (key in STOPWORDS or key in NEGATORS or len(key) == 1)


def _build_index(doc: Doc) -> None:
    """Key -> positions, for every key and alternative key, and joined neighbour words."""
    index: dict[str, list[int]] = {}
    for i, token in enumerate(doc.tokens):
        for key in (token.key, *token.alts):
            positions = index.setdefault(key, [])
            if not positions or positions[-1] != i:
                positions.append(i)
    joined: dict[str, list[int]] = {}
    tokens = doc.tokens
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        if a.kind != "word" or b.kind != "word" or a.stop or (b.stop and b.key not in _PARTICLES):
            continue
        if doc.text[a.end : b.start] in (" ", "-"):
            joined.setdefault(stem(fold(a.raw) + fold(b.raw)), []).append(i)
    doc.index, doc.joined = index, joined


def sentence_bounds(doc: Doc, i: int) -> tuple[int, int]:
    """The first and last token positions of the sentence holding token i."""
    s = doc.sentence[i]
    first = i
    while first > 0 and doc.sentence[first - 1] == s:
        first -= 1
    last = bisect_right(doc.sentence, s) - 1
    return first, last


_MARKDOWN = (
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images keep their text
    (re.compile(r"<[^>]+>"), " "),  # HTML tags
    (re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.M), ""),  # headings, quotes, lists
    (re.compile(r"\*\*|__|~~|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)"), ""),  # bold, strike-through, *emphasis*
    (re.compile(r"(?<!\w)_(?=\S)|(?<=\S)_(?!\w)"), ""),  # _emphasis_ (snake_case stays)
)


def strip_markdown(text: str) -> str:
    """Text without Markdown markup; code spans keep their content."""
    text = re.sub(r"`+([^`]*)`+", r" \1 ", text)
    for pattern, replacement in _MARKDOWN:
        text = pattern.sub(replacement, text)
    return text
