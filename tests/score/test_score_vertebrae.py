"""Vertebra labels: matched by position, level offsets named, landmark error in mm."""

from __future__ import annotations

import numpy as np
import pytest

from flannot.teach.score import score_case
from tests.score.builders import LEVELS, make_case, one, vertebrae


def test_identical_vertebrae_pass_with_zero_error():
    ref = make_case(vertebrae())
    s = score_case(ref, make_case(vertebrae()))
    assert s.passed
    offsets = [it.value for it in s.items if it.metric == "level_offset"]
    errors = [it.value for it in s.items if it.metric == "landmark_error"]
    assert offsets == [0] * 5
    assert errors == pytest.approx([0.0] * 5)


def test_labels_one_level_too_cranial():
    # the trainee marks every vertebra in the right place but counts from T12: L4 is called L3
    ref = make_case(vertebrae())
    att = make_case(vertebrae(["T12", "L1", "L2", "L3", "L4"], prefix="a"))
    s = score_case(ref, att)
    assert not s.passed
    item = one(s, "level_offset", level="L4")
    assert item.value == -1
    assert not item.passed
    assert item.message.startswith("L4 labelled as L3: you counted one level too high")
    assert "cranial" in item.message
    # matched by position: the landmark errors stay zero
    assert all(it.value == pytest.approx(0) for it in s.items if it.metric == "landmark_error")


def test_labels_one_level_too_caudal():
    ref = make_case(vertebrae())
    att = make_case(vertebrae(["L2", "L3", "L4", "L5", "S1"]))
    s = score_case(ref, att)
    item = one(s, "level_offset", level="L4")
    assert item.value == 1
    assert "L4 labelled as L5: you counted one level too low" in item.message
    assert "caudal" in item.message


def test_two_levels_off_is_said_in_words():
    ref = make_case(vertebrae())
    att = make_case(vertebrae(["L3", "L4", "L5", "S1", "S1"]))
    item = one(score_case(ref, att), "level_offset", level="L1")
    assert item.value == 2
    assert "two levels too low" in item.message


def test_s1_called_l5_is_one_level_without_a_sixth_lumbar():
    ref = make_case(vertebrae(["L4", "L5", "S1"]))
    att = make_case(vertebrae(["L3", "L4", "L5"]))
    assert one(score_case(ref, att), "level_offset", level="S1").value == -1


def test_transitional_l6_counts_when_used():
    ref = make_case(vertebrae(["L4", "L5", "L6", "S1"]))
    att = make_case(vertebrae(["L3", "L4", "L5", "L6"]))
    assert one(score_case(ref, att), "level_offset", level="S1").value == -1


def test_matching_ignores_order_and_ids():
    ref = make_case(vertebrae())
    shuffled = vertebrae(prefix="zz")[::-1]
    s = score_case(ref, make_case(shuffled))
    assert s.passed
    assert [it.level for it in s.items if it.metric == "level_offset"] == LEVELS


def test_landmark_error_corner_mean_in_mm():
    ref = vertebrae()
    att = vertebrae()
    pts = np.array(att[2]["geometry"]["points"])
    pts[0] += [3, 4]  # one corner 5 px = 1 mm away, the other three exact
    att[2]["geometry"]["points"] = pts.tolist()
    item = one(score_case(make_case(ref), make_case(att)), "landmark_error", level="L3")
    assert item.value == pytest.approx(0.25)
    assert item.unit == "mm"
    assert item.passed


def test_landmark_error_uses_anisotropic_spacing():
    ref = vertebrae(corners=False)
    att = vertebrae(corners=False)
    att[1]["geometry"]["points"] = [[275.0 + 10, 300.0 + 10]]  # 10 rows and 10 cols off
    s = score_case(make_case(ref, spacing=(0.3, 0.1)), make_case(att, spacing=(0.3, 0.1)))
    item = one(s, "landmark_error", level="L2")
    assert item.value == pytest.approx(np.hypot(3.0, 1.0))


def test_landmark_error_beyond_tolerance_fails():
    ref = vertebrae(corners=False)
    att = vertebrae(corners=False)
    att[0]["geometry"]["points"] = [[100.0 + 30, 300.0]]  # 6 mm > 5 mm
    s = score_case(make_case(ref), make_case(att))
    item = one(s, "landmark_error", level="L1")
    assert item.value == pytest.approx(6.0)
    assert not item.passed and not s.passed
    assert "more than the 5.00 mm allowed" in item.message


def test_missed_and_extra_vertebrae():
    ref = make_case(vertebrae())
    att = vertebrae()[:4]  # no L5
    att.append(vertebrae(["T12"], first_row=100 - 175, prefix="x")[0])  # one above L1
    s = score_case(ref, make_case(att))
    missed = one(s, "level_offset", level="L5")
    assert missed.value is None and not missed.passed
    assert "missed" in missed.message and "L5" in missed.message
    extra = one(s, "level_offset", level="T12")
    assert extra.annotation_id == "x0"
    assert "extra" in extra.message and not extra.passed


def test_mark_on_the_wrong_body_is_matched_to_that_body():
    # "L4" placed on the L3 body: matched to reference L3 and called one level too low
    ref = make_case(vertebrae())
    att = make_case(vertebrae(["L4"], first_row=100 + 2 * 175 + 10))
    s = score_case(ref, att)
    item = one(s, "level_offset", level="L3")
    assert item.value == 1


def test_frames_are_matched_separately():
    ref = make_case(vertebrae(frame=0))
    att = make_case(vertebrae(frame=1))
    s = score_case(ref, att)
    assert all(it.value is None for it in s.items if it.metric == "level_offset")
    assert len(s.items) == 10  # 5 missed in frame 0 + 5 extra in frame 1


def test_uncalibrated_lengths_are_px_and_not_graded_but_labels_are():
    ref = vertebrae(corners=False)
    att = vertebrae(["T12", "L1", "L2", "L3", "L4"], corners=False)
    att[0]["geometry"]["points"] = [[100.0 + 40, 300.0]]
    kw = {"spacing": None, "calibration": "uncalibrated"}
    s = score_case(make_case(ref, **kw), make_case(att, **kw))
    lm = one(s, "landmark_error", level="L1")
    assert lm.unit == "px" and lm.value == pytest.approx(40.0)
    assert lm.passed and "uncalibrated" in lm.message
    assert one(s, "level_offset", level="L1").value == -1
    assert not s.passed


def test_px_tolerance_grades_uncalibrated_lengths():
    ref = vertebrae(corners=False)
    att = vertebrae(corners=False)
    att[0]["geometry"]["points"] = [[100.0 + 40, 300.0]]
    kw = {"spacing": None, "calibration": "uncalibrated"}
    s = score_case(make_case(ref, **kw), make_case(att, **kw), {"landmark_error_px": 20})
    assert not one(s, "landmark_error", level="L1").passed
