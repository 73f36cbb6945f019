"""C-arm training mode, headless: ideal views, view scoring, dose, shots on disk (SPEC §15).

The truth is known independently of the code under test: the synthetic CT's spine runs
straight along the patient's long axis with the spinous process on the midline (the true
AP is primary 180, secondary 0), and hand-built landmarks with a known tilt and axial
rotation give the ideal angles in closed form.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pytest

from flannot.errors import FlannotError
from flannot.protocols import get_protocol
from flannot.sim.dose import dose_area_product, tube_output
from flannot.sim.training import Task, TrainingSession, read_record
from flannot.sim.view_score import Landmarks, Target, find_target, ideal_view, score_views
from flannot.sim.views import resolve_view
from tests.sim.synthetic_ct import SyntheticCT

DETECTOR, PIXEL = 96, 3.2  # a small detector with the full 30 cm field


@pytest.fixture(scope="module")
def world(synth: SyntheticCT):
    from flannot.sim import find_vertebrae, label_convention, prepare
    from flannot.sim.volume import CTVolume

    vol = CTVolume(synth.hu, synth.affine_lps)
    verts = find_vertebrae(synth.labels, vol, label_convention("totalsegmentator"))
    return prepare(vol, 80.0), verts


def _session(world, task: Task, **kw) -> TrainingSession:
    prep, verts = world
    s = TrainingSession(prep, verts, task, detector=DETECTOR, pixel_mm=PIXEL, **kw)
    s.pan(*(s.target.point - s.isocentre)[[2, 0]])  # centre the target
    return s


def _items(items, view=None) -> dict[str, object]:
    return {it.metric: it for it in items if view is None or it.annotation_id == view}


def test_ideal_view_in_closed_form() -> None:
    """A vertebra tilted 12° (its top toward the back) and turned so that its spinous tip
    is 5 mm left of the midline 40 mm behind the pedicles."""
    theta = math.radians(12.0)
    axis = np.array([0.0, math.sin(theta), math.cos(theta)])
    c = np.zeros(3)
    v = Landmarks(
        "L4",
        c,
        axis,
        spinous_tip=np.array([5.0, 40.0, 0.0]),
        pedicles={"left": np.array([12.0, 0.0, 0.0]), "right": np.array([-12.0, 0.0, 0.0])},
    )
    target = Target("L4", [v])
    rot = math.degrees(math.atan2(5.0, -40.0))  # the primary that lines the tip up
    p, s = ideal_view(resolve_view("ap"), target)
    assert p == pytest.approx(rot, abs=0.01)  # 172.87: 7.1° from the nominal 180
    # tan(s) = -(a·n)/(H·n) with a the beam's transaxial direction at p
    a = np.array([math.sin(math.radians(p)), -math.cos(math.radians(p)), 0.0])
    assert s == pytest.approx(math.degrees(math.atan2(-(a @ axis), axis[2])), abs=0.01)
    assert s == pytest.approx(-11.9, abs=0.1)
    p_clo, _ = ideal_view(resolve_view("clo-left"), target)
    assert p_clo == pytest.approx(-135.0 + (rot - 180.0), abs=0.01)  # 45° from the true AP


def test_shot_at_ideal_scores_zero(world) -> None:
    s = _session(world, Task("L3-L4", "left", ("ap", "clo-left"), shot_budget=3))
    for name in ("ap", "clo-left"):
        s.set_angles(*ideal_view(resolve_view(name), s.target))
        s.shoot()
    items = s.score()
    for name in ("ap", "clo-left"):
        got = _items(items, name)
        assert got["view_angle_error"].value == pytest.approx(0.0, abs=0.05)
        assert got["endplate_tilt"].value == pytest.approx(0.0, abs=0.1)
        assert all(it.passed for it in got.values()), [it.message for it in got.values()]
    ap = _items(items, "ap")
    assert ap["spinous_offset"].value == pytest.approx(0.0, abs=0.1)
    assert "spinous_offset" not in _items(items, "clo-left")  # AP only
    assert _items(items)["shots"].value == 2 and _items(items)["shots"].passed


def test_shot_8_degrees_off_says_which_way(world) -> None:
    s = _session(world, Task("L3-L4", "left", ("ap",)))
    s.set_angles(180.0, 8.0)  # 8° cranial of the true AP
    s.shoot()
    got = _items(s.score(), "ap")
    assert got["view_angle_error"].value == pytest.approx(8.0, abs=0.05)
    assert got["endplate_tilt"].value == pytest.approx(8.0, abs=0.1)
    assert not got["view_angle_error"].passed and not got["endplate_tilt"].passed
    assert "tilt 8° caudal" in got["view_angle_error"].message
    assert "tilt 8° caudal to square them" in got["endplate_tilt"].message
    assert "L3-L4" in got["endplate_tilt"].message
    s.set_angles(180.0, -8.0)
    s.shoot()  # the other way: as far off, the best shot is the first
    items = _items(s.score())
    assert items["view_angle_error"].message.startswith("True AP (shot 1)")
    assert items["shots"].message.endswith("not the best of any view: shot 2")
    s.shots.pop(0)
    assert "tilt 8° cranial" in _items(s.score(), "ap")["view_angle_error"].message


def test_rotation_error_and_spinous_offset_agree(world) -> None:
    """5° of rotation: the advice to turn and the spinous process's side agree."""
    s = _session(world, Task("L3", None, ("ap",)))
    s.set_angles(-175.0, 0.0)  # the detector turned 5° toward the patient's right
    s.shoot()
    got = _items(s.score(), "ap")
    assert got["view_angle_error"].value == pytest.approx(5.0, abs=0.05)
    assert "turn the detector 5° toward the patient's left" in got["view_angle_error"].message
    # the tip, 32 mm behind the pedicles, shifts by about 32·sin 5° ≈ 2.8 mm
    off = got["spinous_offset"].value
    assert 2.0 < abs(off) < 3.6
    assert "toward the left pedicle" in got["spinous_offset"].message
    assert "toward the patient's left" in got["spinous_offset"].message


def test_budget_and_dose(world) -> None:
    s = _session(world, Task("L3", None, ("ap",), shot_budget=1, dose_budget=50.0))
    s.shoot()
    full = s.shots[-1].dap
    s.set_collimation(0.5)
    s.set_mas(4.0)
    s.shoot()
    half = s.shots[-1].dap
    assert half == pytest.approx(full * 0.25 * 2, rel=0.02)  # area / 4, mAs × 2
    got = _items(s.score())
    assert got["shots"].value == 2 and not got["shots"].passed
    assert "1 too many" in got["shots"].message
    assert got["dose"].value == pytest.approx(full + half, abs=0.01)
    assert got["dose"].unit == "mGy·cm²" and not got["dose"].passed
    assert s.shots_left == -1


def test_dose_estimate_constants() -> None:
    # about 50 µGy/mAs at 1 m at 80 kVp (docs/carm.md), growing as kVp²
    assert 45.0 < tube_output(80.0) < 55.0
    assert tube_output(100.0) / tube_output(80.0) == pytest.approx((100 / 80) ** 1.983)
    # 2 mAs over a 20 × 20 cm field at SID 1000: 2 · Y · 400 cm² / 1000
    assert dose_area_product(80, 2.0, (200, 200), 1000) == pytest.approx(
        2 * tube_output(80) * 400 / 1000
    )
    # the DAP does not depend on where the field is measured
    assert dose_area_product(80, 2.0, (100, 100), 500) == pytest.approx(
        dose_area_product(80, 2.0, (200, 200), 1000)
    )


def test_collimated_shot_is_black_outside(world) -> None:
    s = _session(world, Task("L3", None, ("ap",)))
    s.set_collimation(0.5)
    _, pixels = s.shoot()
    a, b = s.collimated(DETECTOR)
    assert (pixels[:a] == 0).all() and (pixels[:, b:] == 0).all()
    assert pixels[a:b, a:b].mean() > 200
    prev = s.preview(64)
    assert prev.shape == (64, 64) and prev.dtype == np.uint8


def test_shots_written_as_one_series_and_resumed(world, tmp_path) -> None:
    import pydicom

    from flannot.io.reader import read_dicom

    out = tmp_path / "attempts" / "alice" / "case-1-shots"
    s = _session(world, Task("L3", "left", ("ap",), shot_budget=5), out_dir=out, case_id="case-1")
    s.shoot()
    s.rotate(10.0, -5.0)
    s.shoot()
    rec = read_record(out)
    assert [x["id"] for x in rec["shots"]] == ["shot-001", "shot-002"]
    assert rec["shots"][1]["primary_deg"] == pytest.approx(-170.0)
    ds = [pydicom.dcmread(out / f"shot-00{i}.dcm") for i in (1, 2)]
    assert ds[0].SeriesInstanceUID == ds[1].SeriesInstanceUID
    assert [d.InstanceNumber for d in ds] == [1, 2]
    assert float(ds[1].PositionerPrimaryAngle) == pytest.approx(-170.0)
    assert float(ds[0].ImageAndFluoroscopyAreaDoseProduct) == pytest.approx(
        rec["shots"][0]["dap"] / 100.0, rel=1e-4
    )
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (dicom3tools) must be installed: tools/system-deps.sh"
    run = subprocess.run([tool, str(out / "shot-002.dcm")], capture_output=True, text=True)
    assert "Error" not in run.stdout + run.stderr, run.stderr
    img = read_dicom(out)  # the folder opens as one acquisition, a frame per shot
    assert img.frames.shape[0] == 2
    again = TrainingSession.resume(out, *world)
    assert again.detector == DETECTOR and again.state.pan_head_mm == s.state.pan_head_mm
    assert len(again.shots) == 2 and again.state.primary_deg == pytest.approx(-170.0)
    again.shoot()
    assert json.loads((out / "shots.json").read_text())["shots"][-1]["index"] == 3
    (out / "shots.json").write_text('{"shots": []}')
    with pytest.raises(FlannotError, match="flannot_shots_version"):
        read_record(out)


def test_task_is_checked() -> None:
    assert Task.from_dict({"target": "l4_l5", "views": ["ap", "clo-left"]}).target == "L4-L5"
    for bad, words in (
        ({"target": "L4", "views": ["sideways"]}, "unknown view"),
        ({"target": "L9"}, "target"),
        ({"target": "L4", "shot_budget": 0}, "shot_budget"),
        ({"target": "L4", "budget": 3}, "unknown task field"),
        ({"views": ["ap"]}, "target"),
        ({"target": "L4", "kvp": "eighty"}, "bad task value"),
        ({"target": "L4", "shot_budget": True}, "shot_budget"),
    ):
        with pytest.raises(FlannotError, match=words):
            Task.from_dict(bad)


def test_missing_view_and_unknown_target(world) -> None:
    _, verts = world
    with pytest.raises(FlannotError, match="no vertebra S1"):
        find_target(verts, "L5-S1")
    views = [v for v in get_protocol("mild").views if v.name in ("ap", "lateral")]
    items = score_views(views, find_target(verts, "L2"), [])
    lat = _items(items, "lateral")["view_angle_error"]
    assert lat.value is None and not lat.passed and "no shot" in lat.message


def test_oblique_advice_in_operator_words(world) -> None:
    s = _session(world, Task("L3", "left", ("clo-left",)))
    for primary, words in ((-129.0, "turn 6° less oblique"), (-141.0, "turn 6° more oblique")):
        s.shots.clear()
        s.set_angles(primary, 0.0)  # the true oblique is -135 (45° from the AP at 180)
        s.shoot()
        item = _items(s.score(), "clo-left")["view_angle_error"]
        assert item.value == pytest.approx(6.0, abs=0.05)
        assert f"{words} to reach the 45° oblique" in item.message
        assert item.passed  # within the CLO's 10°


def test_rotation_control_is_centred_on_the_ap(world) -> None:
    """The dock's rotation: degrees from the AP toward the patient's left, prone or supine."""
    prone = _session(world, Task("L3", None, ("ap", "clo-right")))
    prone.set_rotation_left(45.0)  # the right approach's oblique: detector to the left
    assert prone.state.primary_deg == pytest.approx(135.0)
    prone.set_angles(-175.0, 0.0)
    assert prone.rotation_left_deg == pytest.approx(-5.0)  # 5° toward the right
    supine = _session(world, Task("L3", None, ("ap",), position="supine"))
    assert supine.state.primary_deg == 0.0
    supine.set_rotation_left(30.0)
    assert supine.state.primary_deg == pytest.approx(30.0)
