"""Mutated case files: every command agrees — loaded and measurable, or one line, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from flannot import FlannotError
from flannot.model import Case
from flannot.model.validate import validate_case_file
from tests.model.conftest import build_case

BASE = build_case().to_dict()

# hostile JSON values: huge and non-finite numbers, surrogates, deep and wide containers
hostile = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2.0**63, -(2.0**63), 1e300, 5e-324, 10**40]),
    st.text(max_size=20),
    st.sampled_from(["\ud800", "a\x00b", "../../etc/passwd", "/abs/image.dcm", "", "L4"]),
    st.none(),
    st.booleans(),
    st.lists(st.integers(-5, 5), max_size=3),
    st.just([[1e308, 1e308]] * 3),
)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)[1:]


def _set(obj: Any, path: tuple, value: Any) -> Any:
    obj = json.loads(json.dumps(obj))
    node = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return obj


def _dump(data: Any) -> str:
    # the writer of a hostile file is not Python's json: NaN and lone surrogates go in raw
    return json.dumps(data, allow_nan=True, ensure_ascii=True)


@example(edits=[(("notes",), "\ud800")])  # passed validate, then crashed measure
@example(edits=[(("image", "rows"), 10**40)])
@example(edits=[(("annotations", 0, "geometry", "points", 0, 0), 2.0**63)])
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), hostile), min_size=1, max_size=4))
def test_loader_and_validate_agree(tmp_path_factory, edits: list[tuple[tuple, Any]]) -> None:
    data: Any = BASE
    for path, value in edits:
        try:
            data = _set(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed the container
    folder: Path = tmp_path_factory.mktemp("case")
    file = folder / "annotations.json"
    file.write_text(_dump(data), encoding="utf-8")
    try:
        case = Case.load(file)
    except FlannotError as exc:
        assert "\n" not in str(exc)
        loaded = False
    else:
        loaded = True
        case.to_json().encode("utf-8")  # what loads can be written again (no surrogate, NaN)
    try:
        problems = validate_case_file(file)
    except FlannotError as exc:
        assert not loaded, f"validate refused what load accepted: {exc}"
        return
    if not loaded:  # validate must report what load refused as an error
        assert any(p.severity == "error" for p in problems), problems
