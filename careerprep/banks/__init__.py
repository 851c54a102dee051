"""Question banks: the format's rules, parsing, validation, the comparison with the database, the one
import path (one transaction), file formats and Anki decks.

rules (the limits) · parse (text to data, depth bounded) · validate (data to a clean bank) · formats
(YAML, JSON and CSV in and out) · diff (what an import would change) · importing (apply_banks, seed)
· anki (decks).
"""

from __future__ import annotations

from .errors import BankError
from .importing import BANK_DIR, ImportSummary, apply_banks, bundled_files, import_bank, seed
from .parse import parse
from .validate import load_file, validate

__all__ = [
    "BANK_DIR",
    "BankError",
    "ImportSummary",
    "apply_banks",
    "bundled_files",
    "import_bank",
    "load_file",
    "parse",
    "seed",
    "validate",
]
