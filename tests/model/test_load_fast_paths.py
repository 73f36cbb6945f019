"""The fast paths of ``Case.load`` answer exactly as the exact paths they stand in for.

Each fast path (:func:`flannot.model.limits.parse_json` parsing first,
:func:`~flannot.model.limits.within_limits`, the fused schema closures of
:mod:`flannot.model.fastcheck`) only says "valid, here it is"; anything else goes the
exact way. These tests load cases both ways — valid ones and mutated ones — and
compare the cases or the one-line errors.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flannot import FlannotError
from flannot.model import Case, Geometry, fastcheck, limits, validate
from flannot.model.annotation import Annotation, _normalise_level_lenient
from flannot.model.levels import normalize_level
from tests.model.conftest import build_case

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms" / "cases"
SAMPLE_FILES = sorted(SAMPLE.glob("*/annotations.json"))


@contextmanager
def _exact_paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every fast path off: the regex scans before parsing, the per-annotation limits,
    the schema compiled keyword by keyword (as before the fused closures)."""
    with monkeypatch.context() as m:
        m.setattr(limits, "_parse_plain", lambda content, text: limits._UNSURE)
        m.setattr(validate, "within_limits", lambda data: False)
        m.setattr(fastcheck, "_fused", lambda c, schema: None)
        m.setattr(fastcheck, "_bulk_test", lambda c, schema: None)
        fastcheck._COMPILED.clear()
        yield
    fastcheck._COMPILED.clear()


def _outcome(file: Path) -> Any:
    """The loaded case as comparable data (points with dtype and shape), or the error."""
    try:
        case = Case.load(file)
    except FlannotError as exc:
        return "error: " + str(exc)
    arrays = [
        (a.geometry.points.dtype.str, a.geometry.points.shape, a.geometry.points.tobytes())
        for a in case.annotations
    ]
    return case.to_dict(), arrays, [(a.level, a.side, a.frame) for a in case.annotations]


def _both_ways(file: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = _outcome(file)
    with _exact_paths(monkeypatch):
        exact = _outcome(file)
    return fast, exact


def _paths(node: Any, at: tuple = ()) -> list[tuple]:
    out = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out += _paths(v, (*at, i))
    return out


ODD: list[Any] = [
    None,
    True,
    0,
    -1,
    3.0,
    1.5,
    2**63,
    1e300,
    131072,
    131072.5,
    -131073,
    "",
    "x",
    "l4_l5",
    " Left ",
    "2026-11-21T10:00:00Z",
    "2026-11-21 10:00",
    "mask",
    "planning",
    [],
    {},
    [[1.0, 2.0]],
    [[1, 2, 3]],
    [[True, 1.0]],
    [[1e9, 1.0]],
    [[5000.0, 5.0]],
    {"size": [4, 4], "counts": [2, 14]},
    {"size": [4, 4], "counts": [2, -1]},
    {"size": [4, 4], "counts": "52"},
]


def _mutated(rng: random.Random, doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    path = rng.choice(_paths(doc)[1:])
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    if rng.random() < 0.75 or not isinstance(parent, dict):
        parent[path[-1]] = copy.deepcopy(rng.choice(ODD))
    else:
        del parent[path[-1]]
    return doc


def test_the_sample_cases_load_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(SAMPLE_FILES) > 10
    for file in SAMPLE_FILES:
        fast, exact = _both_ways(file, monkeypatch)
        assert not isinstance(fast, str), fast
        assert fast == exact, file


def test_the_fast_paths_are_taken_for_the_sample_cases() -> None:
    for file in SAMPLE_FILES:
        content = file.read_bytes()
        data = limits._parse_plain(content, content.decode("utf-8-sig"))
        assert data is not limits._UNSURE, file
        assert limits.within_limits(data), file
        assert fastcheck.is_valid(validate._schema_past_limits(), data) is True, file


@pytest.mark.parametrize("seed", range(3))
def test_mutated_cases_load_or_fail_the_same_both_ways(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    docs = [json.loads(f.read_text(encoding="utf-8")) for f in SAMPLE_FILES[:6]]
    docs.append(build_case().to_dict())
    failed = 0
    for n in range(60):
        doc = _mutated(rng, rng.choice(docs))
        if rng.random() < 0.3:
            doc = _mutated(rng, doc)
        file = tmp_path / f"{n}.json"
        file.write_text(json.dumps(doc, indent=rng.choice([None, 2])), encoding="utf-8")
        fast, exact = _both_ways(file, monkeypatch)
        assert fast == exact, doc
        failed += isinstance(fast, str)
    assert 10 < failed < 55  # both outcomes are exercised


# --------------------------------------------------------------------------- parse_json
_BASE = (SAMPLE / "lateral" / "annotations.json").read_text(encoding="utf-8")


def _with(value: str) -> str:
    return _BASE.replace('"notes": ', f'"x_v": {value}, "notes": ', 1)


PLAIN = [
    '"1.2.840.12345678901234567890123456"',  # a UID: a long digit run in a string
    '"Radiol Artif Intell 2023;5(5):e230024"',  # a big "exponent" in a string
    '"E+308 and [[[[ or ]]]] in a note"',
    '"back\\\\slash\\n and \\u00e9"',
    "1234567890123456789",
    "-1e99",
    "1e-999",
    "[" * 63 + "]" * 63,  # with the case object: 64 levels, the most allowed
]
EXACT = [
    '"an \\"escaped\\" quote"',
    "12345678901234567890",
    "0.12345678901234567890",
    "1e400",
    "1E+308",
    "[" * 64 + "]" * 64,  # with the case object: 65 levels
    "[" * 2000 + "]" * 2000,
    '{"x": 1, "x": ' + "[" * 70 + "]" * 70 + "}",
    "NaN",
    "[1, 2",
]


@pytest.mark.parametrize("value", PLAIN)
def test_plain_text_is_parsed_on_the_fast_path(value: str) -> None:
    text = _with(value)
    data = limits._parse_plain(text.encode(), text)
    assert data is not limits._UNSURE
    assert data == limits._parse_exact(text)


@pytest.mark.parametrize("value", EXACT)
def test_anything_else_takes_the_exact_path(value: str) -> None:
    text = _with(value)
    assert limits._parse_plain(text.encode(), text) is limits._UNSURE


def test_parse_json_fast_and_exact_agree_on_mutated_text() -> None:
    rng = random.Random(7)
    snippets = ['"', "\\", '\\"', "[", "]", "{", "}", "1e400", "9" * 25, "e999", ",", "\n"]
    for _ in range(400):
        text = _BASE
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(snippets) + text[at + rng.randint(0, 2) :]
        data = limits._parse_plain(text.encode(), text)
        if data is limits._UNSURE:
            continue
        assert data == limits._parse_exact(text)  # no error the exact path would raise


# --------------------------------------------------------------------------- limits
@pytest.mark.parametrize(
    "points",
    [
        [[1, 2]],
        [[float("nan"), 1.0]],
        [[float("inf"), 1.0]],
        [[1e308, 1e308], [1e308, 1.0]],
        [[True, 1]],
        [[131072, -131072]],
        [[131073, 0]],
        [[600, 5]],
        [[-513, 5]],
        [[-512, 5]],
        [[5, 1024.5]],
        [],
        [[1, 2, 3]],
        [[np.float64(1.0), 2.0]],
        [(1.0, 2.0)],
        "12",
    ],
)
def test_within_limits_only_when_limit_problems_finds_nothing(points: Any) -> None:
    data = {
        "image": {"rows": 512, "columns": 512},
        "annotations": [{"geometry": {"points": points}}],
    }
    assert not limits.within_limits(data) or limits.limit_problems(data) == []
    plain = type(points) is list and all(
        type(p) is list and len(p) == 2 and {type(v) for v in p} <= {int, float} for p in points
    )
    if plain:  # a plain list is decided here, either way
        assert limits.within_limits(data) == (limits.limit_problems(data) == [])


def test_within_limits_counts_annotations_and_points() -> None:
    many = {"annotations": [{"geometry": {"points": [[1.0, 1.0]]}}] * 10_001}
    assert not limits.within_limits(many)
    long = {"annotations": [{"geometry": {"points": [[1.0, 1.0]] * 100_001}}]}
    assert not limits.within_limits(long)


def test_the_schema_past_limits_only_drops_the_point_check() -> None:
    full, past = validate.case_schema(), validate._schema_past_limits()
    assert "items" in full["$defs"]["geometry"]["properties"]["points"]
    without = copy.deepcopy(full)
    del without["$defs"]["geometry"]["properties"]["points"]["items"]
    assert past == without
    point = full["$defs"]["point"]
    assert point["minItems"] == point["maxItems"] == 2
    assert full["$defs"]["coordinate"]["maximum"] == limits.MAX_COORDINATE


# --------------------------------------------------------------------------- fastcheck
@pytest.mark.parametrize(
    "items",
    [
        [[1.0, 2.0], [3, 4]],
        [[float("nan"), 1.0]],
        [[1.0, 131072.5]],
        [[True, 1.0]],
        [[np.float64(1.0), 1.0]],
        [[1.0]],
        [[1.0, 2.0, 3.0]],
        [(1.0, 2.0)],
        [],
    ],
)
def test_bulk_point_test_answers_as_the_item_checks(items: list[Any]) -> None:
    schema = validate.case_schema()
    points = {"$defs": schema["$defs"], "items": {"$ref": "#/$defs/point"}}
    exact = fastcheck.Checker(points).valid(items)
    fastcheck._COMPILED.clear()
    assert fastcheck.is_valid(points, items) is exact


@pytest.mark.parametrize(
    ("kind", "items", "valid"),
    [
        ("integer", [0, 5, 4294836225], True),
        ("integer", [0, 4294836226], False),
        ("integer", [-1], False),
        ("integer", [3.0], True),  # an integral float is an integer
        ("integer", [True], False),
        ("number", [0.5, float("nan")], False),
        ("number", [0.5, 7], True),
    ],
)
def test_bulk_number_test_answers_as_the_item_checks(kind: str, items: list, valid: bool) -> None:
    schema = {"type": "array", "items": {"type": kind, "minimum": 0, "maximum": 4294836225}}
    assert fastcheck.Checker(schema).valid(items) is valid
    assert fastcheck.is_valid(schema, items) is valid


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": ["string", "null"], "maxLength": 2}, None),
        ({"type": ["string", "null"], "maxLength": 2}, "abc"),
        ({"type": "string", "pattern": "^a"}, "ab"),
        ({"type": "string", "pattern": "^a"}, "ba"),
        ({"type": "integer", "minimum": 0, "maximum": 9}, 9.0),
        ({"type": "integer", "minimum": 0, "maximum": 9}, True),
        ({"type": "number", "minimum": 0}, float("nan")),
        ({"type": "number"}, float("nan")),
        ({"enum": ["planning", None]}, None),
        ({"enum": ["planning", None]}, 1),
        ({"const": "mask"}, "mask"),
        ({"const": "mask"}, ["mask"]),
        ({"required": ["a"], "properties": {"a": {"type": "string"}}}, 3),
        ({"required": ["a"], "properties": {"a": {"type": "string"}}}, {"a": 1}),
        ({"type": ["object", "null"], "required": ["a"]}, None),
        ({"type": "object", "additionalProperties": False, "properties": {"a": {}}}, {"b": 1}),
        ({"type": ["array", "null"], "minItems": 1}, []),
    ],
)
def test_fused_nodes_answer_as_the_interpreter(schema: dict, value: Any) -> None:
    assert fastcheck.is_valid(schema, value) is fastcheck.Checker(schema).valid(value)


def test_timestamps_remembered_per_pattern_stay_exact() -> None:
    schema = {"type": "string", "pattern": r"^\d{4}$"}
    assert fastcheck.is_valid(schema, "2026") is True
    assert fastcheck.is_valid(schema, "2026") is True  # remembered
    assert fastcheck.is_valid(schema, "20266") is False

    class Sly(str):  # looks like the remembered "2026" to a set
        def __eq__(self, other: object) -> bool:
            return True

        def __hash__(self) -> int:
            return hash("2026")

    assert fastcheck.Checker(schema).valid(Sly("abcd")) is False
    assert fastcheck.is_valid(schema, Sly("abcd")) is False


# --------------------------------------------------------------------------- from_dict
def test_geometry_from_dict_makes_the_points_array_once_and_the_same() -> None:
    for points in ([[1, 2]], [[1.5, 2.5], [3, 4]], [], [1.0, 2.0], None):
        data = {"kind": "path"} if points is None else {"kind": "path", "points": points}
        g = Geometry.from_dict(data)
        want = np.zeros((0, 2)) if not points else np.array(points, np.float64).reshape(-1, 2)
        assert g.points.dtype == np.float64 and g.points.shape == want.shape
        assert np.array_equal(g.points, want)
    src = [[1.0, 2.0]]
    g = Geometry.from_dict({"kind": "point", "points": src})
    g.points[0, 0] = 9.0
    assert src == [[1.0, 2.0]]  # the array is the geometry's own
    with pytest.raises(ValueError, match="points must be an"):
        Geometry.from_dict({"kind": "line", "points": [[1, 2, 3]]})


def test_unknown_keys_kept_in_order() -> None:
    a = Annotation.from_dict(
        {
            "id": "a",
            "x_b": 1,
            "type": "vertebra",
            "x_a": 2,
            "geometry": {"kind": "point", "x_g": 3, "points": [[1, 2]]},
        }
    )
    assert list(a.extra.items()) == [("x_b", 1), ("x_a", 2)]
    assert a.geometry.extra == {"x_g": 3}
    plain = Annotation.from_dict({"id": "b", "type": "t", "geometry": {"kind": "point"}})
    assert plain.extra == {} and plain.geometry.extra == {}


@pytest.mark.parametrize("level", ["l4_l5", "L4/L5", " l5 ", "L3-L5", "Q9", "", "L4-5", 4, None])
def test_cached_level_spellings_normalise_as_normalize_level(level: Any) -> None:
    try:
        want = normalize_level(level)
    except ValueError:
        want = level
    for _ in range(2):  # computed, then remembered
        assert _normalise_level_lenient(level) == want
