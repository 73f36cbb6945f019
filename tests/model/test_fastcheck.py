"""The fast schema check agrees with jsonschema: it never accepts what jsonschema refuses."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from flannot.model.fastcheck import is_valid
from flannot.model.validate import case_schema, schema_problems

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms" / "cases"
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**70,
    float("inf"),
    "",
    "x",
    "L4",
    "left",
    [],
    {},
    [1, 2],
    [[1.0, 2.0]],
    {"a": 1},
    "9" * 300,
    3.0,
    -0.0,
]


def _docs() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(SAMPLE.glob("*/annotations.json"))]


def _paths(node: Any, at: tuple = ()) -> list[tuple]:
    out = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out += _paths(v, (*at, i))
    return out


def _mutate(doc: dict, rng: random.Random) -> dict:
    doc = copy.deepcopy(doc)
    path = rng.choice(_paths(doc)[1:])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    action = rng.random()
    if action < 0.6:
        parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif action < 0.8 and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent["unexpected_" + str(rng.randint(0, 9))] = rng.choice(ODD_VALUES)
    return doc


def test_the_sample_cases_are_valid_to_both() -> None:
    validator = Draft202012Validator(case_schema())
    for doc in _docs():
        assert validator.is_valid(doc)
        assert is_valid(case_schema(), doc) is True


@pytest.mark.parametrize("seed", range(4))
def test_mutated_cases_answer_as_jsonschema(seed: int) -> None:
    rng = random.Random(seed)
    validator = Draft202012Validator(case_schema())
    docs = _docs()
    refused = 0
    for _ in range(150):
        doc = _mutate(rng.choice(docs), rng)
        expected = validator.is_valid(doc)
        got = is_valid(case_schema(), doc)
        assert got in (expected, None), (doc, expected)
        refused += not expected
        if not expected:  # schema_problems still names the problem (through jsonschema)
            assert schema_problems(doc)
    assert refused > 20  # the mutations do break documents


def test_unknown_keywords_mean_unknown() -> None:
    assert is_valid({"uniqueItems": True}, [1, 1]) is None
    assert is_valid({"type": "integer"}, 3.0) is True
    assert is_valid({"type": "integer"}, True) is False
    assert is_valid({"enum": [1]}, True) is False
    assert is_valid({"prefixItems": [{"type": "string"}], "items": False}, ["a", "b"]) is False


def test_the_case_schema_is_compiled_and_answers_as_the_interpreter() -> None:
    """The compiled checker (used for every case load) agrees with the interpreter."""
    from flannot.model import fastcheck

    schema = case_schema()
    assert fastcheck._compiled(schema) is not None
    doc = json.loads((SAMPLE / "lateral" / "annotations.json").read_text())
    docs = [doc]
    for mutate in (
        lambda d: d["annotations"][0].update(frame=-1),
        lambda d: d["annotations"][0]["geometry"].update(kind="blob"),
        lambda d: d.update(case_id=""),
        lambda d: d["image"].update(rows="x"),
        lambda d: d["annotations"][0].update(unexpected=1),
    ):
        d = copy.deepcopy(doc)
        mutate(d)
        docs.append(d)
    for d in docs:
        assert fastcheck.is_valid(schema, d) == fastcheck.Checker(schema).valid(d)
