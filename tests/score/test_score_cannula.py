"""Cannulas: tip, entry and angle errors; crossing the reference epidural contrast line."""

from __future__ import annotations

import math

import pytest

from flannot.teach.score import score_case
from tests.score.builders import ann, items, make_case, one


def cannula(entry, tip, id="c", side="left", level="L4-L5", **kw):
    return ann(
        id, "cannula", "line", [entry, tip], level=level, side=side, instrument="portal", **kw
    )


def contrast(col=250.0, side="left", level="L4-L5", id="ec"):
    # a vertical epidural contrast line: the tip must stay at smaller columns (dorsal here)
    return ann(
        id, "epidural_contrast", "path", [[0, col], [200, col], [400, col]], level=level, side=side
    )


REF = [contrast(), cannula([100, 100], [200, 200])]


def test_identical_cannula_passes_and_does_not_cross():
    s = score_case(make_case(REF), make_case([contrast(), cannula([100, 100], [200, 200])]))
    assert s.passed
    assert one(s, "tip_error").value == pytest.approx(0.0)
    assert one(s, "entry_error").value == pytest.approx(0.0)
    assert one(s, "angle_error").value == pytest.approx(0.0)
    crossed = one(s, "crossed_contrast")
    assert crossed.value is False and crossed.passed
    assert "10.00 mm short of the epidural contrast line" in crossed.message  # 50 px


def test_tip_past_the_contrast_line_is_a_safety_violation():
    att = make_case([cannula([100, 100], [200, 300], id="mine")])  # tip 50 px past col 250
    s = score_case(make_case(REF), att)
    crossed = one(s, "crossed_contrast")
    assert crossed.value is True
    assert not crossed.passed and not s.passed
    assert crossed.annotation_id == "mine"
    assert crossed.message.startswith("SAFETY")
    assert "10.00 mm past the epidural contrast line" in crossed.message
    assert one(s, "tip_error").value == pytest.approx(100 * 0.2)
    assert one(s, "entry_error").value == pytest.approx(0.0)
    # directions (1, 1) and (1, 2)
    expected = math.degrees(math.atan2(1, 1) - math.atan2(1, 2))
    assert one(s, "angle_error").value == pytest.approx(expected)


def test_errors_in_mm_with_anisotropic_spacing():
    sp = (0.3, 0.1)
    att = make_case([cannula([110, 100], [200, 230])], spacing=sp)
    s = score_case(make_case(REF, spacing=sp), att)
    assert one(s, "entry_error").value == pytest.approx(3.0)
    assert one(s, "tip_error").value == pytest.approx(3.0)
    # directions in mm: reference (30, 10), attempt (27, 13)
    expected = math.degrees(math.atan2(30, 10) - math.atan2(27, 13))
    assert one(s, "angle_error").value == pytest.approx(expected)


def test_tolerances_for_tip_entry_and_angle():
    att = make_case([cannula([100, 130], [210, 200])])  # entry 6 mm, tip 2 mm off
    s = score_case(make_case(REF), att)
    assert one(s, "tip_error").passed  # 2 mm ≤ 3 mm
    assert not one(s, "entry_error").passed  # 6 mm > 5 mm
    assert one(s, "angle_error").value > 10 and not one(s, "angle_error").passed


def test_the_attempts_own_contrast_line_is_not_used():
    # the trainee draws the contrast line beyond the tip; the reference line still counts
    att = make_case([contrast(col=400), cannula([100, 100], [200, 300])])
    assert one(score_case(make_case(REF), att), "crossed_contrast").value is True


@pytest.mark.parametrize(("side", "level"), [("right", "L4-L5"), ("left", "L3-L4")])
def test_labels_cannot_dodge_the_safety_check(side, level):
    # the old hole: a tip past the contrast line passed when the line or the cannula
    # carried another side or level (SPEC §6: safety does not depend on labels)
    ref = make_case([contrast(side="right"), cannula([100, 100], [200, 200])])
    s = score_case(ref, make_case([cannula([100, 100], [200, 300], side=side, level=level)]))
    crossed = one(s, "crossed_contrast")
    assert crossed.value is True and not crossed.passed and not s.passed
    assert s.items[0] is crossed  # listed first
    assert "10.00 mm past the epidural contrast line (L4-L5 right)" in crossed.message


def test_a_line_drawn_far_away_is_not_crossed_beyond_its_reach():
    # another level's contrast line, drawn rows 600-800: its extension does not reach row 300
    far = ann("ec2", "epidural_contrast", "path", [[600, 150], [800, 150]], level="L2-L3")
    ref = make_case([contrast(), far, cannula([100, 100], [200, 200])])
    s = score_case(ref, make_case([contrast(), far, cannula([100, 100], [200, 200])]))
    assert one(s, "crossed_contrast").value is False


def test_missed_and_extra_cannula():
    att = make_case([cannula([100, 100], [200, 300], side="right", id="r")])
    s = score_case(make_case(REF), att)
    missed = one(s, "tip_error", annotation_id="c")
    assert missed.value is None and "missed" in missed.message and not missed.passed
    extra = one(s, "tip_error", annotation_id="r")
    assert "extra" in extra.message
    # whatever its side, the extra cannula's tip is past the reference contrast line
    assert one(s, "crossed_contrast", annotation_id="r").value is True


def test_extra_cannula_crossing_is_still_a_safety_violation():
    att = make_case([cannula([100, 100], [200, 200]), cannula([100, 100], [210, 320], id="c2")])
    s = score_case(make_case(REF), att)
    crossed = {it.annotation_id: it.value for it in items(s, "crossed_contrast")}
    assert crossed == {"c": False, "c2": True}


def test_a_portal_at_another_level_is_a_wrong_level_procedure():
    # the old failure: a portal placed at L3-L4 against an L4-L5 target was reported as
    # "missed" + "extra", never named a wrong-level procedure (SPEC §6, issue 13)
    ref = make_case([contrast(), cannula([100, 100], [200, 200])])
    att = make_case([cannula([20, 100], [120, 200], id="mine", level="L3-L4")])
    s = score_case(ref, att)
    assert not s.passed
    portal = [it for it in s.items if it.type == "cannula"]
    assert not [it for it in portal if "missed" in it.message or "extra" in it.message]
    wrong = one(s, "level_offset")
    assert wrong.value == -1 and not wrong.passed
    assert wrong.annotation_id == "c" and wrong.level == "L4-L5"
    assert wrong.message.startswith(
        "portal placed at L3-L4; the target was L4-L5: wrong-level procedure (one level too high"
    )
    # the pair keeps its tip, entry and angle errors
    assert one(s, "tip_error").value == pytest.approx(80 * 0.2)
    assert one(s, "entry_error").value == pytest.approx(80 * 0.2)
    assert one(s, "angle_error").value == pytest.approx(0.0)


def test_wrong_level_pairs_by_side_then_nearest_tip():
    ref = make_case(
        [
            cannula([100, 100], [200, 200], id="L", side="left"),
            cannula([100, 400], [200, 300], id="R", side="right"),
        ]
    )
    att = make_case(
        [  # both one level too low; the right one's tip is nearer the left target
            cannula([300, 100], [380, 200], id="a", side="left", level="L5-S1"),
            cannula([300, 400], [210, 210], id="b", side="right", level="L5-S1"),
        ]
    )
    s = score_case(ref, att)
    offsets = {it.annotation_id: it.value for it in items(s, "level_offset")}
    assert offsets == {"L": 1, "R": 1}
    tip_left = one(s, "tip_error", annotation_id="L").value
    assert tip_left == pytest.approx(180 * 0.2)  # paired with "a" (same side), not "b"
    assert (
        "wrong-level procedure (one level too low, too caudal)"
        in one(s, "level_offset", annotation_id="R").message
    )


def test_wrong_level_and_side_is_named_and_same_level_other_side_stays_missed():
    ref = make_case([cannula([100, 100], [200, 200])])
    s = score_case(ref, make_case([cannula([100, 100], [200, 210], side="right", level="L2-L3")]))
    msg = one(s, "level_offset").message
    assert msg.startswith("portal placed at L2-L3 right; the target was L4-L5 left")
    assert "wrong-level and wrong-side procedure (two levels too high" in msg
    same_level = score_case(ref, make_case([cannula([100, 100], [200, 210], side="right")]))
    assert not items(same_level, "level_offset")
    assert len(items(same_level, "tip_error")) == 2  # a miss and an extra
