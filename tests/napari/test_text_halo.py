"""flannot's canvas labels carry a dark halo (issue 14): legible over bright bone."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def viewer(make_napari_viewer):
    from flannot.napari.session import get_session

    viewer = make_napari_viewer(show=True)
    get_session(viewer).ask_restore = lambda _path: None  # the session watches inserts
    return viewer


def _dark_pixels_of_label(viewer, metadata: dict) -> int:
    """Dark pixels on a white canvas showing one white label of a layer with ``metadata``."""
    from qtpy.QtWidgets import QApplication

    image = viewer.add_image(np.ones((64, 256), dtype=np.float32), contrast_limits=(0, 1))
    points = viewer.add_points(
        np.array([[32.0, 128.0]]),
        size=1,
        face_color="white",
        border_width=0,
        features={"label": ["LF L3-L4 right"]},
        text={"string": "{label}", "color": "white", "size": 14, "anchor": "center"},
        metadata=metadata,
    )
    viewer.reset_view()
    QApplication.processEvents()
    shot = viewer.screenshot(canvas_only=True, flash=False)
    viewer.layers.remove(points)
    viewer.layers.remove(image)
    brightness = np.asarray(shot)[..., :3].astype(int).sum(axis=-1)
    rows, cols = np.nonzero(brightness > 3 * 250)  # the white image, not the canvas around it
    inside = brightness[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return int((inside < 3 * 96).sum())


def test_flannot_labels_get_a_halo_and_plain_napari_layers_do_not(viewer) -> None:
    from flannot.napari._text_halo import HALO_FRAGMENT_SHADER
    from flannot.napari.viewer_api import layer_visual

    label = {"features": {"label": ["L3"]}, "text": "label"}
    ours = viewer.add_points(np.zeros((1, 2)), metadata={"flannot_key": "vertebra"}, **label)
    plain = viewer.add_points(np.zeros((1, 2)), **label)

    def fragment(layer) -> str:
        node = layer_visual(viewer, layer).node
        text = next(v for v in node._subvisuals if type(v).__name__ == "Text")
        return str(text.shared_program._fcode)

    assert fragment(ours) == HALO_FRAGMENT_SHADER
    assert fragment(plain) != HALO_FRAGMENT_SHADER


def test_a_white_label_on_white_reads_only_with_its_halo(viewer) -> None:
    """Without the halo a white label on a white image is invisible; with it, outlined."""
    plain = _dark_pixels_of_label(viewer, {})
    ours = _dark_pixels_of_label(viewer, {"flannot_key": "ligamentum_flavum"})
    assert plain == 0
    assert ours > 100  # the outline of 14 glyphs
