"""A fast yes/no JSON Schema check for the keywords the case schema uses.

``jsonschema`` reports *where* and *why* a document is invalid, at ~0.5 ms an
annotation; loading 200 cases spent most of its time there. :func:`is_valid`
answers only *whether* a document is valid, 20-50x faster, by interpreting the
same schema (:class:`Checker`) or, faster still, by a compiled form of it: closures
built once per schema, one per node for the shapes the case schema is made of
(``_fused``). It is strict: a keyword it does not know makes it answer ``None``
(unknown), and callers then run ``jsonschema``; when it answers ``False`` they run
``jsonschema`` for the messages. So a document is accepted only when both would
accept it (the tests compare the two on valid and mutated documents).
"""

from __future__ import annotations

import functools
import itertools
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
        fn = _fused(self, schema) or _all_of(self.keywords(schema, ()))
        slot.append(fn)
        self.done[key] = fn
        return fn

    def keywords(self, schema: dict[str, Any], skip: tuple[str, ...]) -> list[Check]:
        """One check per keyword of ``schema`` (but those in ``skip``)."""
        checks = []
        for name, arg in schema.items():
            if name in _IGNORED or name in ("then", "else") or name in skip:
                continue
            make = _COMPILE.get(name)
            if make is None:
                raise Unknown(name)
            checks.append(make(self, arg, schema))
        return checks

    def resolve(self, schema: Any) -> Any:
        """``schema`` with the ``$ref`` chain of a schema that is only a ``$ref`` followed."""
        for _ in range(32):
            if not isinstance(schema, dict) or set(schema) - _IGNORED != {"$ref"}:
                return schema
            schema = self.checker._ref(schema["$ref"])
        return schema


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
    bulk = _bulk_test(c, arg)

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        tail = v[start:] if start else v
        if bulk is not None and bulk(tail):
            return True
        for x in tail:
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

# --------------------------------------------------------------------------- fused nodes
# A node of the compiled schema costs a call per keyword: a case of 30 annotations made
# ~1,500 calls. The shapes the case schema is made of (a typed leaf, an object, an array,
# an enum of strings) compile instead into one closure each that tests the value's type
# once. Arrays of numbers and of number pairs (points, RLE counts) are checked in bulk
# first, in C where possible; when the bulk test does not say yes, the items are checked
# one by one, so the bulk test only has to be a sufficient condition.

_LEAF_KEYS = {
    "string": {"type", "minLength", "maxLength", "pattern"},
    "number": {"type", "minimum", "maximum"},
    "integer": {"type", "minimum", "maximum"},
}
_OBJECT_KEYS = {"type", "required", "properties", "additionalProperties"}
_ARRAY_KEYS = {"type", "items", "prefixItems", "minItems", "maxItems"}
#: strings that matched a pattern, per pattern (a case repeats its timestamps)
_MATCHED_CAP = 4096


def _keys(schema: dict[str, Any]) -> set[str]:
    return set(schema) - _IGNORED


def _one_type(schema: dict[str, Any]) -> tuple[str, bool] | None:
    """The one JSON type ``type`` names besides ``null``, and whether ``null`` is allowed."""
    t = schema.get("type")
    names = [t] if isinstance(t, str) else t
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    rest = [n for n in names if n != "null"]
    if len(rest) != 1 or len(names) > 2 or rest[0] not in _TYPES:
        return None
    return rest[0], len(names) == 2


def _matcher(pattern: str) -> Callable[[str], bool]:
    """``pattern`` searched in a string; strings found to match are remembered."""
    search = _pattern(pattern).search
    matched: set[str] = set()

    def match(v: str) -> bool:
        exact = type(v) is str  # a subclass could compare equal to another string
        if exact and v in matched:
            return True
        if search(v) is None:
            return False
        if exact:
            if len(matched) >= _MATCHED_CAP:
                matched.clear()
            matched.add(v)
        return True

    return match


def _fused(c: _Compiler, schema: dict[str, Any]) -> Check | None:
    """One closure for a schema of a shape listed above; ``None`` for any other."""
    keys = _keys(schema)
    if keys == {"enum"} and all(e is None or type(e) is str for e in schema["enum"]):
        return _string_enum(schema["enum"])
    if keys == {"const"} and type(schema["const"]) is str:
        return _string_enum([schema["const"]])
    if "type" not in keys and keys & {"properties", "required"}:
        return _object(c, schema, None)  # object keywords for objects; other values pass
    typed = _one_type(schema)
    if typed is None:
        return None
    kind, nullable = typed
    if kind in _LEAF_KEYS and keys <= _LEAF_KEYS[kind]:
        if kind == "string":
            return _string_leaf(schema, nullable)
        return _number_leaf(schema, kind, nullable)
    if kind == "object":
        return _object(c, schema, nullable)
    if kind == "array":
        return _array(c, schema, nullable)
    return None


def _string_enum(values: list[Any]) -> Check:
    strings = frozenset(e for e in values if e is not None)
    none = None in values

    def check(v: Any) -> bool:
        if type(v) is str:
            return v in strings
        if v is None:
            return none
        return any(_equal(v, e) for e in values)  # a str subclass, a number …

    return check


def _string_leaf(schema: dict[str, Any], nullable: bool) -> Check:
    low = schema.get("minLength", 0)
    high = schema.get("maxLength", math.inf)
    if "pattern" in schema:
        match = _matcher(schema["pattern"])

        def matching(v: Any) -> bool:
            if isinstance(v, str):
                return low <= len(v) <= high and match(v)
            return nullable and v is None

        return matching
    if "minLength" in schema or "maxLength" in schema:

        def sized(v: Any) -> bool:
            if isinstance(v, str):
                return low <= len(v) <= high
            return nullable and v is None

        return sized
    return lambda v: isinstance(v, str) or (nullable and v is None)


def _number_leaf(schema: dict[str, Any], kind: str, nullable: bool) -> Check:
    is_type = _TYPES[kind]
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is None or high is None:

        def bounded(v: Any) -> bool:
            if not is_type(v):
                return nullable and v is None
            return (low is None or v >= low) and (high is None or v <= high)

        return bounded

    def between(v: Any) -> bool:
        if type(v) is int or is_type(v):  # an int is a number and an integer
            return low <= v <= high
        return nullable and v is None

    return between


def _object(c: _Compiler, schema: dict[str, Any], nullable: bool | None) -> Check:
    """``nullable`` None: the schema has no ``type``, and values not objects pass the
    object keywords."""
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    other = None if extra is True else c.node(extra)
    if "patternProperties" in schema:
        raise Unknown("patternProperties")
    props: dict[str, Check | None] = {}
    for name, sub in schema.get("properties", {}).items():
        f = c.node(sub)
        props[name] = None if f is _always else f
    rest = tuple(c.keywords(schema, tuple(_OBJECT_KEYS)))
    look = any(f is not None for f in props.values()) or other is not None

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            passes = v is None if nullable else nullable is None
            return passes and all(g(v) for g in rest)
        for k in required:
            if k not in v:
                return False
        for k, x in v.items() if look else ():
            f = props.get(k, other)  # not a property: additionalProperties
            if f is not None and not f(x):
                return False
        for g in rest:
            if not g(v):
                return False
        return True

    return check


def _array(c: _Compiler, schema: dict[str, Any], nullable: bool) -> Check:
    low = schema.get("minItems", 0)
    high = schema.get("maxItems", math.inf)
    prefix = tuple(c.node(sub) for sub in schema.get("prefixItems", ()))
    start = len(prefix)
    items = c.node(schema["items"]) if "items" in schema else None
    bulk = _bulk_test(c, schema["items"]) if "items" in schema else None
    rest = tuple(c.keywords(schema, tuple(_ARRAY_KEYS)))

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return nullable and v is None and all(g(v) for g in rest)
        if not low <= len(v) <= high:
            return False
        for x, f in zip(v, prefix, strict=False):
            if not f(x):
                return False
        if items is not None:
            tail = v[start:] if start else v
            if not (bulk is not None and bulk(tail)):
                for x in tail:
                    if not items(x):
                        return False
        for g in rest:
            if not g(v):
                return False
        return True

    return check


def _number_bounds(schema: Any) -> tuple[str, float, float] | None:
    """``(kind, low, high)`` of a schema that is a number or integer with bounds, no null."""
    if not isinstance(schema, dict) or not _keys(schema) <= _LEAF_KEYS["number"]:
        return None
    kind = schema.get("type")
    if kind not in ("number", "integer"):
        return None
    return kind, schema.get("minimum", -math.inf), schema.get("maximum", math.inf)


def _bulk_test(c: _Compiler, item_schema: Any) -> Callable[[list[Any]], bool] | None:
    """A test that all of a list's items are valid, at C speed, for items that are bounded
    numbers or fixed-length lists of them; ``None`` for other items.

    Only plain ``int``/``float`` values pass it (no bool, no subclass); NaN fails every
    comparison. Whatever fails it is checked item by item.
    """
    item = c.resolve(item_schema)
    leaf = _number_bounds(item)
    if leaf is not None:
        kind, low, high = leaf
        plain = {int, float} if kind == "number" else {int}

        def numbers(v: list[Any]) -> bool:
            kinds = set(map(type, v))
            if not kinds <= plain:
                return False
            if kinds == {int}:  # exact: min and max of ints
                return not v or (low <= min(v) and max(v) <= high)
            return all(low <= x <= high for x in v)

        return numbers
    if not isinstance(item, dict) or not _keys(item) <= _ARRAY_KEYS - {"items"}:
        return None
    parts = [_number_bounds(c.resolve(sub)) for sub in item.get("prefixItems", ())]
    n = len(parts)
    if (
        item.get("type") != "array"
        or not all(p is not None and p[0] == "number" for p in parts)
        or item.get("minItems") != n
        or item.get("maxItems") != n
        or n == 0
    ):
        return None
    low = max(p[1] for p in parts if p is not None)  # a value within every part's bounds
    high = min(p[2] for p in parts if p is not None)

    def tuples(v: list[Any]) -> bool:
        if not set(map(type, v)) <= {list} or not set(map(len, v)) <= {n}:
            return False
        values = list(itertools.chain.from_iterable(v))
        if not set(map(type, values)) <= {int, float}:
            return False
        return all(low <= x <= high for x in values)

    return tuples


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
