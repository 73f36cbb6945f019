"""A fast yes/no JSON Schema check for the keywords the case schema uses.

``jsonschema`` reports *where* and *why* a document is invalid, at ~0.5 ms an
annotation; loading 200 cases spent most of its time there. :func:`is_valid`
answers only *whether* a document is valid, 20-50x faster, by interpreting the
same schema. It is strict: a keyword it does not know makes it answer ``None``
(unknown), and callers then run ``jsonschema``; when it answers ``False`` they run
``jsonschema`` for the messages. So a document is accepted only when both would
accept it (the tests compare the two on valid and mutated documents).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and math.isfinite(v) and v.is_integer())
    ),
}
# annotations only: they never change validity
_IGNORED = {"$schema", "$id", "$comment", "title", "description", "default", "$defs", "examples"}


class Unknown(Exception):
    """The schema uses a keyword this checker does not implement."""


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@functools.lru_cache(maxsize=64)
def _pattern(p: str) -> re.Pattern[str]:
    return re.compile(p)


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class Checker:
    """``Checker(schema).valid(doc)``: True / False, or raises :class:`Unknown`."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema

    def _ref(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise Unknown(ref)
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def valid(self, value: Any, schema: Any = None) -> bool:
        if schema is None:
            schema = self.root
        if schema is True:
            return True
        if schema is False:
            return False
        for key, arg in schema.items():
            if key in _IGNORED:
                continue
            check = _KEYWORDS.get(key)
            if check is None:
                if key in ("then", "else"):
                    continue  # handled with "if"
                raise Unknown(key)
            if not check(self, value, arg, schema):
                return False
        return True


def _type(c: Checker, v: Any, arg: Any, s: Any) -> bool:
    names = arg if isinstance(arg, list) else [arg]
    return any(_TYPES[n](v) for n in names)


def _properties(c: Checker, v: Any, arg: Any, s: Any) -> bool:
    if not isinstance(v, dict):
        return True
    return all(c.valid(v[k], sub) for k, sub in arg.items() if k in v)


def _additional(c: Checker, v: Any, arg: Any, s: Any) -> bool:
    if not isinstance(v, dict):
        return True
    if "patternProperties" in s:
        raise Unknown("patternProperties")
    known = s.get("properties", {})
    return all(c.valid(v[k], arg) for k in v if k not in known)


def _items(c: Checker, v: Any, arg: Any, s: Any) -> bool:
    if not isinstance(v, list):
        return True
    start = len(s.get("prefixItems", ()))
    return all(c.valid(x, arg) for x in v[start:])


def _prefix(c: Checker, v: Any, arg: Any, s: Any) -> bool:
    if not isinstance(v, list):
        return True
    return all(c.valid(x, sub) for x, sub in zip(v, arg, strict=False))


def _if(c: Checker, v: Any, arg: Any, s: Any) -> bool:
    if c.valid(v, arg):
        return c.valid(v, s.get("then", True))
    return c.valid(v, s.get("else", True))


_KEYWORDS: dict[str, Callable[[Checker, Any, Any, Any], bool]] = {
    "type": _type,
    "$ref": lambda c, v, arg, s: c.valid(v, c._ref(arg)),
    "properties": _properties,
    "additionalProperties": _additional,
    "required": lambda c, v, arg, s: not isinstance(v, dict) or all(k in v for k in arg),
    "items": _items,
    "prefixItems": _prefix,
    "minItems": lambda c, v, arg, s: not isinstance(v, list) or len(v) >= arg,
    "maxItems": lambda c, v, arg, s: not isinstance(v, list) or len(v) <= arg,
    "minLength": lambda c, v, arg, s: not isinstance(v, str) or len(v) >= arg,
    "maxLength": lambda c, v, arg, s: not isinstance(v, str) or len(v) <= arg,
    "pattern": lambda c, v, arg, s: not isinstance(v, str) or bool(_pattern(arg).search(v)),
    "minimum": lambda c, v, arg, s: not _num(v) or v >= arg,
    "maximum": lambda c, v, arg, s: not _num(v) or v <= arg,
    "exclusiveMinimum": lambda c, v, arg, s: not _num(v) or v > arg,
    "exclusiveMaximum": lambda c, v, arg, s: not _num(v) or v < arg,
    "enum": lambda c, v, arg, s: any(_equal(v, e) for e in arg),
    "const": lambda c, v, arg, s: _equal(v, arg),
    "allOf": lambda c, v, arg, s: all(c.valid(v, sub) for sub in arg),
    "anyOf": lambda c, v, arg, s: any(c.valid(v, sub) for sub in arg),
    "oneOf": lambda c, v, arg, s: sum(c.valid(v, sub) for sub in arg) == 1,
    "not": lambda c, v, arg, s: not c.valid(v, arg),
    "if": _if,
}


def is_valid(schema: dict[str, Any], doc: Any) -> bool | None:
    """True / False when the document is valid against ``schema``; ``None``: cannot tell."""
    try:
        return Checker(schema).valid(doc)
    except (Unknown, KeyError, TypeError, RecursionError, re.error):
        return None
