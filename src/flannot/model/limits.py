"""What a case file may hold: bounds every command enforces the same way.

The JSON Schema (``schema/case.schema.json``) states these bounds for other
tools; :func:`parse_json` and :func:`limit_problems` enforce them in one pass
before any of flannot's code sees the data, so ``validate``, ``measure``,
``score`` and ``export`` agree on what is a case file. A value past a bound is
bad input, named with its JSON path.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from typing import Any

import numpy as np

from flannot.errors import FlannotError

#: annotations in one case
MAX_ANNOTATIONS = 10_000
#: points in one geometry (a traced contour of a 4k image has a few thousand)
MAX_POINTS = 100_000
#: |row| and |col|: twice the largest image DICOM can describe (Rows, Columns ≤ 65535)
MAX_COORDINATE = 131_072.0
#: Rows, Columns, a mask's size
MAX_DIMENSION = 65_535
#: frames of one image (the reader's cap)
MAX_FRAMES = 100_000
#: digits of an integer literal (an int64 has 19)
MAX_INT_DIGITS = 19
#: nesting of arrays and objects (a case needs 6)
MAX_DEPTH = 64
#: a spacing or a length in mm
MAX_MM = 1e6
#: a pixel spacing (mm): outside it a header is broken, a calibration line mistyped
#: (the reader, user calibration, calibration lines and the case schema all use it)
SPACING_RANGE = (1e-6, 1e6)


def _bad_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {digits} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _bad_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} overflows")
    return value


def _bad_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


# what makes the strict (slow) checks necessary, searched outside strings; a plain case
# file matches none of them (C-speed scans: a 16 MB file takes a few tens of ms)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BIG_EXPONENT = re.compile(r"[eE]\+?\d{3,}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
#: digits -> "9", every other byte -> " ": a run of 20 digits is then a plain substring
_DIGIT_RUNS = bytes(0x39 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
#: as _DIGIT_RUNS, and e/E/+ -> "e": an exponent of 3 digits (e+308) then reads "e999"
_EXPONENT_DIGITS = bytes(0x65 if b in b"eE+" else _DIGIT_RUNS[b] for b in range(256))
#: every byte but quotes and brackets
_NOT_QUOTES_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')
#: a 3-digit exponent in _EXPONENT_DIGITS classes (re finds it in half the time
#: bytes.find takes: "9", its last byte, is frequent; a run of 20 is quick to find)
_EXPONENT_CLASSES = re.compile(rb"e999")
#: an opening bracket -> 1, a closing one -> -1 (as int8)
_BRACKET_STEPS = bytes.maketrans(b"[{]}", bytes([1, 1, 255, 255]))


def _has_long_int(outside_strings: str) -> bool:
    """``\\d{20,}`` outside strings, in C (the regex took 0.2 s on a 15 MB case)."""
    raw = outside_strings.encode("utf-8", "surrogatepass")
    return b"9" * (MAX_INT_DIGITS + 1) in raw.translate(_DIGIT_RUNS)


def point_array(points: Any) -> np.ndarray | None:
    """A well-formed point list (every point ``[number, number]``, no bool) as an
    ``(n, 2)`` float64 array, checked in C; ``None`` for anything else.

    The type checks run through ``map``/``set`` rather than a Python loop: a
    100,000-point polygon costs milliseconds, not tenths of a second.
    """
    if type(points) is not list:
        return None
    if not points:
        return np.empty((0, 2), dtype=np.float64)
    if set(map(type, points)) != {list} or set(map(len, points)) != {2}:
        return None
    if not set(map(type, itertools.chain.from_iterable(points))) <= {int, float}:
        return None
    try:
        return np.array(points, dtype=np.float64)
    except OverflowError:  # an int past float64 (bounded by MAX_INT_DIGITS: never here)
        return None


def _depth(outside_strings: str) -> int:
    """Deepest nesting of arrays and objects in JSON text whose strings were removed."""
    return _bracket_depth(outside_strings.encode("ascii", "ignore").translate(None, _NOT_BRACKETS))


def _escaped_quote(valid: bytes) -> bool:
    """Whether *valid* JSON text holds an escaped quote (else its quotes simply
    alternate between opening and closing a string)."""
    at = valid.find(b"\\")
    while at >= 0:  # in valid JSON a backslash only starts an escape inside a string
        if valid[at + 1 : at + 2] == b'"':
            return True
        at = valid.find(b"\\", at + 2)  # past the escaped character (maybe a backslash)
    return False


def _big_number_outside_strings(valid: bytes) -> bool:
    """Whether *valid* JSON text without escaped quotes may hold, outside its strings,
    an int past :data:`MAX_INT_DIGITS` or a float literal that overflows: a run of 20
    digits or a 3-digit exponent.

    Strings hold such runs often (a UID, a citation's "e230024"): each one found is
    placed by counting the quotes before it (odd: inside a string).
    """
    classes = valid.translate(_EXPONENT_DIGITS)
    found = [m.start() for m in itertools.islice(_EXPONENT_CLASSES.finditer(classes), 65)]
    run = b"9" * (MAX_INT_DIGITS + 1)
    at = classes.find(run)
    while at >= 0 and len(found) <= 64:
        found.append(at)
        at = classes.find(run, at + len(run))
    if len(found) > 64:
        return True  # too many to place: the exact path decides
    quotes = last = 0
    for at in sorted(found):
        quotes += valid.count(b'"', last, at)
        last = at
        if quotes % 2 == 0:
            return True
    return False


def _bracket_depth(brackets: bytes) -> int:
    """Deepest nesting of a string of brackets (``[{`` open, ``]}`` close)."""
    steps = np.frombuffer(brackets.translate(_BRACKET_STEPS), np.int8)
    return int(steps.cumsum(dtype=np.int32).max(initial=0))


def _outside_brackets(valid: bytes) -> bytes:
    """The brackets of *valid* JSON text without escaped quotes, outside its strings."""
    quotes_brackets = valid.translate(None, _NOT_QUOTES_BRACKETS)
    # a string without brackets is left as "": when only those remain, drop them at once
    brackets = quotes_brackets.replace(b'""', b"")
    if b'"' in brackets:  # some string holds a bracket: its quotes were not all adjacent
        brackets = b"".join(quotes_brackets.split(b'"')[::2])
    return brackets


_UNSURE = object()


def _parse_plain(content: bytes, text: str) -> Any:
    """Parse ``text`` (``content`` decoded) when it is valid JSON breaking no bound of
    :func:`parse_json`; :data:`_UNSURE` for anything else (the exact path then names it).

    The exact path finds the text outside strings with a regex before parsing (~90 µs
    for an 8 kB case); most case files are valid, so parse first and check after: the
    C parser stops a deep nesting with ``RecursionError`` (a huge int with
    ``ValueError``), and once the text is known to be valid JSON without escaped
    quotes, its strings are the pieces between alternate quotes: the nesting, and any
    number the hooks of the exact path would refuse, are looked for outside them.
    """
    try:
        data = json.loads(text, parse_constant=_bad_constant)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return _UNSURE
    if _escaped_quote(content) or _big_number_outside_strings(content):
        return _UNSURE
    if _bracket_depth(_outside_brackets(content)) > MAX_DEPTH:
        return _UNSURE
    return data


def _lone_surrogate(data: Any) -> bool:
    """Whether any string (or key) holds a lone UTF-16 surrogate; iterative, no recursion."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if not node.isascii():
                try:
                    node.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(v for v in node.values() if isinstance(v, (dict, list, str)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list, str)))
    return False


def parse_json(content: bytes, file: str | os.PathLike[str] | None, what: str = "JSON") -> Any:
    """Parse UTF-8 JSON strictly: finite numbers, bounded integers and nesting, no lone surrogates.

    Parameters
    ----------
    content
        The file's bytes (a UTF-8 byte order mark is accepted).
    file
        Named in the error.
    what
        What the file is, for the message (``"case file"`` …).

    Raises
    ------
    FlannotError
        One line naming the file: not UTF-8, not JSON (line and column), NaN or
        Infinity, an overflowing number, an integer of more than 19 digits, nesting
        deeper than :data:`MAX_DEPTH`, or a lone surrogate.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FlannotError(f"not UTF-8 text (byte {exc.start}); not a {what}", file) from None
    try:
        data = _parse_plain(content, text)
        if data is _UNSURE:  # invalid, or out of bounds: find out exactly what, and where
            data = _parse_exact(text)
        if _SURROGATE_ESCAPE.search(text) and _lone_surrogate(data):
            raise ValueError("a string holds a lone UTF-16 surrogate")
    except json.JSONDecodeError as exc:
        raise FlannotError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", file
        ) from None
    except RecursionError:
        raise FlannotError(
            f"not valid JSON: nested more than {MAX_DEPTH} levels deep", file
        ) from None
    except ValueError as exc:
        raise FlannotError(f"not a valid {what}: {exc}", file) from None
    return data


def _parse_exact(text: str) -> Any:
    """Parse ``text`` strictly, checking the bounds in the order the file breaks them.

    The nesting is checked on the text outside strings before parsing; the hooks that
    name an out-of-bounds number run only when the text outside strings holds one.
    """
    outside = _STRING.sub('""', text)
    if _depth(outside) > MAX_DEPTH:  # before parsing: the parser itself recurses
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if _has_long_int(outside) or _BIG_EXPONENT.search(outside):
        # strictly, with hooks that name the number (slower: only for such files)
        return json.loads(
            text, parse_int=_bad_int, parse_float=_bad_float, parse_constant=_bad_constant
        )
    return json.loads(text, parse_constant=_bad_constant)


def _points_problem(points: Any, path: str, arr: np.ndarray | None) -> tuple[str, str] | None:
    if not isinstance(points, list):
        return None
    if len(points) > MAX_POINTS:
        return path, f"{len(points)} points; a geometry holds at most {MAX_POINTS}"
    if arr is not None:  # the common case, vectorised; else the loop names the point
        if np.isfinite(arr).all() and not (np.abs(arr) > MAX_COORDINATE).any():
            return None
    for j, p in enumerate(points):
        if not isinstance(p, list):
            continue
        for v in p:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            if not math.isfinite(v):
                return f"{path}[{j}]", "coordinate is not a finite number"
            if abs(v) > MAX_COORDINATE:
                return f"{path}[{j}]", (
                    f"coordinate {v:g} is far outside any image (|value| ≤ {MAX_COORDINATE:g})"
                )
    return None


def limit_problems(data: Any, well_formed: set[int] | None = None) -> list[tuple[str, str]]:
    """``(json path, message)`` for every bound of this module a parsed case breaks.

    Cheap (one pass over the points in Python): run before the JSON Schema, which
    would take minutes on 10⁵ annotations. Past :data:`MAX_ANNOTATIONS` nothing
    else is looked at. ``well_formed``, when given, collects the ``id`` of every
    point list that is well formed (:func:`point_array`), so a caller holding
    ``data`` need not check them again.
    """
    if not isinstance(data, dict):
        return []
    out: list[tuple[str, str]] = []
    anns = data.get("annotations")
    if isinstance(anns, list) and len(anns) > MAX_ANNOTATIONS:
        return [
            ("$.annotations", f"{len(anns)} annotations; a case holds at most {MAX_ANNOTATIONS}")
        ]
    image = data.get("image")
    rows = cols = None
    if isinstance(image, dict):
        rows, cols = image.get("rows"), image.get("columns")
    for i, a in enumerate(anns if isinstance(anns, list) else []):
        g = a.get("geometry") if isinstance(a, dict) else None
        if not isinstance(g, dict):
            continue
        points = g.get("points")
        fits = isinstance(points, list) and len(points) <= MAX_POINTS
        arr = point_array(points) if fits else None
        if arr is not None and well_formed is not None:
            well_formed.add(id(points))
        path = f"$.annotations[{i}].geometry.points"
        found = _points_problem(points, path, arr)
        if found is None and _is_size(rows) and _is_size(cols):
            found = _far_outside(points, int(rows or 0), int(cols or 0), path, arr)
        if found is not None:
            out.append(found)
    return out


def within_limits(data: Any) -> bool:
    """Whether :func:`limit_problems` finds nothing, answered for the whole case at once.

    ``True`` only when it would return ``[]``: at most :data:`MAX_ANNOTATIONS`, and
    every point list at most :data:`MAX_POINTS` ``[number, number]`` points, finite,
    ``|value| ≤`` :data:`MAX_COORDINATE`, not far outside a recorded image size.
    Checked in C over all the points of the case (:func:`limit_problems` builds an
    array per annotation to name the point at fault, ~10 µs each); ``False`` also when
    the answer is not plain (a malformed point list, a huge int), for the exact checks.
    """
    anns = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(anns, list):
        return True
    if len(anns) > MAX_ANNOTATIONS:
        return False
    lists = []
    for a in anns:
        g = a.get("geometry") if isinstance(a, dict) else None
        points = g.get("points") if isinstance(g, dict) else None
        if isinstance(points, list):
            lists.append(points)
    if max(map(len, lists), default=0) > MAX_POINTS:
        return False
    points = list(itertools.chain.from_iterable(lists))
    if not set(map(type, points)) <= {list} or not set(map(len, points)) <= {2}:
        return False
    values = list(itertools.chain.from_iterable(points))
    if not values:
        return True
    if not set(map(type, values)) <= {int, float}:
        return False
    try:
        if not math.isfinite(sum(values)):
            return False  # a NaN or an inf (or a sum past float64: the exact path decides)
    except OverflowError:  # an int past float64
        return False
    r, c = values[0::2], values[1::2]
    low_r, high_r, low_c, high_c = min(r), max(r), min(c), max(c)
    if min(low_r, low_c) < -MAX_COORDINATE or max(high_r, high_c) > MAX_COORDINATE:
        return False
    image = data.get("image")
    rows: Any = image.get("rows") if isinstance(image, dict) else None
    cols: Any = image.get("columns") if isinstance(image, dict) else None
    if _is_size(rows) and _is_size(cols):
        return -rows <= low_r and high_r <= 2 * rows and -cols <= low_c and high_c <= 2 * cols
    return True


def _is_size(v: Any) -> bool:
    return type(v) is int and 0 < v <= MAX_DIMENSION


def _far_outside(
    points: Any, rows: int, cols: int, path: str, arr: np.ndarray | None
) -> tuple[str, str] | None:
    """A point more than one image size beyond the image's edge (a typo or an attack)."""
    if not isinstance(points, list):
        return None
    if arr is not None and len(arr):  # vectorised; the loop below names the first one
        r, c = arr[:, 0], arr[:, 1]
        if ((r >= -rows) & (r <= 2 * rows) & (c >= -cols) & (c <= 2 * cols)).all():
            return None
    for j, p in enumerate(points):
        if (
            isinstance(p, list)
            and len(p) == 2
            and all(type(v) in (int, float) for v in p)
            and not (-rows <= p[0] <= 2 * rows and -cols <= p[1] <= 2 * cols)
        ):
            return f"{path}[{j}]", (
                f"[{p[0]:g}, {p[1]:g}] is far outside the {rows}x{cols} image"
                " (more than one image size beyond its edge)"
            )
    return None
