"""The C-arm dock: turning re-renders the preview, Shoot adds a frame, Check lists the views.

Under Xvfb (``xvfb-run -a``); the case is the synthetic CT's (``conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def dock(make_napari_viewer, qtbot, ct_set, tmp_path):
    from flannot.napari._qt.carm_dock import CArmDock
    from flannot.teach.teaching_set import TeachingSet

    root, cid = ct_set
    viewer = make_napari_viewer()
    widget = CArmDock(viewer)
    viewer.window.add_dock_widget(widget, name="C-arm")
    widget.open_case(TeachingSet.open(root).case_dir(cid), tmp_path / "case-shots")
    widget.session.ask_restore = lambda _p: False
    return widget


def _wait_preview(qtbot, dock, n: int) -> None:
    qtbot.waitUntil(lambda: len(dock.latencies) >= n, timeout=10000)


def test_turning_updates_the_preview(dock, qtbot, monkeypatch) -> None:
    from flannot.napari._qt import carm_dock
    from flannot.napari._qt.carm_dock import PREVIEW_LAYER

    _wait_preview(qtbot, dock, 1)
    layer = dock.viewer.layers[PREVIEW_LAYER]
    before = layer.data.copy()
    assert before.shape == (256, 256)
    monkeypatch.setattr(carm_dock, "DRAFT_WINDOW_S", 60.0)  # the hand is still moving
    for value in (10, 20, 30):  # detector toward the patient's left; quick turns coalesce
        dock.primary.setValue(value)
    _wait_preview(qtbot, dock, 2)
    assert dock.training.state.primary_deg == 150  # prone: 180 - 30
    assert not np.array_equal(layer.data, before)
    assert "ms" in dock.latency.text()
    # a draft while turning fast, the full 256² once the controls rest
    assert dock.sizes[-1] == 128
    qtbot.waitUntil(lambda: layer.data.shape == (256, 256), timeout=5000)
    assert layer.scale[0] == pytest.approx(96 / 256)
    qtbot.keyClick(dock, dock_key("Up"))  # one degree cranial
    assert dock.training.state.secondary_deg == 1
    assert dock.secondary.value() == 1
    qtbot.keyClick(dock, dock_key("Left"))  # toward the screen's left: the patient's left
    assert dock.training.state.primary_deg == 149 and dock.primary.value() == 31


def dock_key(name: str):
    from qtpy.QtCore import Qt

    return getattr(Qt.Key, f"Key_{name}")


def test_shoot_adds_frames_and_check_lists_views(dock, qtbot, tmp_path: Path) -> None:
    from flannot.napari._qt.carm_dock import SHOTS_LAYER

    tr = dock.training
    dock.pan_head.setValue(round(float((tr.target.point - tr.home)[2])))
    dock.secondary.setValue(8)
    dock.shoot()
    layer = dock.viewer.layers[SHOTS_LAYER]
    assert layer.data.shape == (1, 96, 96) and layer.data.max() > 0
    dock.collimation.setValue(50)
    qtbot.keyClick(dock, dock_key("Return"))
    assert layer.data.shape[0] == 2
    assert dock.viewer.dims.current_step[0] == 1
    assert "Shots: 2 of 4" in dock.counter.text() and "mGy·cm²" in dock.counter.text()
    assert (tmp_path / "case-shots" / "shot-002.dcm").is_file()
    items = dock.check()
    ap = {it.metric: it for it in items if it.annotation_id == "ap"}
    assert ap["view_angle_error"].value == pytest.approx(8.0, abs=0.1)
    text = dock.feedback.toPlainText()
    assert "tilt 8° caudal to square the L3-L4 endplates" in text
    assert "Contralateral oblique (left approach) (shot 1): 45" in text  # far from it


def test_alt_drag_turns_the_c_arm(dock) -> None:
    """Alt-drag on the preview: right → primary up, up → cranial (napari's drag protocol)."""

    class Event:
        def __init__(self, kind, pos, mods=("Alt",)):
            self.type, self.position, self.modifiers = kind, pos, mods

    start = (dock.training.state.primary_deg, dock.training.state.secondary_deg)
    press = Event("mouse_press", (50.0, 50.0))
    drag = dock._drag(None, press)
    next(drag)
    press.type, press.position = "mouse_move", (30.0, 70.0)  # 20 px up and right
    next(drag)
    p, s = dock.training.state.primary_deg, dock.training.state.secondary_deg
    assert (p - start[0]) % 360 == pytest.approx(5.0) and s - start[1] == pytest.approx(5.0)
    assert dock.primary.value() == -5  # right on the screen: the prone patient's right
    assert dock.secondary.value() == round(s)
    plain = dock._drag(None, Event("mouse_press", (0.0, 0.0), ()))
    assert next(plain, None) is None  # without Alt napari pans the view as usual


def test_annotate_shots_opens_the_attempt(dock, tmp_path: Path) -> None:
    dock.shoot()
    dock.shoot()
    attempt = dock.annotate()
    assert attempt == tmp_path / "case.json"
    session = dock.session
    assert session.case_path == attempt
    assert session.image_layer.data.shape[0] == 2  # a frame per shot


def test_shots_go_into_the_set_by_default(dock, ct_set, monkeypatch) -> None:
    from flannot.teach.teaching_set import TeachingSet

    monkeypatch.setattr("flannot.teach.attempts.default_trainee", lambda: "carol")
    root, cid = ct_set
    dock.open_case(TeachingSet.open(root).case_dir(cid))
    assert dock.training.out_dir == root.resolve() / "attempts" / "carol" / f"{cid}-shots"
