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


Check = Callable[[Any], bool]


def _always(v: Any) -> bool:
    return True


def _never(v: Any) -> bool:
    return False


class _Compiler:
    """The schema turned into nested closures once: :class:`Checker`'s answers, faster.

    The interpreter looks every keyword up again for every value it checks; a
    compiled schema does those look-ups (and ``$ref`` resolution) once, so checking
    a case costs a few function calls per value. A keyword it does not know raises
    :class:`Unknown` when compiling.
    """

    def __init__(self, root: dict[str, Any]) -> None:
        self.checker = Checker(root)
        self.done: dict[int, Check] = {}

    def node(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        key = id(schema)
        if key in self.done:
            return self.done[key]
        slot: list[Check] = []
        self.done[key] = lambda v: slot[0](v)  # a $ref back to a schema being compiled
        checks = []
        for name, arg in schema.items():
            if name in _IGNORED or name in ("then", "else"):
                continue
            make = _COMPILE.get(name)
            if make is None:
                raise Unknown(name)
            checks.append(make(self, arg, schema))
        fn = _all_of(checks)
        slot.append(fn)
        self.done[key] = fn
        return fn


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    tup = tuple(checks)

    def every(v: Any) -> bool:
        for c in tup:
            if not c(v):
                return False
        return True

    return every


def _c_type(c: _Compiler, arg: Any, s: Any) -> Check:
    names = arg if isinstance(arg, list) else [arg]
    tests = tuple(_TYPES[n] for n in names)
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(t(v) for t in tests)


def _c_properties(c: _Compiler, arg: Any, s: Any) -> Check:
    props = tuple((k, c.node(sub)) for k, sub in arg.items())

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for k, f in props:
            if k in v and not f(v[k]):
                return False
        return True

    return check


def _c_additional(c: _Compiler, arg: Any, s: Any) -> Check:
    if "patternProperties" in s:
        raise Unknown("patternProperties")
    known = frozenset(s.get("properties", {}))
    f = c.node(arg)
    return lambda v: not isinstance(v, dict) or all(f(v[k]) for k in v if k not in known)


def _c_items(c: _Compiler, arg: Any, s: Any) -> Check:
    start = len(s.get("prefixItems", ()))
    f = c.node(arg)

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        for x in v[start:] if start else v:
            if not f(x):
                return False
        return True

    return check


def _c_prefix(c: _Compiler, arg: Any, s: Any) -> Check:
    subs = tuple(c.node(sub) for sub in arg)
    return lambda v: not isinstance(v, list) or all(f(x) for x, f in zip(v, subs, strict=False))


def _c_if(c: _Compiler, arg: Any, s: Any) -> Check:
    cond, then, other = c.node(arg), c.node(s.get("then", True)), c.node(s.get("else", True))
    return lambda v: then(v) if cond(v) else other(v)


def _c_ref(c: _Compiler, arg: Any, s: Any) -> Check:
    return c.node(c.checker._ref(arg))  # a schema being compiled answers through its slot


def _c_pattern(c: _Compiler, arg: Any, s: Any) -> Check:
    search = _pattern(arg).search
    return lambda v: not isinstance(v, str) or bool(search(v))


def _c_enum(c: _Compiler, arg: Any, s: Any) -> Check:
    return lambda v: any(_equal(v, e) for e in arg)


_COMPILE: dict[str, Callable[[_Compiler, Any, Any], Check]] = {
    "type": _c_type,
    "$ref": _c_ref,
    "properties": _c_properties,
    "additionalProperties": _c_additional,
    "required": lambda c, arg, s: lambda v: not isinstance(v, dict) or all(k in v for k in arg),
    "items": _c_items,
    "prefixItems": _c_prefix,
    "minItems": lambda c, arg, s: lambda v: not isinstance(v, list) or len(v) >= arg,
    "maxItems": lambda c, arg, s: lambda v: not isinstance(v, list) or len(v) <= arg,
    "minLength": lambda c, arg, s: lambda v: not isinstance(v, str) or len(v) >= arg,
    "maxLength": lambda c, arg, s: lambda v: not isinstance(v, str) or len(v) <= arg,
    "pattern": _c_pattern,
    "minimum": lambda c, arg, s: lambda v: not _num(v) or v >= arg,
    "maximum": lambda c, arg, s: lambda v: not _num(v) or v <= arg,
    "exclusiveMinimum": lambda c, arg, s: lambda v: not _num(v) or v > arg,
    "exclusiveMaximum": lambda c, arg, s: lambda v: not _num(v) or v < arg,
    "enum": _c_enum,
    "const": lambda c, arg, s: lambda v: _equal(v, arg),
    "allOf": lambda c, arg, s: _all_of([c.node(sub) for sub in arg]),
    "anyOf": lambda c, arg, s: (lambda fs: lambda v: any(f(v) for f in fs))(
        tuple(c.node(sub) for sub in arg)
    ),
    "oneOf": lambda c, arg, s: (lambda fs: lambda v: sum(f(v) for f in fs) == 1)(
        tuple(c.node(sub) for sub in arg)
    ),
    "not": lambda c, arg, s: (lambda f: lambda v: not f(v))(c.node(arg)),
    "if": _c_if,
}

# compiled schemas by id, with the schema itself (so the id is not reused)
_COMPILED: dict[int, tuple[dict[str, Any], Check | None]] = {}


def _compiled(schema: dict[str, Any]) -> Check | None:
    hit = _COMPILED.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    try:
        fn: Check | None = _Compiler(schema).node(schema)
    except (Unknown, KeyError, TypeError, AttributeError, re.error):
        fn = None  # the interpreter answers (or says it cannot)
    if len(_COMPILED) > 32:
        _COMPILED.clear()
    _COMPILED[id(schema)] = (schema, fn)
    return fn


def is_valid(schema: dict[str, Any], doc: Any) -> bool | None:
    """True / False when the document is valid against ``schema``; ``None``: cannot tell.

    The schema is compiled once (:class:`_Compiler`); one the compiler refuses is
    interpreted (:class:`Checker`). Either way the answer is the same.
    """
    try:
        fn = _compiled(schema)
        if fn is not None:
            return fn(doc)
        return Checker(schema).valid(doc)
    except (Unknown, KeyError, TypeError, RecursionError, re.error):
        return None
