"""Which words of a text are denied: the scope of "not", "never", "no", "without", "instead of"...

Two traps this has to get right, both taken from learners' answers:

- the point's own words, denied: "you don't need to fsync the directory", "Jitter isn't needed",
  "putting a lock around it is unnecessary", "reaping with waitpid won't help";
- negation words around a correct claim: "accept() doesn't do the handshake; the kernel completes it".
  The scope ends at the clause, so "the kernel completes it" stays affirmed.

A cue denies the words after it, up to `window` content words, within its clause ("need to", stopwords
and "or" are free: "no length prefix or any delimiter" denies both). A cue that says the thing before it
does not matter ("X isn't needed", "X doesn't help", "X is unnecessary", "X isn't a Y") also denies the
words from the start of its clause.
"""

from __future__ import annotations

from .text import NEGATORS, Doc, stem, words


def _keys(text: str) -> frozenset[str]:
    """The words and their stems, so a set can be tested against token keys (stopwords stay unstemmed)."""
    return frozenset(w for word in text.split() for w in (word, stem(word)))


_CLAUSE_WORDS = _keys(
    "but because so since although though whereas while which however then until unless otherwise "
    "when if where yet instead whereby"
)
_FREE = _keys(
    """need needs needed necessary necessarily required require have has had to be been being really
    actually even ever at all any just always do does did"""
)
# "X isn't needed", "X doesn't matter": the cue denies what came before it in the clause.
_NEEDED = _keys(
    """need needed necessary required requir matter matters help helps work works true correct relevant
    enough issue problem actual real"""
)
_BACKWARD_ADJECTIVES = _keys(
    """unnecessary unneeded needless pointless irrelevant overkill redundant optional useless myth
    """
)
_AFTER_NEEDED = _keys("anyway here there either at all really much for")
_COPULAS = words("is are was were be isn aren wasn weren it's that's")
_ARTICLES = words("a an the")
_COPULA_KEYS = words("is are was were")
_AFFIRMING_NEXT = _keys("only just merely simply")  # "not only X but also Y"


def negation_marks(doc: Doc, window: int) -> list[int]:
    """For each token, 0 when affirmed, else 1 + the position of the negation cue that denies it.

    Knowing the cue lets the detector see which denied words belong together ("can't kill a zombie").
    """
    tokens = doc.tokens
    marks = [0] * len(tokens)
    for i, token in enumerate(tokens):
        following = tokens[i + 1].key if i + 1 < len(tokens) else ""
        if _is_forward_cue(doc, i, following):
            _mark_forward(doc, i, window, marks)
            if _denies_before(doc, i):
                _mark_backward(doc, i, marks)
        elif token.key in _BACKWARD_ADJECTIVES and _copula_before(doc, i):
            _mark_backward(doc, i, marks)
    return marks


def _is_forward_cue(doc: Doc, i: int, following: str) -> bool:
    """Whether token i opens a negation ("not", "never", "no", "without", "instead of", ...)."""
    key = doc.tokens[i].key
    if key in NEGATORS:
        if key == "no" and following in ("matter", "doubt"):
            return False
        return following not in _AFFIRMING_NEXT
    return (key, following) in (("instead", "of"), ("rather", "than"), ("far", "from"))


def _mark_forward(doc: Doc, i: int, window: int, marks: list[int]) -> None:
    """Deny up to `window` content words after the cue at i, within its clause."""
    tokens = doc.tokens
    j, reach = i + 1, 0
    if tokens[i].key in ("instead", "rather", "far"):
        j += 1
    while j < len(tokens) and not doc.clause_break[j] and tokens[j].key not in _CLAUSE_WORDS:
        token = tokens[j]
        if (token.key == "and" and reach >= 2) or (token.key in _COPULA_KEYS and reach >= 1):
            break  # "doesn't copy the pages and shares them", "the thing not shared is X": a new predicate
        if not token.stop and token.key not in _FREE:
            reach += 1
            if reach > window:
                break
        marks[j] = i + 1
        j += 1


def _denies_before(doc: Doc, i: int) -> bool:
    """Whether the negation at i says the thing before it is not needed, does not matter, or is not a Y."""
    tokens = doc.tokens
    if tokens[i].key != "not":
        return False
    raw = tokens[i].raw.lower().replace("’", "'")
    copula = raw.startswith(("is", "are", "was", "were", "ain")) or (
        raw == "not" and i > 0 and tokens[i - 1].raw.lower().replace("’", "'") in _COPULAS
    )
    for j in range(i + 1, min(i + 4, len(tokens))):
        if doc.clause_break[j]:
            return False
        key = tokens[j].key
        if key in _NEEDED or key in _BACKWARD_ADJECTIVES:
            return _clause_ends_after(doc, j)  # "X isn't needed." but not "don't need to X"
        if copula and key in _ARTICLES:
            return True  # "a pile of CLOSE_WAIT isn't an application bug"
        if not tokens[j].stop and key not in _FREE:
            return False
    return False


def _clause_ends_after(doc: Doc, j: int) -> bool:
    """Whether only stopwords stand between token j and the end of its clause."""
    k = j + 1
    while k < len(doc.tokens) and not doc.clause_break[k] and doc.tokens[k].key not in _CLAUSE_WORDS:
        if not doc.tokens[k].stop and doc.tokens[k].key not in _AFTER_NEEDED:
            return False
        k += 1
    return True


def _copula_before(doc: Doc, i: int) -> bool:
    """Whether "is/are/was" sits just before token i ("is (just) unnecessary overhead")."""
    for j in range(i - 1, max(i - 4, -1), -1):
        if doc.clause_break[j + 1]:
            return False
        if doc.tokens[j].raw.lower().replace("’", "'") in _COPULAS:
            return True
    return False


def _mark_backward(doc: Doc, i: int, marks: list[int]) -> None:
    """Deny the words from the start of the clause up to the cue at i."""
    k = i
    while k > 0 and not doc.clause_break[k] and doc.tokens[k - 1].key not in _CLAUSE_WORDS:
        k -= 1
        marks[k] = i + 1
