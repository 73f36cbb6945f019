"""The planning slice is scored apart from the projection, and only when drawn on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flannot.model.case import Case
from flannot.teach.score import score_case

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms" / "cases"


def _case(name: str):
    return Case.load(SAMPLE / name)


def test_an_attempt_on_the_projection_alone_is_not_missing_the_planning_outlines() -> None:
    ref = _case("p1-clo-left")
    planning = [a for a in ref.annotations if a.image == "planning"]
    assert planning  # the case has LF outlines on its axial planning CT
    attempt = dataclasses.replace(
        ref, annotations=[a for a in ref.annotations if a.image != "planning"]
    )
    score = score_case(ref, attempt)
    missed = [it for it in score.items if not it.passed]
    assert missed == [], [(it.name, it.message) for it in missed]
    assert score.passed


def test_outlines_drawn_on_the_planning_slice_are_scored_against_the_planning_reference() -> None:
    ref = _case("p1-clo-left")
    assert score_case(ref, ref).passed
    # an attempt that drew on the planning slice but left one outline out misses it
    planning = [a for a in ref.annotations if a.image == "planning"]
    kept = [a for a in ref.annotations if a is not planning[0]]
    score = score_case(ref, dataclasses.replace(ref, annotations=kept))
    assert not score.passed
    assert any(not it.passed for it in score.items)


def test_every_missed_item_names_a_different_structure() -> None:
    # the v2 CLO has a superior and an inferior articular process per level and side, and
    # pedicles scored as landmarks: each missed item must say which one it is
    ref = _case("p4-clo-left-no-shelf")
    score = score_case(ref, dataclasses.replace(ref, annotations=[]))
    missed = [it.message for it in score.items if it.message.startswith("missed")]
    assert len(missed) > 10
    assert len(set(missed)) == len(missed), sorted(missed)
    assert any("superior articular process" in m for m in missed)
    assert any("inferior articular process" in m for m in missed)
    assert any("pedicle" in m for m in missed)
