"""The Quiz dock keeps every Check in the history and stores the educator's rubric (SPEC §6)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.gui

LAMINA = [[20.0, 40.0], [20.0, 50.0], [30.0, 50.0], [30.0, 40.0]]
CONTRAST = [[10.0, 60.0], [25.0, 60.0], [40.0, 60.0]]
PORTAL = [[5.0, 10.0], [25.0, 40.0]]  # the tip on the lamina's dorsal edge: docked
REFERENCE = [
    {"id": "la1", "type": "lamina", "level": "L4", "side": "left", "frame": 0,
     "geometry": {"kind": "polygon", "points": LAMINA}},
    {"id": "ec1", "type": "epidural_contrast", "level": "L4-L5", "side": "left", "frame": 0,
     "geometry": {"kind": "path", "points": CONTRAST}},
    {"id": "c1", "type": "cannula", "level": "L4-L5", "side": "left", "instrument": "portal",
     "frame": 0, "geometry": {"kind": "line", "points": PORTAL}},
]  # fmt: skip


@pytest.fixture
def quiz(make_napari_viewer, case_folder, tmp_path):
    from flannot.napari._qt.quiz_dock import QuizDock
    from flannot.napari.session import get_session
    from flannot.teach.teaching_set import TeachingSet

    ts = TeachingSet.new(tmp_path / "set")
    folder = case_folder("set/cases/case-a", annotations=REFERENCE)
    ts.data["cases"].append({"case_id": "case-a", "path": "cases/case-a"})
    ts.save()
    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda _p: False
    session.teaching_set = ts
    session.load_case(folder)
    dock = QuizDock(viewer)
    viewer.window.add_dock_widget(dock, name="Quiz")
    dock.trainee.setText("alice")
    return dock, session, ts.root / "attempts" / "alice" / "case-a.json"


def _draw(session, type_name, kind, coords, **attrs):
    from flannot.napari.layers import default_features

    layer = session.annotation_layer(type_name, kind)
    layer.feature_defaults = {**default_features(type_name), **attrs}
    layer.add([np.asarray(coords, float)], shape_type=kind)


def test_checks_are_recorded_and_the_rubric_is_saved_with_the_attempt(quiz) -> None:
    from flannot.teach.history import history_path, read_history

    dock, session, attempt_file = quiz
    assert dock.start_quiz()
    assert not dock.rubric.isHidden() and not dock.rubric.isEnabled()  # nothing to assess yet
    assert not dock.save_assessment()
    _draw(session, "epidural_contrast", "path", CONTRAST, level="L4-L5", side="left")
    _draw(
        session,
        "cannula",
        "line",
        [[5.0, 14.0], [26.0, 44.0]],
        level="L4-L5",
        side="left",
        instrument="portal",
    )  # fmt: skip  (tip 1 mm past the lamina's edge)
    assert dock.check() is not None
    _draw(session, "cannula", "line", PORTAL, level="L4-L5", side="left", instrument="portal")
    session.annotation_layer("cannula", "line").selected_data = {0}
    session.annotation_layer("cannula", "line").remove_selected()
    dock.check()
    history = read_history(history_path(attempt_file))
    assert [e["attempt"] for e in history] == [1, 2]  # every Check kept
    assert all(e["trainee"] == "alice" and e["case_id"] == "case-a" for e in history)
    assert dock.check_number == 2 and dock.rubric.isEnabled()
    boxes = dock.rubric.boxes
    assert boxes["contrast_at_level_side"].isChecked()  # ticked from the attempt
    assert boxes["instrument_docked"].isChecked()
    assert "automatic" in boxes["instrument_docked"].toolTip()
    assert not boxes["views_in_order"].isChecked()

    boxes["views_in_order"].setChecked(True)
    dock.rubric.educator.setText("dr-lee")
    dock.rubric.rating.setCurrentIndex(4)
    dock.rubric.entrustment.setCurrentText("passive help")
    assert dock.save_assessment()
    a = json.loads(attempt_file.read_text())["assessment"]
    assert a["educator"] == "dr-lee" and a["time"].endswith("Z") and a["attempt"] == 2
    assert (a["global_rating"], a["entrustment"], a["entrustment_level"]) == (4, "passive help", 3)
    marks = {m["key"]: (m["done"], m["by"]) for m in a["rubric"]}
    assert marks == {
        "views_in_order": (True, "educator"),
        "level_confirmed_ap": (False, "educator"),
        "contrast_at_level_side": (True, "auto"),
        "instrument_docked": (True, "auto"),
    }
    # the attempt is still the session's file: ending the quiz saves without a conflict
    assert dock.end_quiz()
    assert "assessment" in json.loads(attempt_file.read_text())
