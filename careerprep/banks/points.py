"""Key points in the bank format: a string, or a mapping {text, terms, required} that helps the detector
(careerprep/feedback/terms.py says what terms and required terms mean).

A stored question keeps its key points as plain text (`Question.key_points`, read by every template,
the Anki and CSV exports and the editor) and the author's terms apart, by point text
(`Question.key_point_terms`). `split` and `join` convert between the two; a point without terms stays
a plain string in the bank, so banks without terms round-trip unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .rules import KEY_POINT_CHARS, MAX_POINT_TERMS, MAX_REQUIRED_GROUPS, TERM_CHARS

if TYPE_CHECKING:
    from .validate import _Checker

POINT_FIELDS = {"text", "terms", "required"}


def text(item: Any) -> str:
    """The text of a key point in either shape."""
    return item["text"] if isinstance(item, dict) else item


def split(items: list) -> tuple[list[str], dict | None]:
    """Clean bank key points as (texts, terms by text or None)."""
    terms = {
        item["text"]: {k: item[k] for k in ("terms", "required") if item.get(k)}
        for item in items
        if isinstance(item, dict)
    }
    return [text(item) for item in items], terms or None


def join(texts: list[str], terms: dict | None) -> list:
    """Stored key points back in the bank format: a mapping where the author gave terms."""
    terms = terms or {}
    return [{"text": t, **terms[t]} if terms.get(t) else t for t in texts]


def check_points(check: _Checker, q: dict, path: str, *, low: int, high: int) -> list:
    """The key points, cleaned: strings, or mappings with `text` and optional `terms` and `required`."""
    value = q.get("key_points")
    if value is None:
        check.errors.append(f"{path}.key_points: required")
        return []
    if not isinstance(value, list):
        check.errors.append(f"{path}.key_points: must be a list")
        return []
    items: list = []
    for i, item in enumerate(value):
        where = f"{path}.key_points[{i}]"
        if isinstance(item, dict):
            clean = _point_mapping(check, item, where)
            if clean is not None:
                items.append(clean)
        elif not isinstance(item, str) or not item.strip():
            check.errors.append(f"{where}: must be non-empty text, or a mapping with text and terms")
        elif len(item.strip()) > KEY_POINT_CHARS:
            check.errors.append(f"{where}: longer than {KEY_POINT_CHARS} characters")
        else:
            items.append(item.strip())
    if not low <= len(value) <= high:
        check.errors.append(f"{path}.key_points: needs {low} to {high} items, got {len(value)}")
    texts = [text(item) for item in items]
    for i, item in enumerate(items):
        if isinstance(item, dict) and texts.count(item["text"]) > 1:
            check.errors.append(f"{path}.key_points[{i}].text: a point with terms must not repeat another")
    return items


def _point_mapping(check: _Checker, item: dict, where: str) -> dict | None:
    """One {text, terms, required} point, cleaned; a mapping without terms becomes its text."""
    if not check.mapping(item, where, POINT_FIELDS):
        return None
    point = check.text(item, where, "text", limit=KEY_POINT_CHARS)
    terms = _term_list(check, item.get("terms"), f"{where}.terms")
    required = item.get("required")
    groups: list = []
    if required is not None:
        if not isinstance(required, list) or not required:
            check.errors.append(f"{where}.required: must be a list of terms, or a list of such lists")
        elif all(isinstance(r, list) for r in required):
            if len(required) > MAX_REQUIRED_GROUPS:
                check.errors.append(f"{where}.required: at most {MAX_REQUIRED_GROUPS} groups")
            groups = [_term_list(check, r, f"{where}.required[{j}]") for j, r in enumerate(required)]
        else:
            groups = _term_list(check, required, f"{where}.required")
    if not point:
        return None
    clean: dict = {"text": point}
    if terms:
        clean["terms"] = terms
    if groups:
        clean["required"] = groups
    return clean if len(clean) > 1 else point  # type: ignore[return-value]


def _term_list(check: _Checker, value: Any, where: str) -> list[str]:
    """A list of short terms (alternatives or required words), cleaned."""
    if value is None:
        return []
    if not isinstance(value, list):
        check.errors.append(f"{where}: must be a list of terms")
        return []
    if len(value) > MAX_POINT_TERMS:
        check.errors.append(f"{where}: at most {MAX_POINT_TERMS} terms")
    terms = []
    for j, term in enumerate(value):
        if not isinstance(term, str) or not term.strip():
            check.errors.append(f"{where}[{j}]: must be non-empty text")
        elif len(term.strip()) > TERM_CHARS:
            check.errors.append(f"{where}[{j}]: longer than {TERM_CHARS} characters")
        else:
            terms.append(term.strip())
    return terms
