"""Scoring on the sample teaching set: reference against itself and against perturbed copies."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import flannot
from flannot.model.case import Case
from flannot.phantom.course import V2_CASES
from flannot.sim.sample_ct import CT_CASES
from flannot.teach.score import score, score_case
from tests.score.builders import one

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms"
CASE_IDS = ["ap", "lateral", "clo-left", "clo-right-hypertrophic", "lateral-stenotic", "cine"]
CASE_IDS += [c.case_id for c in V2_CASES]  # the phantom v2 course
CASE_IDS += [c.case_id for c in CT_CASES]  # real anatomy: the CT-derived cases
ZERO_WHEN_EXACT = {
    "landmark_error",
    "hd95",
    "tip_error",
    "entry_error",
    "angle_error",
    "measurement_error",
}


@pytest.fixture(scope="module")
def references() -> dict[str, dict]:
    return {cid: Case.load(SAMPLE / "cases" / cid).to_dict() for cid in CASE_IDS}


def _ann(data: dict, ann_id: str) -> dict:
    return next(a for a in data["annotations"] if a["id"] == ann_id)


def test_every_sample_case_against_itself_passes_with_zero_errors():
    results = score(SAMPLE, SAMPLE)
    assert [r.case_id for r in results] == CASE_IDS
    for r in results:
        assert r.passed, r.case_id
        assert r.items, r.case_id
        for it in r.items:
            if it.metric in ZERO_WHEN_EXACT:
                assert it.value == pytest.approx(0.0, abs=1e-9), (r.case_id, it)
            elif it.metric in ("dice", "iou"):
                assert it.value == pytest.approx(1.0), (r.case_id, it)
            elif it.metric == "level_offset":
                assert it.value == 0
            elif it.metric == "crossed_contrast":
                assert it.value is False
    metrics = {it.metric for r in results for it in r.items}
    assert metrics >= {"level_offset", "landmark_error", "dice", "iou", "hd95", "tip_error"}
    assert metrics >= {"entry_error", "angle_error", "crossed_contrast", "measurement_error"}


def test_lf_shifted_across_its_long_axis(references):
    ref = references["clo-left"]
    att = copy.deepcopy(ref)
    lf = _ann(att, "lf-L4-L5-left")
    pts = np.array(lf["geometry"]["points"])
    spacing = np.array(ref["image"]["spacing_mm"])
    mm = pts * spacing
    # the band's long axis (first principal direction) and its normal, in mm
    _, _, vt = np.linalg.svd(mm - mm.mean(axis=0))
    normal = vt[1]
    shift_mm = 2.0
    lf["geometry"]["points"] = ((mm + normal * shift_mm) / spacing).tolist()
    s = score_case(Case.from_dict(ref), Case.from_dict(att))
    dice = one(s, "dice", annotation_id="lf-L4-L5-left").value
    thickness = flannot.measure(Case.from_dict(ref)).query(
        "annotation_id == 'lf-L4-L5-left' and name == 'mean_thickness'"
    )["value"]
    # a band of thickness t moved by s across itself keeps about (t - s) / t of its area
    assert dice == pytest.approx(1 - shift_mm / float(thickness.iloc[0]), abs=0.1)
    assert dice < 0.95
    hd = one(s, "hd95", annotation_id="lf-L4-L5-left").value
    assert hd == pytest.approx(shift_mm, abs=0.5)  # the cell is 0.48 mm
    # a rigid shift keeps the thickness
    assert one(s, "measurement_error", annotation_id="lf-L4-L5-left").value == pytest.approx(
        0.0, abs=1e-6
    )
    # the untouched L3-L4 LF is still perfect
    assert one(s, "dice", annotation_id="lf-L3-L4-left").value == pytest.approx(1.0)


@pytest.mark.parametrize(("step", "offset", "words"), [(-1, -1, "too high"), (1, 1, "too low")])
def test_vertebra_labels_shifted_by_one_level(references, step, offset, words):
    ref = references["lateral"]
    att = copy.deepcopy(ref)
    order = ["T12", "L1", "L2", "L3", "L4", "L5", "S1"]
    for a in att["annotations"]:
        if a["type"] == "vertebra":
            k = min(order.index(a["level"]) + step, len(order) - 1)  # S1 stays S1
            a["level"] = order[k]
    s = score_case(Case.from_dict(ref), Case.from_dict(att))
    assert not s.passed
    item = one(s, "level_offset", level="L4")
    assert item.value == offset
    expected = "L3" if step < 0 else "L5"
    assert item.message.startswith(f"L4 labelled as {expected}: you counted one level {words}")
    assert all(it.value == pytest.approx(0) for it in s.items if it.metric == "landmark_error")


def test_cine_tip_moved_past_the_contrast_line(references):
    ref = references["cine"]
    att = copy.deepcopy(ref)
    cannula = _ann(att, "portal-f5")
    line = np.array(_ann(ref, "contrast-L4-L5-left-f5")["geometry"]["points"])
    entry, tip = np.array(cannula["geometry"]["points"])
    # push the tip along the trajectory to 10 px beyond the (vertical) contrast line
    target_col = line[:, 1].mean() - 10 * np.sign(entry[1] - line[:, 1].mean())
    t = (target_col - entry[1]) / (tip[1] - entry[1])
    cannula["geometry"]["points"] = [entry.tolist(), (entry + t * (tip - entry)).tolist()]
    s = score_case(Case.from_dict(ref), Case.from_dict(att))
    crossed = one(s, "crossed_contrast", annotation_id="portal-f5")
    assert crossed.value is True and not crossed.passed
    assert crossed.message.startswith("SAFETY")
    assert not s.passed
    # the other 23 frames are untouched
    assert sum(1 for it in s.items if it.metric == "crossed_contrast" and it.value) == 1
    moved = np.hypot(*((entry + t * (tip - entry) - tip) * np.array(ref["image"]["spacing_mm"])))
    assert one(s, "tip_error", annotation_id="portal-f5").value == pytest.approx(moved)
    assert one(s, "angle_error", annotation_id="portal-f5").value == pytest.approx(0, abs=1e-6)


def test_scaled_lf_gives_the_known_thickness_error(references):
    ref = references["clo-right-hypertrophic"]
    att = copy.deepcopy(ref)
    lf = next(a for a in att["annotations"] if a["type"] == "ligamentum_flavum")
    pts = np.array(lf["geometry"]["points"])
    c = pts.mean(axis=0)
    lf["geometry"]["points"] = (c + 1.2 * (pts - c)).tolist()  # isotropic pixels: 20 % thicker
    rows = flannot.measure(Case.from_dict(ref))
    t = float(
        rows.query(f"annotation_id == '{lf['id']}' and name == 'max_thickness'").value.iloc[0]
    )
    s = score_case(Case.from_dict(ref), Case.from_dict(att))
    item = one(s, "measurement_error", annotation_id=lf["id"])
    assert item.value == pytest.approx(0.2 * t, abs=1e-3)
    assert item.passed == (0.2 * t <= 1.0)


def test_attempts_folder_pairs_by_case_id_and_reports_missing_cases(references, tmp_path):
    folder = tmp_path / "attempts" / "alice"
    folder.mkdir(parents=True)
    for cid in ["ap", "lateral", "clo-left"]:
        (folder / f"{cid}.json").write_text(json.dumps(references[cid]))
    results = {r.case_id: r for r in score(SAMPLE, folder)}
    assert list(results) == CASE_IDS
    assert results["ap"].passed and results["lateral"].passed
    missing = results["cine"]
    assert not missing.passed
    assert [it.metric for it in missing.items] == ["missing_case"]
    assert "no attempt for case 'cine'" in missing.items[0].message
