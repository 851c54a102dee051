"""How much a word of a key point counts: rare and technical words more than everyday ones.

Two sources, multiplied:

- everyday English: a word's rank in the frequency lists zxcvbn ships (English Wikipedia, US TV and
  film). "take" and "first" weigh little, "fsync" and "reparented" weigh 1;
- the role's own vocabulary (optional): inverse document frequency over the role's questions, so a word
  in every question of the role ("process" for a systems role) counts less than one in a few.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .text import strip_markdown, tokenize

RARE_RANK = 10000  # words rarer than this in everyday English weigh 1


@lru_cache(maxsize=1)
def _english_ranks() -> dict[str, int]:
    """Everyday-English frequency rank of a word (zxcvbn's lists; empty if zxcvbn is missing)."""
    try:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS
    except ImportError:  # every word then weighs the same
        return {}
    ranks: dict[str, int] = {}
    for name in ("english_wikipedia", "us_tv_and_film"):
        for rank, word in enumerate(FREQUENCY_LISTS.get(name, ())):
            if ranks.get(word, rank + 1) > rank:
                ranks[word] = rank
    return ranks


@lru_cache(maxsize=65536)
def commonness_weight(word: str, power: float = 1.0) -> float:
    """1 for a rare or technical word, less for everyday English words ("new", "take", "set")."""
    ranks = _english_ranks()
    candidates = (
        word,
        word[:-1] if word.endswith("s") else "",
        word[:-2] if word.endswith(("es", "ed")) else "",
        word[:-3] if word.endswith("ing") else "",
    )
    rank = min((ranks[c] for c in candidates if c in ranks), default=RARE_RANK)
    return min(1.0, max(0.05, math.log10(rank + 1) / math.log10(RARE_RANK))) ** power


def is_english_word(word: str) -> bool:
    """Whether a folded word is in the everyday-English lists (so a near miss is not a typo)."""
    return word in _english_ranks()


@dataclass(frozen=True)
class RoleWeights:
    """Document frequencies of keys over a role's questions (one text per question)."""

    documents: int = 0
    frequency: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> RoleWeights:
        """Count, for each key, how many of the role's question texts use it."""
        frequency: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            doc = tokenize(strip_markdown(text))
            frequency.update({t.key for t in doc.tokens if not t.stop})
        return cls(n, dict(frequency))

    def idf(self, key: str) -> float:
        """1 for a key no question (or one question) of the role uses, falling towards 0 for one in all."""
        if self.documents < 2:
            return 1.0
        df = self.frequency.get(key, 0)
        return min(1.0, math.log((self.documents + 1) / (df + 0.5)) / math.log((self.documents + 1) / 1.5))


NO_ROLE = RoleWeights()
