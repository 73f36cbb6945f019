"""Annotating with the Annotate dock: every type, save, reopen in a new viewer, identical.

Drawing is simulated with the layers' API (``add_polygons``, ``add_lines`` …) after
picking the structure and attributes in the dock, as a user's clicks would.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

EXTRA_ANNOTATION = {
    "id": "note-1",
    "type": "spinal_canal",
    "level": "L3-L4",
    "frame": 0,
    "note": "kept from the file",
    "x_reviewer": {"name": "educator", "score": 3},
    "geometry": {"kind": "polygon", "points": [[5.5, 5.25], [5.5, 15.0], [12.0, 15.0]]},
}


def _dock(viewer):
    from flannot.napari._qt.annotate_dock import AnnotateDock

    dock = AnnotateDock(viewer)
    viewer.window.add_dock_widget(dock, name="Annotate")
    return dock


def _choose(dock, type_name, kind=None, level=None, side=None, instrument=None):
    layer = dock.select_structure(type_name, kind)
    if level is not None:
        dock.level.setCurrentText(level)
    if side is not None:
        dock.side.setCurrentText(side)
    if instrument is not None:
        dock.instrument.setCurrentText(instrument)
    return layer


def _layer_dump(session) -> dict:
    """Every annotation layer's coordinates and attributes, for exact comparison."""
    out = {}
    for key, layer in session.annotation_layers().items():
        data = layer.data if hasattr(layer, "shape_type") else list(layer.data)
        out[key] = (
            [np.asarray(d).tolist() for d in data],
            list(getattr(layer, "shape_type", [])),
            [
                [None if v is None or v != v else v for v in layer.features[c]]  # NaN == None
                for c in ("id", "level", "side", "instrument")
            ],
        )
    return out


def test_every_type_round_trips_through_save_and_a_new_viewer(
    make_napari_viewer, case_folder
) -> None:
    from flannot.napari.session import get_session

    folder = case_folder("rt", annotations=[EXTRA_ANNOTATION])
    viewer = make_napari_viewer()
    viewer.open(str(folder), plugin="flannot")
    session = get_session(viewer)
    dock = _dock(viewer)
    assert not session.dirty

    # vertebra centres: three clicks, the level advances L1 → L2 → L3 by itself
    pts = _choose(dock, "vertebra", "point", level="L1")
    assert pts.mode == "add"
    for rc in ([10.0, 40.0], [20.0, 41.0], [30.5, 42.25]):
        pts.add([rc])
    assert pts.features["level"].tolist() == ["L1", "L2", "L3"]
    assert dock.level.currentText() == "L4"

    corners = _choose(dock, "vertebra", "polygon", level="L4")
    assert corners.mode == "add_polygon"
    corners.add_polygons([np.array([[40, 30], [40, 50], [50, 50], [50, 30.5]])])
    _choose(dock, "interlaminar_space", level="L4-L5").add_polygons(
        [np.array([[52.0, 35.0], [52.0, 45.0], [56.0, 40.0]])]
    )
    _choose(dock, "ligamentum_flavum", level="L4-L5", side="left").add_polygons(
        [np.array([[45.0, 52.0], [45.0, 58.0], [49.0, 58.0], [49.0, 52.0]])]
    )
    contrast = _choose(dock, "epidural_contrast", level="L4-L5", side="left")
    assert contrast.mode == "add_path"
    contrast.add_paths([np.array([[5.0, 60.0], [30.0, 61.0], [60.0, 62.5]])])
    cannula = _choose(dock, "cannula", level="L4-L5", side="right", instrument="trocar")
    assert cannula.mode == "add_line"
    cannula.add_lines([np.array([[60.0, 75.0], [47.0, 55.0]])])
    redaction = _choose(dock, "redaction")
    assert redaction.mode == "add_rectangle"
    redaction.add_rectangles([np.array([[1.0, 1.0], [6.0, 20.0]])])
    # a note on the selected ligamentum flavum
    lf = session.annotation_layer("ligamentum_flavum")
    viewer.layers.selection.active = lf
    lf.selected_data = {0}
    assert dock.set_note("hypertrophic, 5 mm") == 1
    assert session.dirty and "*" in dock.header.text()

    saved_path = dock.save()
    assert saved_path == folder / "annotations.json"
    assert not session.dirty and "*" not in dock.header.text()
    saved = json.loads(saved_path.read_text())["annotations"]
    before = _layer_dump(session)
    by_type = {}
    for a in saved:
        by_type.setdefault(a["type"], []).append(a)
    assert {a["level"] for a in by_type["vertebra"]} == {"L1", "L2", "L3", "L4"}
    assert sorted(a["geometry"]["kind"] for a in by_type["vertebra"]) == [
        "point",
        "point",
        "point",
        "polygon",
    ]
    (c,) = by_type["cannula"]
    assert (c["level"], c["side"], c["instrument"]) == ("L4-L5", "right", "trocar")
    assert c["geometry"] == {"kind": "line", "points": [[60.0, 75.0], [47.0, 55.0]]}
    (lf_saved,) = by_type["ligamentum_flavum"]
    assert lf_saved["note"] == "hypertrophic, 5 mm" and lf_saved["side"] == "left"
    (red,) = by_type["redaction"]
    assert red["geometry"]["kind"] == "rectangle"
    np.testing.assert_array_equal(
        np.sort(np.asarray(red["geometry"]["points"]), axis=0)[[0, -1]], [[1, 1], [6, 20]]
    )
    assert by_type["epidural_contrast"][0]["geometry"]["kind"] == "path"
    # the annotation that was in the file comes back unchanged, unknown keys included
    kept = next(a for a in saved if a["id"] == "note-1")
    assert kept == EXTRA_ANNOTATION
    assert len({a["id"] for a in saved}) == len(saved) == 10

    viewer.close()
    viewer2 = make_napari_viewer()
    viewer2.open(str(folder), plugin="flannot")
    session2 = get_session(viewer2)
    assert session2 is not session
    again = [a.to_dict() for a in session2.current_case().annotations]
    assert again == saved  # coordinates, attributes, frames, ids, times
    assert _layer_dump(session2) == before
    assert not session2.dirty


def test_cine_frames_keep_their_own_annotations(make_napari_viewer, case_folder) -> None:
    from flannot.napari.session import get_session

    folder = case_folder("cine", frames=4)
    viewer = make_napari_viewer()
    viewer.open(str(folder), plugin="flannot")
    session = get_session(viewer)
    dock = _dock(viewer)
    cannula = _choose(dock, "cannula", level="L4-L5", side="left", instrument="portal")
    # the portal advances: one line per frame (first coordinate = frame)
    cannula.add_lines(
        [np.array([[f, 60.0, 70.0], [f, 50.0 - 4 * f, 60.0 - 4 * f]]) for f in (0.0, 1.0, 3.0)]
    )
    lf = _choose(dock, "ligamentum_flavum", level="L4-L5", side="left")
    lf.add_polygons([np.array([[2.0, 40.0, 40.0], [2.0, 40.0, 50.0], [2.0, 45.0, 45.0]])])

    assert session.dirty
    viewer.dims.set_current_step(0, 1)
    assert list(cannula._view_indices) == [1]  # frame 1 shows only its own line
    assert len(lf._view_indices) == 0
    viewer.dims.set_current_step(0, 2)
    assert len(cannula._view_indices) == 0 and list(lf._view_indices) == [0]

    # jumping to an annotation shows its frame and selects it
    viewer.dims.set_current_step(0, 0)
    session.select_annotation(cannula.features["id"].iloc[2])
    assert viewer.dims.current_step[0] == 3
    assert viewer.layers.selection.active is cannula and cannula.selected_data == {2}

    dock.save()
    viewer.close()
    viewer2 = make_napari_viewer()
    viewer2.open(str(folder), plugin="flannot")
    case = get_session(viewer2).current_case()
    frames = sorted((a.type, a.frame) for a in case.annotations)
    assert frames == [("cannula", 0), ("cannula", 1), ("cannula", 3), ("ligamentum_flavum", 2)]
    tip3 = next(a for a in case.annotations if a.type == "cannula" and a.frame == 3)
    np.testing.assert_array_equal(tip3.geometry.points, [[60.0, 70.0], [38.0, 48.0]])


def test_undo_redo_of_add_move_delete_and_attributes(viewer, case_folder) -> None:
    from flannot.napari.session import get_session

    viewer.open(str(case_folder("undo")), plugin="flannot")
    session = get_session(viewer)
    dock = _dock(viewer)
    lf = _choose(dock, "ligamentum_flavum", level="L4-L5", side="left")
    tri = np.array([[10.0, 10.0], [10.0, 20.0], [20.0, 15.0]])
    lf.add_polygons([tri])
    lf.add_polygons([tri + 30])
    moved = [d.copy() for d in lf.data]
    moved[0] = moved[0] + 5
    lf.data = moved  # a move
    lf.selected_data = {1}
    lf.remove_selected()  # a delete
    viewer.layers.selection.active = lf
    lf.selected_data = {0}
    dock.side.setCurrentText("right")
    dock.apply_to_selected()  # an attribute edit
    points = _choose(dock, "vertebra", "point", level="L2")
    points.add([[5.0, 5.0]])

    assert len(points.data) == 1
    assert dock.undo() and len(points.data) == 0  # undoes the last edit, in another layer
    assert dock.undo() and lf.features["side"].tolist() == ["left"]
    assert dock.undo() and len(lf.data) == 2  # the deleted shape is back ...
    np.testing.assert_array_equal(lf.data[1], tri + 30)
    assert lf.features["id"].tolist() == ["lf1", "lf2"]  # ... with its id
    assert dock.undo()
    np.testing.assert_array_equal(lf.data[0], tri)  # the move is undone
    assert dock.redo() and dock.redo()
    assert len(lf.data) == 1
    np.testing.assert_array_equal(lf.data[0], tri + 5)
    assert dock.redo() and lf.features["side"].tolist() == ["right"]
    assert dock.redo() and len(points.data) == 1
    assert not dock.redo()  # nothing left
    (lf_case,) = [a for a in session.current_case().annotations if a.type == "ligamentum_flavum"]
    assert lf_case.side == "right"
    # a new edit clears the redo history
    dock.undo()
    lf.add_polygons([tri])
    assert not session.undo.can_redo


def test_vertebra_levels_out_of_order_are_flagged_live(viewer, case_folder) -> None:
    viewer.open(str(case_folder("order")), plugin="flannot")
    dock = _dock(viewer)
    points = _choose(dock, "vertebra", "point", level="L2")
    points.add([[10.0, 10.0]])
    points.add([[20.0, 10.0]])  # L3, auto-advanced
    assert dock.check_vertebra_order() == [] and not dock.order_warning.isVisibleTo(dock)
    dock.level.setCurrentText("L5")  # skips L4
    points.add([[30.0, 10.0]])
    messages = dock.check_vertebra_order()
    assert len(messages) >= 1 and "L5" in " ".join(messages)
    assert dock.order_warning.isVisibleTo(dock) and "L5" in dock.order_warning.text()
    dock.undo()
    assert dock.check_vertebra_order() == []
    # selecting an annotation shows its attributes and note in the dock
    points.features = points.features.assign(note=["first", ""])
    points.mode = "select"
    points.selected_data = {0}
    assert dock.level.currentText() == "L2" and dock.note.text() == "first"


def test_calibration_line_sets_user_calibration(viewer, make_xa) -> None:
    from flannot.napari.session import get_session

    viewer.open(str(make_xa("nocal.dcm", calibration="uncalibrated")), plugin="flannot")
    session = get_session(viewer)
    dock = _dock(viewer)
    assert "uncalibrated" in dock.calibration_label.text()
    seen = []
    session.events.calibration_changed.connect(lambda: seen.append(True))
    line = dock.start_calibration()
    assert line.mode == "add_line"
    line.add_lines([np.array([[10.0, 10.0], [10.0, 50.0]])])  # 40 px
    spacing = dock.calibrate(8.0)  # ... are 8 mm
    assert spacing == pytest.approx((0.2, 0.2))
    assert seen
    assert session.image.calibration == "user"
    np.testing.assert_allclose(session.image_layer.scale, [0.2, 0.2])
    assert [str(u) for u in session.image_layer.units] == ["millimeter", "millimeter"]
    for layer in session.annotation_layers().values():
        np.testing.assert_allclose(layer.scale, [0.2, 0.2])
    assert "user" in dock.calibration_label.text()
    case = session.current_case()
    assert case.image.calibration == "user"
    assert case.image.spacing_mm == pytest.approx((0.2, 0.2))
    (cal,) = [a for a in case.annotations if a.type == "calibration"]
    assert cal.length_mm == 8.0
    assert line.features["label"].tolist() == ["8 mm (calibration)"]

    # reopened, the saved calibration line calibrates the layers again (same mm as the table)
    folder = Path(str(session.image.path)).parent
    session.save(folder / "annotations.json")
    session.load_case(folder)
    assert session.image.calibration == "user"
    np.testing.assert_allclose(session.image_layer.scale, [0.2, 0.2])


def test_calibration_outside_the_spacing_range_is_refused_in_the_status(viewer, make_xa) -> None:
    # a mistyped length: 1e9 mm over 40 px is no spacing a case file may record (the
    # user calibration raised ValueError out of the Qt slot)
    from flannot.napari.session import get_session

    viewer.open(str(make_xa("nocal.dcm", calibration="uncalibrated")), plugin="flannot")
    session = get_session(viewer)
    dock = _dock(viewer)
    dock.start_calibration().add_lines([np.array([[10.0, 10.0], [10.0, 50.0]])])
    assert dock.calibrate(1e9) is None
    assert "outside 1e-06–1e+06 mm" in dock.status.text()
    assert session.image.calibration == "uncalibrated"


def test_vertebra_auto_advance_goes_l5_to_s1_unless_l6_is_picked(
    viewer, case_folder, qtbot
) -> None:
    viewer.open(str(case_folder("lumbosacral")), plugin="flannot")
    dock = _dock(viewer)
    points = _choose(dock, "vertebra", "point", level="L4")
    points.add([[10.0, 10.0]])  # L4
    assert dock.level.currentText() == "L5"
    points.add([[20.0, 10.0]])  # L5: five lumbar vertebrae is the usual spine
    assert dock.level.currentText() == "S1"
    # a transitional L6 is the user's explicit choice; after it comes S1
    dock.level.setCurrentText("L6")
    points.add([[30.0, 10.0]])
    assert dock.level.currentText() == "S1"
    points.add([[40.0, 10.0]])  # S1: nothing further caudal, the level stays
    assert dock.level.currentText() == "S1"
    assert points.features["level"].tolist() == ["L4", "L5", "L6", "S1"]
    # the order check runs by itself (debounced), without anyone calling it
    dock.level.setCurrentText("L2")
    points.add([[50.0, 10.0]])  # L2 below S1: out of cranio-caudal order
    qtbot.waitUntil(lambda: dock.order_warning.isVisibleTo(dock), timeout=3000)
    assert "L2" in dock.order_warning.text()


def test_new_annotation_ids_follow_the_case_model(viewer, case_folder) -> None:
    from flannot.model.case import Case
    from flannot.napari.session import get_session

    folder = case_folder("ids", annotations=[EXTRA_ANNOTATION])
    viewer.open(str(folder), plugin="flannot")
    session = get_session(viewer)
    dock = _dock(viewer)
    lf = _choose(dock, "ligamentum_flavum", level="L4-L5", side="left")
    expected = Case.load(folder).new_id("ligamentum_flavum")
    lf.add_polygons([np.array([[45.0, 52.0], [45.0, 58.0], [49.0, 58.0]])])
    assert lf.features["id"].tolist() == [expected]
    canal = _choose(dock, "spinal_canal", level="L4-L5")
    canal.add_polygons([np.array([[5.0, 5.0], [5.0, 9.0], [9.0, 9.0]])])
    # "note-1" is a spinal canal already in the case: the new one must not clash
    ids = [a.id for a in session.current_case().annotations]
    assert len(ids) == len(set(ids)) == 3


def test_dock_speaks_plainly_and_forgets_the_previous_case(viewer, case_folder) -> None:
    """Issue 14: no JSON paths in the dock; status and calibration length reset per case."""
    viewer.open(str(case_folder("twice")), plugin="flannot")
    dock = _dock(viewer)
    points = _choose(dock, "vertebra", "point", level="L3")
    dock.auto_advance.setChecked(False)
    points.add([[10.0, 10.0]])
    points.add([[30.0, 10.0]])  # L3 again
    messages = dock.check_vertebra_order()
    assert any("twice" in m for m in messages)
    assert "$." not in " ".join(messages) and "$." not in dock.order_warning.text()
    first_id = points.features["id"][0]
    assert f"annotation {first_id}" in " ".join(messages)

    dock.status.setText("Calibrated: 0.3 mm/pixel (user).")
    dock.calib_length.setValue(25.0)
    dock.note.setText("typed for the first case")
    viewer.open(str(case_folder("next")), plugin="flannot")
    assert dock.status.text() == ""
    assert dock.calib_length.value() == 10.0
    assert dock.note.text() == ""


def test_cine_plays_at_its_frame_rate_and_reads_ahead(make_napari_viewer, case_folder, qtbot):
    """Issue 14: a cine player (play/pause, Frame Time, loop) with bounded read-ahead."""
    from flannot.napari.cine import CAPACITY, ReadAhead
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    viewer.open(str(case_folder("cine", frames=6)), plugin="flannot")
    dock = _dock(viewer)
    session = get_session(viewer)
    assert dock.cine_row.isVisibleTo(dock)
    assert dock.player.fps == pytest.approx(1000 / 66.7, rel=1e-3)  # the file's Frame Time
    reader = session.image_layer.metadata["flannot_frames"]
    assert isinstance(reader, ReadAhead)

    dock.play_button.click()
    assert dock.player.playing and "Pause" in dock.play_button.text()
    qtbot.waitUntil(lambda: viewer.dims.current_step[0] >= 3, timeout=5000)
    assert len(reader.cached()) <= CAPACITY  # bounded, however long it plays
    assert reader.ahead > 0
    qtbot.waitUntil(lambda: viewer.dims.current_step[0] == 0, timeout=5000)  # looped
    dock.play_button.click()
    assert not dock.player.playing and reader.ahead == 0

    dock.loop_box.setChecked(False)
    viewer.dims.set_current_step(0, 5)
    dock.player.step()  # at the last frame without loop: stops there
    assert viewer.dims.current_step[0] == 5 and not dock.player.playing


def test_articular_process_part_is_chosen_kept_and_saved(make_napari_viewer, case_folder) -> None:
    # the napari layers had no "part" column: a superior/inferior articular process drawn
    # in the dock was saved without its part, and an edited one lost it
    from flannot.napari.session import get_session

    loaded = {
        "id": "ap-1",
        "type": "articular_process",
        "level": "L4",
        "side": "left",
        "part": "inferior",
        "frame": 0,
        "geometry": {"kind": "polygon", "points": [[5.0, 5.0], [5.0, 15.0], [12.0, 15.0]]},
    }
    folder = case_folder("ap", annotations=[loaded])
    viewer = make_napari_viewer()
    viewer.open(str(folder), plugin="flannot")
    session = get_session(viewer)
    dock = _dock(viewer)
    layer = _choose(dock, "articular_process", level="L5", side="right")
    assert dock.part.isEnabled() and dock.part.findText("superior") >= 0
    dock.part.setCurrentText("superior")
    layer.add_polygons([np.array([[30.0, 30.0], [30.0, 40.0], [38.0, 40.0]])])
    assert layer.features["label"].tolist()[-1] == "SAP L5 right"
    # edit the loaded one (move a vertex): its part must survive
    data = [np.asarray(d).copy() for d in layer.data]
    data[0][0] += 1.0
    layer.data = data
    session.mark_changed(layer)
    saved = json.loads(dock.save().read_text())["annotations"]
    parts = {(a["level"], a["side"]): a.get("part") for a in saved}
    assert parts == {("L4", "left"): "inferior", ("L5", "right"): "superior"}
    assert _choose(dock, "vertebra", "point") is not None and not dock.part.isEnabled()
