"""Parsing bank text safely: YAML (a superset of JSON) with duplicate keys refused and nesting bounded."""

from __future__ import annotations

from typing import Any

import yaml

from .errors import BankError

MAX_DEPTH = 32  # a bank is 5 levels deep; anything far deeper is not a bank file


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load that refuses duplicate mapping keys instead of keeping the last one."""


class _FastUniqueKeyLoader(getattr(yaml, "CSafeLoader", _UniqueKeyLoader)):
    """The same on libyaml's parser when PyYAML has it (its wheels do): a 2,000-question file parses
    several times faster (bench/import_bank.py). Construction stays PyYAML's safe constructor."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FastUniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def too_deep(name: str) -> BankError:
    """The error for a file nested deeper than any bank."""
    return BankError([f"{name}: nested more than {MAX_DEPTH} levels deep; this is not a bank file"])


def check_depth(raw: str, name: str) -> None:
    """Refuse YAML nested deeper than MAX_DEPTH before building anything from it.

    PyYAML builds nested nodes by recursion in C, which overflows the stack (the worker dies with
    SIGSEGV) at 20-40 thousand levels, before Python's RecursionError could be caught. libyaml's event
    stream is a loop, so counting open collections on it is safe and cheap (about a quarter of the
    parse itself); a syntax error is left for the parse to report with its position.
    """
    depth = 0
    try:
        for event in yaml.parse(raw, Loader=_FAST_LOADER):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise too_deep(name)
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.YAMLError:
        return


def parse(raw: bytes | str, name: str = "bank") -> Any:
    """Parse YAML (a superset of JSON) safely; raise BankError on bad encoding, depth or syntax."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BankError([f"{name}: not UTF-8 text (byte {exc.start})"]) from None
    check_depth(raw, name)
    try:
        return yaml.load(raw, Loader=_FastUniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError:
        pass
    try:
        # Parse a broken file again for the message: the pure-Python parser points at the mistake
        # itself, where libyaml often points at the end of the file.
        return yaml.load(raw, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BankError([f"{name}: YAML syntax error{where}: {problem}"]) from None
