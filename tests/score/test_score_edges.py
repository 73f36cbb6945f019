"""Edge cases: uncalibrated regions, hostile sizes, unlabelled and unknown labels, JSON values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flannot.teach.score import report, score_case
from tests.score.builders import ann, make_case, one, square, vertebrae

UNCAL = {"spacing": None, "calibration": "uncalibrated"}


def lf(points, id="lf"):
    return ann(id, "ligamentum_flavum", "polygon", points, level="L4-L5", side="left")


def test_uncalibrated_region_distances_in_px_not_graded():
    ref = make_case([lf(square(100, 100, 40))], **UNCAL)
    s = score_case(ref, make_case([lf(square(120, 100, 40))], **UNCAL))
    hd = one(s, "hd95")
    assert hd.unit == "px" and hd.value == pytest.approx(20, abs=1)
    assert hd.passed and "uncalibrated" in hd.message
    dice = one(s, "dice")  # a thin band: Dice reported, not graded
    assert dice.value == pytest.approx(0.5, abs=0.02) and "not graded" in dice.message
    assert one(s, "msd").unit == "px" and one(s, "msd").passed  # px: not graded either


def test_huge_polygon_is_scored_on_a_capped_grid():
    big = square(0, 0, 130_000)  # 26 m at 0.2 mm (case files cap coordinates at 131072)
    s = score_case(make_case([lf(big)]), make_case([lf(big * 1.001)]))
    assert one(s, "dice").value == pytest.approx(1 / 1.001, abs=0.01)


def test_unlabelled_and_unknown_vertebra_labels_fail():
    att = vertebrae(corners=False)
    del att[0]["level"]
    att[1]["level"] = "L9"  # kept as written by the model; not a level
    s = score_case(make_case(vertebrae(corners=False)), make_case(att))
    first = one(s, "level_offset", level="L1")
    assert first.value is None and not first.passed and "not labelled" in first.message
    second = one(s, "level_offset", level="L2")
    assert second.value is None and not second.passed


def test_json_values_are_plain_and_finite():
    ref = make_case([*vertebrae(), lf(square(100, 600, 40))])
    att = make_case([*vertebrae(["L2", "L3", "L4", "L5", "S1"]), lf(square(104, 600, 40))])
    data = report([score_case(ref, att)])
    text = json.dumps(data, allow_nan=False)  # raises on NaN/inf
    back = json.loads(text)["cases"][0]["items"]
    kinds = {it["metric"]: type(it["value"]) for it in back}
    assert kinds["level_offset"] is int
    assert kinds["dice"] is float and kinds["hd95"] is float
    assert all(isinstance(it["passed"], bool) for it in back)


def test_degenerate_attempt_region_fails_cleanly():
    flat = np.array([[100, 100], [100, 140], [100, 120]], float)  # zero area
    s = score_case(make_case([lf(square(100, 100, 40))]), make_case([lf(flat)]))
    assert one(s, "dice").value == 0.0
    hd = one(s, "hd95")
    assert hd.value is None and not hd.passed
