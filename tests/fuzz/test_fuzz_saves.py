"""Interleaved writers of one case file, retrying on conflicts: no confirmed annotation is lost."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from flannot.model import Case, ConcurrentChangeError
from flannot.model.annotation import Annotation, Geometry
from tests.model.conftest import build_case


@given(schedule=st.lists(st.integers(0, 2), min_size=1, max_size=30))
def test_interleaved_writers_lose_nothing(tmp_path_factory, schedule: list[int]) -> None:
    file = build_case().save(tmp_path_factory.mktemp("saves") / "annotations.json")
    writers = [Case.load(file) for _ in range(3)]
    confirmed: set[str] = set()
    for step, who in enumerate(schedule):
        ident = f"w{who}-{step}"
        case = writers[who]
        while True:
            if ident not in {a.id for a in case.annotations}:
                case.annotations.append(
                    Annotation(ident, "redaction", Geometry("rectangle", [[0, 0], [2, 2]]))
                )
            try:
                case.save()
                confirmed.add(ident)
                break
            except ConcurrentChangeError:
                case = writers[who] = Case.load(file)
    on_disk = {a["id"] for a in json.loads(file.read_text())["annotations"]}
    assert confirmed <= on_disk
    assert not list(file.parent.glob(".annotations.json.*.tmp"))
