"""What keeps the workspace fast (issue 14), checked by behaviour, not by timing.

The times themselves are measured in ``benchmarks/bench_gui.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sample_source(tmp_path_factory) -> Path:
    """The phantom's sample teaching set (the repository's, else written once)."""
    from flannot.phantom import sample_set_path, write_sample_set

    found = sample_set_path()
    if found is not None:
        return Path(found)
    return write_sample_set(tmp_path_factory.mktemp("sample") / "set", seed=0)


@pytest.fixture
def sample_set(sample_source, tmp_path) -> Path:
    """A copy: edits and their autosave recovery files never touch the repository's set."""
    return Path(shutil.copytree(sample_source, tmp_path / "set"))


@pytest.fixture
def viewer(make_napari_viewer):
    """A viewer whose session never asks about recovery files (no modal dialog)."""
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    get_session(viewer).ask_restore = lambda _path: None
    return viewer


def test_mesh_colour_transform_is_built_once_for_rgba_colours() -> None:
    from vispy.visuals import MeshVisual

    from flannot.napari._mesh_shaders import cache_color_transform

    mesh = MeshVisual()
    rgba = np.ones((4, 4), dtype=np.float32)
    before = (mesh._build_color_transform(rgba), mesh._build_color_transform(rgba))
    assert before[0] is not before[1]  # vispy: a new shader function each data update
    assert cache_color_transform(mesh)
    assert not cache_color_transform(mesh)  # once per mesh
    first = mesh._build_color_transform(rgba)
    assert mesh._build_color_transform(rgba) is first
    values = np.ones((4, 1), dtype=np.float32)  # colour-mapped: limits may change, not cached
    assert mesh._build_color_transform(values) is not mesh._build_color_transform(values)


def test_stepping_the_cine_recompiles_no_shader(viewer, sample_set, monkeypatch) -> None:
    import vispy.gloo.program as gloo_program
    from qtpy.QtWidgets import QApplication

    from flannot.napari.session import get_session

    session = get_session(viewer)
    session.load_case(sample_set / "cases" / "cine")
    shown = [layer for layer in session.annotation_layers().values() if layer.visible]
    assert any(hasattr(layer, "shape_type") for layer in shown)  # Shapes meshes on screen
    viewer.window._qt_window.show()
    QApplication.processEvents()
    compiled = []
    original = gloo_program.Program.set_shaders

    def counting(self, *args, **kwargs):
        compiled.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(gloo_program.Program, "set_shaders", counting)
    for frame in (1, 2, 3, 4):
        viewer.dims.set_current_step(0, frame)
        viewer.window._qt_viewer.canvas.native.repaint()
        QApplication.processEvents()
    assert compiled == []


@pytest.mark.parametrize("first", ["ap", "cine"])
def test_switching_to_and_from_the_cine_keeps_the_image_layer(viewer, sample_set, first) -> None:
    from flannot.napari.session import get_session

    session = get_session(viewer)
    session.load_case(sample_set / "cases" / first)
    image = session.image_layer
    lf = session.annotation_layers()["ligamentum_flavum"]
    other = "ap" if first == "cine" else "cine"
    session.load_case(sample_set / "cases" / other)
    assert session.image_layer is image and image.ndim == (3 if other == "cine" else 2)
    assert session.annotation_layers()["ligamentum_flavum"] is lf
    assert viewer.dims.ndim == image.ndim


def _applied_offsets(session) -> dict:
    out = {}
    from flannot.napari.layers import labelled_layers

    for key, layer in labelled_layers(session).items():
        t = np.broadcast_to(np.asarray(layer.text.translation, dtype=float), (layer.ndim,))
        out[key] = (float(t[-2]), float(t[-1]))
    return out


def test_labels_of_a_frame_do_not_overlap_on_the_sample_cases(viewer, sample_set) -> None:
    from qtpy.QtWidgets import QApplication

    from flannot.model.label_layout import collisions, placed_boxes
    from flannot.napari import layers as L
    from flannot.napari.session import get_session

    session = get_session(viewer)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.window._qt_window.show()
    moved_somewhere = False
    for case in sorted(p.name for p in (sample_set / "cases").iterdir() if p.is_dir()):
        session.load_case(sample_set / "cases" / case)
        QApplication.processEvents()
        labels, preferred, _, char_px, line_px = L.label_layout_input(session)
        assert labels, case
        shown = placed_boxes(labels, _applied_offsets(session), char_px, line_px)
        crowded = [
            (labels[i].text, labels[j].text)
            for i in range(len(shown))
            for j in range(i + 1, len(shown))
            if collisions([shown[i], shown[j]])
        ]
        assert crowded == [], case  # as the layers show them now
        if collisions(placed_boxes(labels, preferred, char_px, line_px)):
            moved_somewhere = True  # the protocol's offsets alone would collide here
    assert moved_somewhere


def test_labels_move_apart_when_an_edit_makes_them_collide(viewer, sample_set) -> None:
    from flannot.model.label_layout import collisions, placed_boxes
    from flannot.napari import layers as L
    from flannot.napari.session import get_session

    session = get_session(viewer)
    session.load_case(sample_set / "cases" / "clo-left")
    lf = session.annotation_layers()["ligamentum_flavum"]
    canal = session.annotation_layer("spinal_canal")
    assert not len(canal.data)
    # a canal outline drawn right over the first LF: the same anchor and offset, so with the
    # protocol's offsets alone the two labels lie on top of each other
    canal.add_polygons([lf.data[0].copy()])
    L.set_attributes(session, canal, [0], level="L3-L4")
    session.arrange_labels()
    labels, preferred, _, char_px, line_px = L.label_layout_input(session)
    assert {lab.group for lab in labels} >= {"spinal_canal", "ligamentum_flavum"}
    assert collisions(placed_boxes(labels, preferred, char_px, line_px)) >= 1
    assert collisions(placed_boxes(labels, _applied_offsets(session), char_px, line_px)) == 0
    # the protocol lists the canal first: it keeps its place, the LF labels move
    assert _applied_offsets(session)["spinal_canal"] == preferred["spinal_canal"]


def test_an_empty_point_layer_kept_from_a_frame_is_made_3d_when_used(viewer, sample_set) -> None:
    from flannot.napari.session import get_session

    session = get_session(viewer)
    session.load_case(sample_set / "cases" / "ap")
    kept = session.annotation_layers()["pedicle"]
    assert hasattr(kept, "size") and not len(kept.data)  # an empty Points layer
    position = viewer.layers.index(kept)
    session.load_case(sample_set / "cases" / "cine")
    assert session.annotation_layers()["pedicle"] is kept and kept.ndim == 2  # not rebuilt
    assert viewer.dims.ndim == 3 and not kept.visible
    layer = session.annotation_layer("pedicle", "point")  # the Annotate dock picks it
    assert layer is not kept and layer.ndim == 3 and viewer.layers.index(layer) == position
    viewer.dims.set_current_step(0, 5)
    layer.add([[5.0, 100.0, 120.0]])
    (drawn,) = [a for a in session.current_case().annotations if a.type == "pedicle"]
    assert drawn.frame == 5 and drawn.id
    # and back to a single frame: the used 3-D layer is built as 2-D again, the case exact
    session.save()
    session.load_case(sample_set / "cases" / "ap")
    assert session.annotation_layers()["pedicle"].ndim == 2 and viewer.dims.ndim == 2


def test_opening_a_dicom_makes_no_layer_active_in_turn_and_collects_no_garbage(
    viewer, sample_set, monkeypatch
) -> None:
    """napari made each of the reader's 14 layers active in turn (controls built and
    swapped), and clearing an empty viewer ran a scene clean-up with ``gc.collect()``:
    ~0.6 s of an open (benchmarks/bench_gui.py, "open one .dcm")."""
    import gc

    from qtpy.QtWidgets import QApplication

    from flannot.napari.session import get_session

    collected = []
    original = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(1) or original(*a))
    made_active = []
    viewer.layers.selection.events.active.connect(lambda e: made_active.append(e.value))
    viewer.open(str(sample_set / "cases" / "clo-left" / "image.dcm"), plugin="flannot")
    QApplication.processEvents()
    session = get_session(viewer)
    assert len(session.annotation_layers()) == len(viewer.layers) - 1 > 10
    assert viewer.layers.selection.active is session.image_layer
    assert [layer for layer in made_active if layer is not None] == [session.image_layer]
    assert collected == []
    added = viewer.add_points(np.zeros((1, 2)))  # napari activates inserted layers again
    assert viewer.layers.selection.active is added
