"""The Quiz dock: reference hidden, empty attempt saved apart, Check, overlay, end.

Drawing is simulated with the layers' API (``add_polygons``, ``add``) after setting the
attributes a user would pick, as in the Annotate dock tests.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from qtpy.QtCore import Qt

from flannot.napari.viewer_api import grid_of

pytestmark = pytest.mark.gui

# the reference (answer key): three vertebral bodies and the left L4-L5 ligamentum flavum
VERTEBRAE = {"L3": [14.0, 40.0], "L4": [30.0, 41.0], "L5": [46.0, 42.0]}
LF_POINTS = [[34.0, 50.0], [34.0, 60.0], [42.0, 60.0], [42.0, 50.0]]
REFERENCE = [
    *(
        {"id": f"v{i}", "type": "vertebra", "level": lvl, "frame": 0,
         "geometry": {"kind": "point", "points": [rc]}}
        for i, (lvl, rc) in enumerate(VERTEBRAE.items(), 1)
    ),
    {"id": "lf1", "type": "ligamentum_flavum", "level": "L4-L5", "side": "left", "frame": 0,
     "geometry": {"kind": "polygon", "points": LF_POINTS}},
]  # fmt: skip


@pytest.fixture
def quiz(make_napari_viewer, case_folder, tmp_path):
    """A teaching set with one reference case open in a viewer, and the Quiz dock."""
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
    return dock, session, folder / "annotations.json"


def _n_annotations(session) -> int:
    return sum(len(layer.data) for layer in session.annotation_layers().values())


def _draw(session, type_name, kind, coords, **attrs):
    from flannot.napari.layers import default_features

    layer = session.annotation_layer(type_name, kind)
    layer.feature_defaults = {**default_features(type_name), **attrs}
    if kind == "point":
        layer.add([coords])
    else:
        layer.add_polygons([np.asarray(coords, float)])
    return layer


def test_start_hides_reference_and_attempt_saves_apart(quiz) -> None:
    dock, session, ref_file = quiz
    before = ref_file.read_bytes()
    assert _n_annotations(session) == len(REFERENCE)

    assert dock.start_quiz()
    attempt_file = ref_file.parents[2] / "attempts" / "alice" / "case-a.json"
    assert session.case_path == attempt_file
    assert _n_annotations(session) == 0  # the answer key is not on screen
    assert session.case.case_id == "case-a"
    assert session.image_layer is not None and session.image is not None
    assert not dock.start_btn.isEnabled() and dock.check_btn.isEnabled()
    assert not dock.reference_btn.isEnabled()  # no peeking before Check

    _draw(session, "ligamentum_flavum", "polygon", LF_POINTS, level="L4-L5", side="left")
    assert session.dirty
    recovery = session.autosave_now()
    assert recovery is not None and recovery.parent == attempt_file.parent
    session.save()
    assert ref_file.read_bytes() == before  # autosave and save never touched the reference
    saved = json.loads(attempt_file.read_text())
    assert saved["case_id"] == "case-a"
    assert [a["type"] for a in saved["annotations"]] == ["ligamentum_flavum"]
    # the attempt file still finds the image, and `flannot score` pairs it with the set's case
    from flannot.model.case import Case
    from flannot.teach.score import score

    assert Case.load(attempt_file).image_path.is_file()
    (result,) = score(ref_file.parents[2], attempt_file.parent)
    assert result.case_id == "case-a" and not result.passed  # the vertebrae are missing


def test_check_lists_level_error_and_passes_the_right_outline(quiz) -> None:
    dock, session, _ref = quiz
    dock.start_quiz()
    _draw(session, "ligamentum_flavum", "polygon", LF_POINTS, level="L4-L5", side="left")
    # the right bodies, each named one level too low
    for lvl, rc in zip(("L4", "L5", "S1"), VERTEBRAE.values(), strict=True):
        _draw(session, "vertebra", "point", rc, level=lvl)

    result = dock.check()
    assert result is not None and not result.passed
    by_metric: dict[str, list] = {}
    for it in result.items:
        by_metric.setdefault(it.metric, []).append(it)
    levels = {it.level: it for it in by_metric["level_offset"]}
    assert set(levels) == set(VERTEBRAE)
    assert all(it.value == 1 and not it.passed for it in levels.values())
    assert "L4 labelled as L5" in levels["L4"].message and "too low" in levels["L4"].message
    assert all(it.passed for it in by_metric["landmark_error"])  # right place, wrong name
    (dice,) = by_metric["dice"]
    assert dice.passed and dice.value > 0.95 and dice.annotation_id == "lf1"

    # the table: one row per item, failed first, in red; the summary says not passed
    table = dock.table
    assert table.rowCount() == len(result.items)
    n_failed = len(result.failed)
    assert n_failed == 3
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == (
        ["✗"] * n_failed + ["✓"] * (len(result.items) - n_failed)
    )
    assert "too low" in table.item(0, 1).text()
    assert "3 of" in dock.summary.text() and "Not passed" in dock.summary.text()
    # every item in full: the table is as tall as its (wrapped) rows, no inner scrolling
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    assert table.height() >= rows + table.horizontalHeader().height()
    assert table.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def test_check_overlays_the_reference_read_only(quiz) -> None:
    dock, session, _ref = quiz
    dock.start_quiz()
    _draw(session, "vertebra", "point", VERTEBRAE["L4"], level="L4")
    dock.check()

    overlay = [lay for lay in dock.viewer.layers if lay.name.startswith("reference: ")]
    assert overlay and overlay == dock.reference_layers
    assert sum(len(lay.data) for lay in overlay) == len(REFERENCE)
    assert all(not lay.editable and lay.opacity < 1 for lay in overlay)
    # the overlay is not part of the attempt
    assert len(session.current_case().annotations) == 1
    assert dock.reference_btn.text() == "Hide reference"

    # a second Check refills the same overlay layers in place (no layer removed or added)
    before = [id(lay) for lay in dock.viewer.layers]
    dock.check()
    assert [id(lay) for lay in dock.viewer.layers] == before
    assert [id(lay) for lay in dock.reference_layers] == [id(lay) for lay in overlay]
    assert sum(len(lay.data) for lay in overlay) == len(REFERENCE)
    assert all(not lay.editable and lay.opacity < 1 for lay in overlay)
    assert all(lay.text.string.format == "ref {label}" for lay in overlay)

    # selecting the missed-L3 row highlights the reference L3
    row = next(
        r for r, it in enumerate(dock._items) if it.metric == "level_offset" and it.level == "L3"
    )
    dock.table.selectRow(row)
    active = dock.viewer.layers.selection.active
    assert active in overlay and active.features["id"][next(iter(active.selected_data))] == "v1"

    dock.reference_btn.click()
    assert not any(lay.name.startswith("reference: ") for lay in dock.viewer.layers)
    assert dock.reference_btn.text() == "Show reference"


def test_end_quiz_restores_the_reference(quiz) -> None:
    dock, session, ref_file = quiz
    before = ref_file.read_bytes()
    # the educator's unsaved edit to the answer key survives the quiz, still unsaved
    _draw(session, "vertebra", "point", [60.0, 43.0], level="S1")
    n_ref = len(REFERENCE) + 1
    dock.start_quiz()
    assert _n_annotations(session) == 0
    _draw(session, "vertebra", "point", VERTEBRAE["L3"], level="L3")
    dock.check()

    assert dock.end_quiz()
    assert not dock.active and dock.start_btn.isEnabled()
    assert session.case_path == ref_file
    levels = sorted(a.level for a in session.current_case().annotations if a.level)
    assert levels == sorted([*VERTEBRAE, "L4-L5", "S1"])
    assert _n_annotations(session) == n_ref and session.dirty
    assert not any(lay.name.startswith("reference: ") for lay in dock.viewer.layers)
    assert ref_file.read_bytes() == before
    attempt = json.loads((ref_file.parents[2] / "attempts/alice/case-a.json").read_text())
    assert [a["level"] for a in attempt["annotations"]] == ["L3"]

    # a second quiz by the same trainee resumes the saved attempt
    assert dock.start_quiz()
    assert _n_annotations(session) == 1
    # opening another case (e.g. from the Teaching set dock) ends the quiz
    session.load_case(ref_file)
    assert not dock.active and dock.start_btn.isEnabled()


def test_reference_has_its_own_style_and_goes_side_by_side(quiz) -> None:
    """Issue 14: the reference is not the attempt's colours at 55 %: outlines only in a
    paler tint, its own labels ("ref …") below the anchor; side by side in a 1×2 grid."""
    import numpy as np

    from flannot.napari.layers import labelled_layers

    dock, session, _ref = quiz
    dock.start_quiz()
    _draw(session, "vertebra", "point", VERTEBRAE["L4"], level="L4")
    _draw(session, "ligamentum_flavum", "polygon", LF_POINTS, level="L4-L5", side="left")
    dock.check()
    attempt = session.annotation_layer("ligamentum_flavum", create=False)
    (ref,) = [lay for lay in dock.reference_layers if lay.name.endswith("ligamentum_flavum")]
    assert np.allclose(ref.face_color[:, 3], 0)  # outline only
    assert not np.allclose(ref.edge_color[0], attempt.edge_color[0])
    assert ref.edge_color[0][:3].mean() > attempt.edge_color[0][:3].mean()  # paler
    assert ref.text.string.format.startswith("ref ")
    assert tuple(ref.text.translation) != tuple(attempt.text.translation)

    viewer = dock.viewer
    dock.side_by_side.setChecked(True)
    assert grid_of(viewer).enabled and tuple(grid_of(viewer).shape) == (1, 2)
    layers = list(viewer.layers)
    positions = {lay.name: grid_of(viewer).position(i, layers) for i, lay in enumerate(layers)}
    assert positions[session.image_layer.name] == (0, 0)
    assert positions["reference: image"] == (0, 1)
    assert positions[ref.name] == (0, 1) and positions[attempt.name] == (0, 0)
    session.arrange_labels()  # the image copy (no text) is not a labelled layer
    assert ref.name in labelled_layers(session)
    assert "reference: image" not in labelled_layers(session)
    dock.reference_btn.click()  # hide: back to one view, no image copy left
    assert not grid_of(viewer).enabled
    assert "reference: image" not in [lay.name for lay in viewer.layers]


def test_a_quiz_outside_a_set_starts_without_a_dialog(quiz, monkeypatch) -> None:
    """Issue 14: starting a quiz outside a set popped up a modal save dialog."""
    from qtpy.QtWidgets import QFileDialog

    dock, session, ref_file = quiz
    session.teaching_set = None
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a))
    assert dock.start_quiz()
    assert not asked
    assert session.case_path == ref_file.parent / "attempts" / "alice" / "case-a.json"
    assert "attempts" in dock.status.text()


def test_the_decision_drop_down_records_the_trainees_decision_and_check_scores_it(quiz) -> None:
    from flannot.model.case import Case
    from flannot.model.decision import Decision
    from flannot.napari._qt.annotate_dock import AnnotateDock

    dock, session, _ref = quiz
    annotate = AnnotateDock(dock.viewer)
    # the educator's answer: do not proceed, no laminar shelf (set in the Annotate dock)
    labels = [annotate.decision.combo.itemText(i) for i in range(annotate.decision.combo.count())]
    assert labels[:2] == ["not decided", "proceed"]
    annotate.decision.combo.setCurrentIndex(
        labels.index("do not proceed: no laminar shelf at the target level")
    )
    assert session.case.decision == Decision(False, "no_laminar_shelf") and session.dirty
    dock.start_quiz()
    # the trainee starts undecided (the reference is hidden) and chooses "proceed"
    combo = dock.decision.combo
    assert combo.currentText() == "not decided" and annotate.decision.combo.currentIndex() == 0
    combo.setCurrentIndex(1)
    result = dock.check()
    assert result is not None and not result.passed
    first = dock._items[0]
    assert first.metric == "decision" and first.message.startswith("SAFETY: you decided to proceed")
    assert "SAFETY" in dock.summary.text()
    assert Case.load(dock.attempt_path).decision == Decision(True)
    # the right answer and reason pass
    combo.setCurrentIndex(labels.index("do not proceed: no laminar shelf at the target level"))
    result = dock.check()
    decision_items = [it for it in result.items if it.metric.startswith("decision")]
    assert [it.passed for it in decision_items] == [True, True]
    # listed first, before the outlines the trainee left out: the case's answer leads
    assert [it.metric for it in dock._items[:2]] == ["decision", "decision_reason"]


def test_planning_slice_annotations_stay_off_the_fluoroscopy_canvas(make_napari_viewer, tmp_path):
    """A course case's LF outlines drawn on its axial CT are not drawn on the X-ray (their
    coordinates are the CT's), neither as the case's layers nor as the Quiz reference, and
    a save keeps them."""
    import shutil

    from flannot.model.case import Case
    from flannot.napari._qt.quiz_dock import QuizDock
    from flannot.napari._sample_data import sample_set_dir
    from flannot.napari.session import get_session

    folder = tmp_path / "p4"
    shutil.copytree(sample_set_dir() / "cases" / "p4-clo-left-no-shelf", folder)
    on_ct = {a.id for a in Case.load(folder / "annotations.json").annotations if a.image}
    assert on_ct  # the case has its planning-slice outlines
    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda _p: False
    session.load_case(folder)

    def drawn_ids(layers) -> set[str]:
        return {str(v) for lay in layers if "id" in lay.features for v in lay.features["id"]}

    assert not on_ct & drawn_ids(session.annotation_layers().values())
    assert on_ct <= {a.id for a in session.current_case().annotations}
    dock = QuizDock(viewer)
    viewer.window.add_dock_widget(dock, name="Quiz")
    dock.trainee.setText("alice")
    dock.start_quiz()
    dock.check()
    assert dock.reference_layers and not on_ct & drawn_ids(dock.reference_layers)


def test_reference_labels_are_laid_out_with_the_attempts(quiz) -> None:
    # issue 14: the reference overlay's labels were printed over each other and over
    # the attempt's; they now join the same collision-free layout, from their own place
    import numpy as np

    from flannot.model.label_layout import collisions, placed_boxes
    from flannot.napari import layers as L

    dock, session, _ref = quiz
    dock.start_quiz()
    _draw(session, "vertebra", "point", VERTEBRAE["L4"], level="L4")
    dock.check()
    labels, _preferred, _, char_px, line_px = L.label_layout_input(session)
    groups = {label.group for label in labels}
    assert any(g.startswith("reference: ") for g in groups)  # the overlay is laid out too
    shown = {
        key: tuple(
            float(v)
            for v in np.broadcast_to(
                np.asarray(layer.text.translation, dtype=float), (layer.ndim,)
            )[-2:]
        )
        for key, layer in L.labelled_layers(session).items()
    }
    assert collisions(placed_boxes(labels, shown, char_px, line_px)) == 0
    dock.hide_reference()
    assert not any(g.startswith("reference: ") for g in L.labelled_layers(session))


def test_the_overlay_is_built_at_start_out_of_sight_and_shown_by_check(quiz) -> None:
    """Issue 14 (Check ≤ 0.5 s): Start builds the overlay's layers, kept out of the viewer
    (nothing of the answer key to see or toggle on), and the first Check shows those very
    layers, as a Check that builds them would."""
    from flannot.napari import layers as L

    dock, session, _ref = quiz
    dock.start_quiz()
    assert dock._prepared is not None
    prepared = dock._prepared[1]
    assert {lay.name for lay in prepared} == {
        "reference: vertebra",
        "reference: ligamentum_flavum",
    }
    assert not any(lay.name.startswith("reference: ") for lay in dock.viewer.layers)
    assert not any(lay in dock.viewer.layers for lay in prepared)
    assert dock.reference_btn.text() == "Show reference" and not dock.reference_btn.isEnabled()

    _draw(session, "vertebra", "point", VERTEBRAE["L4"], level="L4")
    dock.check()
    assert [id(lay) for lay in dock.reference_layers] == [id(lay) for lay in prepared]
    assert all(lay in dock.viewer.layers for lay in prepared) and dock._prepared is None
    # the same overlay as one built at Check
    fresh = L.make_reference_layers(session, dock.reference, dock._reference_skip())
    assert [lay.name for lay in fresh] == [lay.name for lay in prepared]
    for a, b in zip(fresh, prepared, strict=True):
        assert len(a.data) == len(b.data)
        assert all(np.allclose(x, y) for x, y in zip(a.data, b.data, strict=True))
        assert list(a.features["id"]) == list(b.features["id"])
        assert a.text.string.format == b.text.string.format
        assert np.allclose(a.scale, b.scale) and not b.editable
        assert b.metadata["flannot_reference"]


def test_check_builds_the_overlay_again_for_a_new_calibration(quiz) -> None:
    # a calibration during the quiz gives a new image (its scale): the layers built at
    # Start are not used, the overlay has the new scale
    dock, session, _ref = quiz
    dock.start_quiz()
    prepared = dock._prepared[1]
    session.set_user_calibration((0.5, 0.5))
    dock.check()
    assert dock.reference_layers
    assert not any(lay in dock.reference_layers for lay in prepared)
    for lay in dock.reference_layers:
        assert np.allclose(lay.scale[-2:], session.image_layer.scale[-2:])
        assert np.allclose(lay.scale[-2:], (0.5, 0.5))


def test_the_measure_dock_does_not_remeasure_for_the_overlay(quiz) -> None:
    # the reference overlay is not measured: its layers coming or going start no refresh
    # (which rewrote the attempt's labels and painted the canvas a second time)
    from flannot.napari import layers as L
    from flannot.napari._qt.measure_dock import MeasureDock

    dock, session, _ref = quiz
    measure = MeasureDock(dock.viewer)
    dock.start_quiz()
    measure.refresh()
    assert not measure._timer.isActive()
    (layer, *_rest) = L.make_reference_layers(session, dock.reference, dock._reference_skip())
    dock.viewer.add_layer(layer)
    assert not measure._timer.isActive()
    dock.viewer.layers.remove(layer)
    assert not measure._timer.isActive()
    attempt = session.annotation_layer("vertebra", "point")
    dock.viewer.layers.remove(attempt)  # an annotation layer: measured again
    assert measure._timer.isActive()


def test_a_second_check_keeps_the_overlay_as_it_is(quiz, monkeypatch) -> None:
    # the answer key does not change during a quiz: a second Check shows the live overlay
    # again (re-shown if hidden in the layer list) without building or refilling it; after
    # a new calibration it is refilled with the new scale
    from flannot.napari import layers as L

    dock, session, _ref = quiz
    dock.start_quiz()
    dock.check()
    overlay = list(dock.reference_layers)
    data = [[np.array(d, copy=True) for d in lay.data] for lay in overlay]
    overlay[0].visible = False

    def no_build(*_a, **_k):
        raise AssertionError("the overlay was built again")

    monkeypatch.setattr(L, "make_reference_layers", no_build)
    monkeypatch.setattr(L, "refill_layer", no_build)
    _draw(session, "vertebra", "point", VERTEBRAE["L4"], level="L4")
    result = dock.check()
    assert result is not None and any(it.passed for it in result.items)
    assert dock.reference_layers == overlay and all(lay.visible for lay in overlay)
    assert all(lay in dock.viewer.layers and not lay.editable for lay in overlay)
    for lay, before in zip(overlay, data, strict=True):
        assert all(np.allclose(a, b) for a, b in zip(lay.data, before, strict=True))
    assert dock.viewer.layers.selection.active is session.image_layer

    monkeypatch.undo()
    session.set_user_calibration((0.5, 0.5))
    dock.check()
    assert [id(lay) for lay in dock.reference_layers] == [id(lay) for lay in overlay]
    assert all(np.allclose(lay.scale[-2:], (0.5, 0.5)) for lay in overlay)
