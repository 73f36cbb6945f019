"""C-arm training mode on the TotalSegmentator example CT (real anatomy, T12–S1 labelled).

Fetched once into a cache (``tests/sim/reference_ct.py``); fails, never skips, when it
cannot be fetched. Shots are 64² (the same 30 cm field) to keep it fast.
"""

from __future__ import annotations

import pytest

from flannot.sim.training import Task, TrainingSession
from flannot.sim.view_score import ideal_view, view_metrics
from flannot.sim.views import resolve_view
from tests.sim.reference_ct import fetch


@pytest.fixture(scope="module")
def session() -> TrainingSession:
    from flannot.sim import find_vertebrae, label_convention, prepare
    from flannot.sim.volume import load_ct, load_labels

    ct_path, seg_path = fetch()
    ct = load_ct(ct_path)
    verts = find_vertebrae(load_labels(seg_path, ct), ct, label_convention("totalsegmentator"))
    task = Task("L4-L5", "left", ("ap", "lateral", "clo-left"), shot_budget=6)
    s = TrainingSession(prepare(ct, 80.0), verts, task, detector=64, pixel_mm=4.8)
    s.pan(*(s.target.point - s.isocentre)[[2, 0]])
    return s


def test_ideal_views_of_the_real_spine(session: TrainingSession) -> None:
    ap = ideal_view(resolve_view("ap"), session.target)
    # a lordotic lumbar spine: the true AP of L4-L5 is tilted, the patient hardly rotated
    assert abs(ap[0] - 180.0) < 10.0 or abs(ap[0] + 180.0) < 10.0
    assert 2.0 < abs(ap[1]) < 30.0
    clo = ideal_view(resolve_view("clo-left"), session.target)
    # 45° from the true AP, the detector toward the patient's right
    assert ((clo[0] - ap[0] + 180.0) % 360.0 - 180.0) == pytest.approx(45.0, abs=0.01)


def test_real_ct_shots_are_scored(session: TrainingSession) -> None:
    session.shots.clear()
    for name in ("ap", "clo-left"):
        session.set_angles(*ideal_view(resolve_view(name), session.target))
        session.shoot()
    p, s = ideal_view(resolve_view("lateral"), session.target)
    session.set_angles(p, s + 8.0)
    session.shoot()
    items = {(it.annotation_id, it.metric): it for it in session.score()}
    for name in ("ap", "clo-left"):
        assert items[(name, "view_angle_error")].value < 0.05
        assert abs(items[(name, "endplate_tilt")].value) < 0.2
        assert items[(name, "view_angle_error")].passed
    # the spinous process midway between the pedicles on the true AP (real landmarks)
    assert abs(items[("ap", "spinous_offset")].value) < 1.0
    lat = items[("lateral", "view_angle_error")]
    assert lat.value == pytest.approx(8.0, abs=0.05) and not lat.passed
    assert "tilt 8° caudal to square the L4-L5 endplates" in lat.message
    assert items[(None, "shots")].value == 3 and items[(None, "shots")].passed


def test_rotation_off_the_true_ap_moves_the_spinous_process(session: TrainingSession) -> None:
    p, s = ideal_view(resolve_view("ap"), session.target)
    view = resolve_view("ap")
    offsets = []
    for dp in (-6.0, 6.0):
        session.set_angles(p + dp, s)
        offsets.append(view_metrics(session.carm(64), view, session.target)["spinous_offset"])
    # turning one way or the other moves the tip toward opposite pedicles, by mm
    assert offsets[0] * offsets[1] < 0
    assert all(1.5 < abs(o) < 10.0 for o in offsets)
