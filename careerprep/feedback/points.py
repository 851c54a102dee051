"""Reading a key point's text into what the detector looks for.

A key point becomes claims (split at ";"), each claim slots, each slot one or more alternatives ("A or
B", "A/B", "A, B or C"), each alternative a run of concepts. A concept is one content word, identifier,
number, compound ("copy-on-write") or path ("/proc/PID/limits"), with every form that may stand for it.
The verb a point opens with ("Mentions", "Explains") frames it and is dropped. Examples after "such as",
"e.g.", "like" or "including" are further forms of the word they illustrate, and one of them is
needed (`Examples`). A word the point itself
denies ("not on disk", "without killing it") only matches a denied mention. Author terms are added
by `terms.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .negation import negation_marks
from .text import Doc, fold, stem, strip_markdown, tokenize, words

FRAMING = frozenset(
    stem(w)
    for w in words(
        """mention mentions explain explains note notes know knows give gives identify identifies
    describe describes define defines state states list lists compare compares distinguish distinguishes
    recognise recognises offer offers propose proposes prefer prefers add adds spot spots say says warn
    warns show shows name names implement implements classify classifies compute computes fix fixes
    choose chooses include includes discuss discusses point understand suggest suggests use uses check
    checks clarify clarifies"""
    )
)
_LISTING = frozenset(stem(w) for w in words("list lists name names"))
_EXAMPLE_CUES = words("e.g eg i.e like including include")
_PREFIXES = words("non re pre un multi co sub de")
PATH_VARIABLES = words("pid self n x tid * <pid> $pid")


@dataclass(frozen=True)
class Form:
    """One way to write a concept: its units in order, each a set of keys, with their polarity."""

    units: tuple[frozenset[str], ...]
    negated: tuple[bool, ...]
    adjacent: bool = False  # units side by side (a compound), rather than within a short gap
    typo: str = ""  # the plain long word, for one-typo matching
    author: bool = False  # written by the author as a term


@dataclass
class Concept:
    """A content word of the point, the forms that may stand for it, and how much it weighs."""

    key: str
    raw: str
    kind: str
    forms: list[Form]
    negated: bool = False
    condition: bool = False  # denied as a condition ("without volatile"), not as a claim ("cannot")
    parenthetical: bool = False
    stems: frozenset[str] = frozenset()
    weight: float = 1.0  # set by the detector (commonness, role IDF, sharing between points)


@dataclass
class Examples:
    """The examples a point gives for one of its words ("forbidden calls such as mutexes or GFP_KERNEL")."""

    head: Concept  # the word they illustrate
    phrases: list[list[Concept]]  # each example as its concepts; author synonyms are added as forms


@dataclass
class ParsedPoint:
    """A key point as claims -> slots -> alternatives -> concepts, plus its required groups."""

    claims: list[list[list[list[Concept]]]]
    required: list[list[Form]] = field(default_factory=list)
    examples: list[Examples] = field(default_factory=list)  # "such as X or Y": one of them is needed
    listing: bool = False  # the point is itself a list or a name ("Lists ...", "Names ..."): bare lists count

    def concepts(self) -> list[Concept]:
        """Every concept once, in order."""
        return [c for claim in self.claims for slot in claim for alt in slot for c in alt]


# --- the point's own text ---------------------------------------------------------------------


def _word_concept(doc: Doc, i: int) -> Concept:
    """Token i as a concept."""
    token = doc.tokens[i]
    typo = fold(token.raw) if token.kind == "word" and len(token.raw) >= 6 else ""
    forms = [Form((frozenset({token.key}),), (doc.negated[i],), typo=typo)]
    concept = Concept(token.key, token.raw, token.kind, forms, doc.negated[i], stems=frozenset({token.key}))
    concept.condition = _conditional(doc, i)
    return concept


def _conditional(doc: Doc, i: int) -> bool:
    """Whether token i is denied by "without", "instead of" or "rather than": a condition, not a claim."""
    return bool(doc.scope[i]) and doc.tokens[doc.scope[i] - 1].key in ("without", "instead", "rather")


def _compound_concept(doc: Doc, i: int) -> tuple[Concept, int] | None:
    """copy-on-write, SYN-ACK, re-checked, /proc/PID/limits opening at token i, and the next index."""
    tokens, text = doc.tokens, doc.text
    j = i
    while j + 1 < len(tokens) and (text[tokens[j].end : tokens[j + 1].start] == "-" or _slash_joins(doc, j)):
        j += 1
    if j == i:
        return None
    run = [t for t in tokens[i : j + 1] if fold(t.raw) not in PATH_VARIABLES and t.kind != "num"]
    run = run or tokens[i : j + 1]
    negated = tuple(doc.negated[i] for _ in run)
    units = tuple(frozenset({t.key}) for t in run)
    raw = text[tokens[i].start : tokens[j].end]
    joined = stem(fold("".join(t.raw for t in tokens[i : j + 1])))
    forms = [Form(units, negated, adjacent=True), Form((frozenset({joined}),), negated[:1])]
    if len(run) == 2 and fold(run[0].raw) in _PREFIXES:  # re-checked also matches "checked"
        forms.append(Form((units[1],), negated[:1]))
    stems = frozenset(t.key for t in run if not t.stop)
    concept = Concept(raw.lower(), raw, "code", forms, doc.negated[i], stems=stems | {joined})
    concept.condition = _conditional(doc, i)
    return concept, j + 1


def _slash_joins(doc: Doc, j: int) -> bool:
    """Whether a "/" after token j joins one name (/proc/PID, I/O, TCP/IP) rather than alternatives (A/B)."""
    tokens, text = doc.tokens, doc.text
    if text[tokens[j].end : tokens[j + 1].start] != "/":
        return False
    before = text[tokens[j - 1].end if j else 0 : tokens[j].start]
    path = before.endswith("/") or text[: tokens[j].start].endswith("/")
    return path or min(len(tokens[j].raw), len(tokens[j + 1].raw)) <= 2


def _items(doc: Doc) -> list[tuple]:
    """The point as ("c", concept), ("or",), ("ex",), ("b", "," or ";") and ("s", word) items."""
    items: list[tuple] = []
    depth = i = 0
    tokens = doc.tokens
    while i < len(tokens):
        gap = doc.text[tokens[i - 1].end if i else 0 : tokens[i].start]
        depth = max(0, depth + gap.count("(") - gap.count(")"))
        if i and depth == 0 and any(c in ",;:.!?" for c in gap):
            items.append(("b", "," if "," in gap and not any(c in ";:.!?" for c in gap) else ";"))
        elif gap.strip() == "/" and items and items[-1][0] == "c" and not _path_like(doc, i):
            items.append(("or",))
        token = tokens[i]
        following = tokens[i + 1].key if i + 1 < len(tokens) else ""
        compound = None if gap.strip() == "/" else _compound_concept(doc, i)
        if compound:
            compound[0].parenthetical = depth > 0
            items.append(("c", compound[0]))
            i = compound[1]
            continue
        opening = all(item[0] == "b" for item in items)
        if token.key == "or":
            items.append(("or",))
        elif token.key in _EXAMPLE_CUES or (token.key, following) in (("such", "as"), ("for", "exampl")):
            items.append(("ex",))
            i += token.key in ("such", "for")
        elif (opening and token.key in FRAMING) or token.stop:
            items.append(("s", token.key))
        else:
            concept = _word_concept(doc, i)
            concept.parenthetical = depth > 0
            items.append(("c", concept))
        i += 1
    return items


def _path_like(doc: Doc, i: int) -> bool:
    """Whether a "/" before token i joins path parts (/proc/PID) rather than alternatives (A/B)."""
    return i >= 2 and doc.text[doc.tokens[i - 2].end : doc.tokens[i - 1].start].strip() == "/"


def _fold_examples(items: list[tuple]) -> tuple[list[tuple], list[Examples]]:
    """Attach "such as X, Y or Z" examples to the concept before them, and keep them as a group.

    Naming an example credits the word it illustrates ("mutex" credits "forbidden calls"), and a point
    that gives examples needs one of them (or an author synonym): naming the category alone ("ABI
    breaks") is the general idea, not the point. Returns the items and the example groups.
    """
    out: list[tuple] = []
    groups: list[Examples] = []
    i = 0
    while i < len(items):
        if items[i][0] != "ex":
            out.append(items[i])
            i += 1
            continue
        head = next((item[1] for item in reversed(out) if item[0] == "c"), None)
        phrases: list[list[Concept]] = [[]]
        i += 1
        while i < len(items) and items[i] != ("b", ";"):
            if items[i][0] == "c":
                phrases[-1].append(items[i][1])
            elif items[i][0] in ("or", "b") or items[i] == ("s", "and"):
                phrases.append([])
            i += 1
        phrases = [p for p in phrases if p]
        if head is None:
            out.extend(("c", c) for phrase in phrases for c in phrase)
            continue
        for phrase in phrases:
            head.forms.append(_phrase_form(phrase))
            head.stems |= frozenset(k for c in phrase for k in c.stems)
        if phrases:
            groups.append(Examples(head, phrases))
    return out, groups


def _phrase_form(concepts: Sequence[Concept]) -> Form:
    """Several concepts written together, as one form."""
    units = tuple(unit for c in concepts for unit in c.forms[0].units)
    negated = tuple(n for c in concepts for n in c.forms[0].negated)
    return Form(units, negated, adjacent=len(concepts) == 1 and concepts[0].forms[0].adjacent)


def _run(
    items: list[tuple], j: int, step: int, taken: set[int], cap: int = 99, over: bool = False
) -> list[int]:
    """Indexes of the concepts next to each other from j in direction step (at most cap).

    With `over`, the run steps over stopwords ("SIGCHLD set to SIG_IGN") but not over "and".
    """
    run: list[int] = []
    while 0 <= j < len(items) and j not in taken and len(run) < cap:
        if items[j][0] == "c":
            run.append(j)
        elif not (over and items[j][0] == "s" and items[j][1] != "and"):
            break
        j += step
    return sorted(run)


def _slots(items: list[tuple]) -> list[list[list[Concept]]]:
    """Group concepts into slots: one alternative each, or several where the point says "or"."""
    slots: list[list[list[Concept]]] = []
    taken: set[int] = set()
    for i, item in enumerate(items):
        if item[0] != "or" or i in taken:
            continue
        j = i - 1
        while j >= 0 and items[j][0] == "s":  # "reap it or be killed"
            j -= 1
        left = _run(items, j, -1, taken)
        if not left:
            continue
        alternatives = [left]
        j = left[0] - 1
        while j >= 1 and items[j] == ("b", ","):  # "A, B or C"
            run = _run(items, j - 1, -1, taken)
            if not run or len(run) > len(left) + 1:
                break
            alternatives.insert(0, run)
            j = run[0] - 1
        k = i
        while k < len(items) and items[k][0] == "or":  # "A or B", "A/B or C"
            k += 1
            while k < len(items) and items[k][0] == "s":
                k += 1
            right = _run(items, k, 1, taken, cap=max(len(left), 2), over=True)
            if right:
                alternatives.append(right)
                k = right[-1] + 1
        for run in alternatives:
            taken.update(run)
        slots.append([[items[x][1] for x in run] for run in alternatives])
    slots.extend([[item[1]]] for i, item in enumerate(items) if item[0] == "c" and i not in taken)
    return slots


_CLAIM_JOINS = words("and then but")  # ", and Y", ", then Y", ", but Y": a second claim


def _claims(items: list[tuple], split_joins: bool = True) -> list[list[tuple]]:
    """The point's items cut into separate claims: at ";" (and ":"), and where a second claim is joined.

    "Uses -f for children and threads, and -p to attach" and "via temp file and rename, then reloads"
    make two claims each. A ", and" after an earlier comma ends a list ("breakpoints, stepping, and
    calling functions"), so it does not cut; nor does a bare "but" ("rare in tests but real").
    """
    claims: list[list[tuple]] = [[]]
    for k, item in enumerate(items):
        before = items[k - 1] if k else None
        listing = any(x == ("b", ",") for x in claims[-1][:-1])
        join = (
            split_joins
            and item[0] == "s"
            and item[1] in _CLAIM_JOINS
            and before == ("b", ",")
            and not listing
        )
        if (item == ("b", ";") or join) and any(x[0] == "c" for x in claims[-1]):
            if before == ("b", ","):
                claims[-1].pop()
            claims.append([])
        else:
            claims[-1].append(item)
    return [claim for claim in claims if any(x[0] == "c" for x in claim)]


def read(text: str, neg_window: int) -> Doc:
    """Tokenize a text and mark what it denies."""
    doc = tokenize(text)
    doc.scope = negation_marks(doc, neg_window)
    doc.negated = [bool(cue) for cue in doc.scope]
    return doc


def parse_text(text: str, neg_window: int) -> ParsedPoint:
    """Read a key point's text into claims of slots of concepts (without author terms)."""
    doc = read(strip_markdown(text), neg_window)
    items, examples = _fold_examples(_items(doc))
    claims = []
    for claim_items in _claims(items):
        seen: set[str] = set()  # one concept per key within a claim: "killed ... or be killed"
        slots = []
        for slot in _slots(claim_items):
            kept = [[c for c in alt if c.key not in seen and not seen.add(c.key)] for alt in slot]
            if kept := [alt for alt in kept if alt]:
                slots.append(kept)
        if slots:
            claims.append(slots)
    first = doc.tokens[0].key if doc.tokens else ""
    return ParsedPoint(claims, examples=examples, listing=first in _LISTING)


def content_keys(text: str) -> frozenset[str]:
    """The keys of a text's content words, with identifier parts (to find a term's anchor)."""
    doc = tokenize(strip_markdown(text))
    return frozenset(k for t in doc.tokens if not t.stop for k in (t.key, *t.alts))
