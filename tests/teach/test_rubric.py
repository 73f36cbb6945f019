"""The rubric: automatic checks from the attempt, the educator's ticks and scales, stored
with the attempt (SPEC §6)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flannot.errors import FlannotError
from flannot.model.case import Case
from flannot.teach.course_demo import attempt_case_dict, reference_case_dict
from flannot.teach.rubric import assess, auto_checks, load_assessment, save_assessment


def _pair(pattern: str, attempt: int = 3):
    ref = Case.from_dict(reference_case_dict(0, "k"))
    att = Case.from_dict(attempt_case_dict(pattern, 0, "k", attempt, np.random.default_rng(0)))
    return ref, att


def test_a_docked_portal_with_its_contrast_line_ticks_both_automatic_items():
    ref, att = _pair("good")
    auto = auto_checks(ref, att)
    assert set(auto) == {"contrast_at_level_side", "instrument_docked"}
    assert auto["contrast_at_level_side"] == (True, "contrast line drawn at L4-L5 left")
    done, why = auto["instrument_docked"]
    assert done and "from the dorsal lamina, within the 1.00 mm allowed" in why


def test_crossing_the_contrast_line_is_not_docked():
    ref, att = _pair("crosses")
    done, why = auto_checks(ref, att)["instrument_docked"]
    assert not done and why == "a safety boundary was crossed"


def test_a_portal_off_the_lamina_is_not_docked_within_the_tolerance():
    ref, att = _pair("improves", attempt=1)  # 8 mm caudal
    done, why = auto_checks(ref, att)["instrument_docked"]
    assert not done and "more than the 1.00 mm allowed" in why
    assert auto_checks(ref, att, tolerances={"docked_mm": 20.0})["instrument_docked"][0]


def test_the_wrong_level_has_no_contrast_and_no_portal_at_the_target():
    ref, att = _pair("level_high")
    auto = auto_checks(ref, att)
    assert auto["contrast_at_level_side"] == (False, "no contrast line drawn at L4-L5 left")
    assert auto["instrument_docked"] == (False, "no instrument at the target level")


def test_assessment_keeps_the_educators_ticks_and_scales():
    ref, att = _pair("good")
    a = assess(
        ref, att, educator="dr-lee", global_rating=4, entrustment="passive help",
        ticks={"views_in_order": True, "instrument_docked": False}, time="2026-12-01T10:00:00Z",
    )  # fmt: skip
    marks = {m.key: (m.done, m.by) for m in a.rubric}
    assert marks == {
        "views_in_order": (True, "educator"),
        "level_confirmed_ap": (None, None),  # not assessed
        "contrast_at_level_side": (True, "auto"),
        "instrument_docked": (False, "educator"),  # the educator overrides the check
    }
    over = next(m for m in a.rubric if m.key == "instrument_docked")
    assert over.why.startswith("educator overrode the automatic check")
    assert (a.global_rating_label, a.entrustment_level, a.done) == ("4", 3, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"global_rating": 6}, "the global rating must be 1 to 5"),
        ({"global_rating": 0}, "the global rating must be 1 to 5"),
        ({"entrustment": "solo"}, "entrustment must be one of show and tell"),
        ({"ticks": {"nope": True}}, "not an item of the mild rubric: nope"),
        ({"educator": " "}, "needs the educator's name"),
    ],
)
def test_bad_assessment_input_is_one_error(kwargs, message):
    ref, att = _pair("good")
    with pytest.raises(FlannotError, match=message):
        assess(ref, att, **{"educator": "dr-lee", **kwargs})


def test_saved_with_the_attempt_and_read_back(tmp_path):
    ref, att = _pair("good")
    f = att.save(tmp_path / "attempts" / "ana" / "k.json")
    before = json.loads(f.read_text())
    a = assess(ref, att, educator="dr-lee", global_rating=3, entrustment="active help")
    save_assessment(f, a)
    after = json.loads(f.read_text())
    assert after["assessment"]["educator"] == "dr-lee"
    assert after["annotations"] == before["annotations"]
    assert after["modified"] == before["modified"]  # the annotations did not change
    back = load_assessment(f)
    assert back is not None and back.to_dict() == a.to_dict()
    assert load_assessment(Case.load(f)).entrustment == "active help"
    assert load_assessment(ref) is None
