"""What keeps the workspace fast (issue 14), checked by behaviour, not by timing.

The times themselves are measured in ``benchmarks/bench_gui.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sample_set(tmp_path_factory) -> Path:
    """The phantom's sample teaching set (the repository's, else written once)."""
    from flannot.phantom import sample_set_path, write_sample_set

    found = sample_set_path()
    if found is not None:
        return Path(found)
    return write_sample_set(tmp_path_factory.mktemp("sample") / "set", seed=0)


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
