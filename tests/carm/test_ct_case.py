"""CT-backed cases in a teaching set: add, validate, train, score (SPEC §15, §6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from flannot.errors import FlannotError
from flannot.teach.ct_case import (
    CT_FILE,
    SIM_FILE,
    add_ct_case,
    is_ct_case,
    load_ct_case,
    open_training,
    score_ct_attempt,
    shots_dir,
    training_items,
    validate_ct_case,
    write_attempt_case,
)
from flannot.teach.teaching_set import TeachingSet


def test_add_makes_a_valid_case(ct_set: tuple[Path, str]) -> None:
    import nibabel as nib

    root, cid = ct_set
    ts = TeachingSet.open(root)
    entry = ts.entry(cid)
    assert entry["kind"] == "ct" and entry["view"] == "ap"
    folder = ts.case_dir(cid)
    assert is_ct_case(folder)
    case = load_ct_case(folder)
    assert case.task.target == "L3-L4" and case.task.views == ("ap", "clo-left")
    assert [m.level for m in case.landmarks] == ["L1", "L2", "L3", "L4", "L5"]
    hdr = nib.load(str(folder / CT_FILE)).header
    assert hdr["descrip"].item() in (b"", "")  # no header text carried over
    assert validate_ct_case(folder) == []
    assert ts.validate() == []  # the set's own checks pass on the reference shot


def test_validation_finds_problems(ct_set: tuple[Path, str], tmp_path: Path) -> None:
    root, cid = ct_set
    folder = tmp_path / "copy"
    shutil.copytree(TeachingSet.open(root).case_dir(cid), folder)
    sim = json.loads((folder / SIM_FILE).read_text())
    sim["task"]["views"] = ["ap", "upside-down"]
    (folder / SIM_FILE).write_text(json.dumps(sim))
    (problem,) = validate_ct_case(folder)
    assert "unknown view" in problem.message and problem.file.endswith(SIM_FILE)
    sim["task"]["views"] = ["ap"]
    sim["task"]["target"] = "L5-S1"
    (folder / SIM_FILE).write_text(json.dumps(sim))
    (problem,) = validate_ct_case(folder)
    assert problem.path == "$.task.target" and "S1" in problem.message
    sim["task"]["target"] = "L3"
    sim["ct"] = "../../elsewhere.nii.gz"
    (folder / SIM_FILE).write_text(json.dumps(sim))
    assert "leaves the case folder" in validate_ct_case(folder)[0].message
    sim["ct"] = CT_FILE
    (folder / SIM_FILE).write_text(json.dumps(sim))
    (folder / CT_FILE).unlink()
    assert "ct.nii.gz is missing" in validate_ct_case(folder)[0].message


def test_add_refuses_an_unlabelled_target(synth_ct, tmp_path: Path) -> None:
    root = tmp_path / "set"
    TeachingSet.new(root)
    with pytest.raises(FlannotError, match="no vertebra S1"):
        add_ct_case(root, synth_ct.ct_path, synth_ct.labels_path, {"target": "L5-S1"})
    assert TeachingSet.open(root).case_ids == []
    assert [p for p in (root / "cases").iterdir()] == []  # nothing half-added


def test_train_and_score_an_attempt(ct_set: tuple[Path, str], tmp_path: Path) -> None:
    from flannot.model.case import Case
    from flannot.sim.view_score import ideal_view
    from flannot.sim.views import resolve_view

    root, cid = ct_set
    folder = TeachingSet.open(root).case_dir(cid)
    attempt = tmp_path / "attempts" / "alice" / f"{cid}.json"
    session = open_training(folder, shots_dir(attempt))
    assert session.detector == 96
    session.pan(*(session.target.point - session.isocentre)[[2, 0]])
    session.set_angles(180.0, 6.0)
    session.shoot()
    session.set_angles(*ideal_view(resolve_view("clo-left"), session.target))
    session.shoot()
    write_attempt_case(folder / "annotations.json", attempt, "alice")
    case = Case.load(attempt)
    assert case.image.frames == 2 and case.load_image().frames.shape[0] == 2
    items = {(it.annotation_id, it.metric): it for it in score_ct_attempt(folder, attempt)}
    assert items[("ap", "view_angle_error")].value == pytest.approx(6.0, abs=0.05)
    assert "tilt 6° caudal" in items[("ap", "view_angle_error")].message
    assert items[("clo-left", "view_angle_error")].passed
    assert items[(None, "shots")].value == 2
    # resumed later: the same shots, and scoring without a shots folder is all missing
    again = open_training(folder, shots_dir(attempt))
    assert len(again.shots) == 2
    none = training_items(folder, tmp_path / "nowhere")
    assert [it.value for it in none if it.metric == "shots"] == [0]
    assert score_ct_attempt(tmp_path, attempt) == []  # not a CT-backed case


def test_annotations_on_a_shot_are_scored_against_its_projection(
    ct_set: tuple[Path, str], tmp_path: Path
) -> None:
    """The trainee marks L3 on their second shot: the key is L3 projected with that shot."""
    from flannot.model.annotation import Annotation, Geometry
    from flannot.model.case import Case
    from flannot.sim.view_score import shot_carm
    from flannot.teach.ct_case import reference_on_shots, score_ct_case

    root, cid = ct_set
    folder = TeachingSet.open(root).case_dir(cid)
    attempt_file = tmp_path / "attempts" / "bob" / f"{cid}.json"
    session = open_training(folder, shots_dir(attempt_file))
    session.shoot()
    session.rotate(0.0, 10.0)
    session.pan(-20.0, 0.0)
    shot, _ = session.shoot()
    write_attempt_case(folder / "annotations.json", attempt_file, "bob")
    l3 = next(m for m in session.marks if m.level == "L3")
    r, c = shot_carm(shot.to_dict()).project(l3.centroid)[0]
    attempt = Case.load(attempt_file)
    point = Geometry("point", np.array([[float(r) + 1.0, float(c)]]))  # one pixel off
    attempt.annotations.append(Annotation("a1", "vertebra", point, frame=1, level="L3"))
    attempt.save(attempt_file)
    ref = reference_on_shots(folder, Case.load(attempt_file))
    assert {a.frame for a in ref.annotations} == {1}  # only the annotated shot
    key = next(a for a in ref.annotations if a.type == "vertebra" and a.level == "L3")
    assert key.geometry.points[0] == pytest.approx([r, c])
    result = score_ct_case(folder, attempt_file)
    items = {(it.annotation_id, it.metric): it for it in result.items}
    mine = [it for it in result.items if it.metric == "level_offset" and it.value == 0]
    assert mine and mine[0].level == "L3"
    err = next(it for it in result.items if it.metric == "landmark_error" and it.level == "L3")
    assert err.value == pytest.approx(shot.pixel_mm * shot.sod / shot.sid, rel=0.01)
    assert items[(None, "shots")].value == 2
