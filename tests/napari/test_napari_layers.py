"""Case ↔ layers without Qt (napari's ViewerModel): every geometry kind, exact round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

napari = pytest.importorskip("napari")

ANNOTATIONS = [
    {
        "id": "v1",
        "type": "vertebra",
        "level": "L4",
        "geometry": {"kind": "point", "points": [[30.125, 40.5]]},
    },
    {
        "id": "v2",
        "type": "vertebra",
        "level": "L5",
        "frame": 0,
        "geometry": {"kind": "polygon", "points": [[40, 30], [40, 50], [50, 50], [50, 30]]},
    },
    {
        "id": "lf1",
        "type": "ligamentum_flavum",
        "level": "L4-L5",
        "side": "left",
        "note": "thick",
        "author": "educator",
        "created": "2026-11-21T10:00:00Z",
        "modified": "2026-11-21T10:05:00Z",
        "geometry": {"kind": "polygon", "points": [[1.1, 2.2], [3.3, 4.4], [5.5, 1.0]], "x_g": 1},
    },
    {
        "id": "m1",
        "type": "ligamentum_flavum",
        "level": "L3-L4",
        "side": "right",
        "geometry": {"kind": "mask", "mask": {"size": [64, 80], "counts": [100, 5, 4995]}},
    },
    {
        "id": "ec1",
        "type": "epidural_contrast",
        "geometry": {"kind": "path", "points": [[0, 0], [1, 1], [2, 0.5]]},
    },
    {
        "id": "c1",
        "type": "cannula",
        "level": "L4-L5",
        "side": "right",
        "instrument": "tissue_sculpter",
        "geometry": {"kind": "line", "points": [[60, 75], [47, 55]]},
    },
    {
        "id": "cal",
        "type": "calibration",
        "length_mm": 25.0,
        "geometry": {"kind": "line", "points": [[1, 1], [1, 101]]},
    },
    {
        "id": "r1",
        "type": "redaction",
        "geometry": {"kind": "rectangle", "points": [[1, 1], [6, 20]]},
    },
    {
        "id": "x1",
        "type": "x_custom",
        "x_extra": [1, 2],
        "geometry": {"kind": "polygon", "points": [[9, 9], [9, 12], [12, 9]]},
    },
]


@pytest.fixture
def opened(case_folder):
    from flannot.napari.session import get_session

    folder = case_folder("layers", annotations=ANNOTATIONS)
    viewer = napari.components.ViewerModel()
    session = get_session(viewer)
    session.load_case(folder)
    return viewer, session, folder


def test_layers_hold_the_case_and_give_it_back_exactly(opened) -> None:
    viewer, session, folder = opened
    layers = session.annotation_layers()
    names = [layer.name for layer in viewer.layers]
    assert names[0].startswith("image.dcm")  # the image under the annotations
    assert "flannot: vertebra" in names and "flannot: vertebra (shapes)" in names
    assert type(layers["vertebra"]).__name__ == "Points"
    assert type(layers["vertebra (shapes)"]).__name__ == "Shapes"
    lf = layers["ligamentum_flavum"]
    assert lf.features["side"].tolist() == ["left"]  # the mask is kept aside, not drawn
    assert lf.features["label"].tolist() == ["LF L4-L5 left"]  # the structure named
    assert layers["calibration"].features["label"].tolist() == ["25 mm (calibration)"]
    assert list(lf.text.values) == ["LF L4-L5 left"]
    np.testing.assert_allclose(lf.scale, session.image_layer.scale)
    # an annotation type the protocol does not know still gets a layer, and comes back
    assert "x_custom" in layers

    back = [a.to_dict() for a in session.current_case().annotations]
    original = json.loads((folder / "annotations.json").read_text())["annotations"]
    for a in original:
        a.setdefault("frame", 0)
        if a["geometry"]["kind"] != "mask":
            a["geometry"]["points"] = [[float(v) for v in p] for p in a["geometry"]["points"]]
    assert back == original


def test_edits_get_ids_times_and_keep_unchanged_annotations(opened) -> None:
    _, session, _ = opened
    lf = session.annotation_layer("ligamentum_flavum")
    lf.add_polygons([np.array([[1.0, 1.0], [1.0, 9.0], [9.0, 5.0]])])
    lf.add_polygons([np.array([[2.0, 1.0], [2.0, 9.0], [9.0, 5.0]])])
    ids = lf.features["id"].tolist()
    assert ids[0] == "lf1" and len(set(ids)) == 3 and all(ids)
    moved = [d.copy() for d in lf.data]
    moved[0] = moved[0] + 1.0
    lf.data = moved
    case = session.current_case()
    by_id = {a.id: a for a in case.annotations}
    assert by_id["lf1"].modified != "2026-11-21T10:05:00Z"  # moved: modified now
    assert by_id["lf1"].created == "2026-11-21T10:00:00Z" and by_id["lf1"].note == "thick"
    assert by_id["c1"].modified is None  # untouched annotations stay as loaded
    new = [by_id[i] for i in ids[1:]]
    assert all(a.created and a.modified for a in new)
    assert session.dirty


def test_undo_stack_is_bounded() -> None:
    from napari.layers import Points

    from flannot.napari.undo import UndoStack

    layer = Points(np.zeros((0, 2)))
    stack = UndoStack(max_depth=3)
    stack.track(layer)
    for i in range(5):
        layer.add([[float(i), 0.0]])
        assert stack.record(layer)
    assert not stack.record(layer)  # nothing changed since the last snapshot
    assert sum(stack.undo() for _ in range(10)) == 3
    assert len(layer.data) == 2  # the two oldest edits fell off the history


def test_labels_name_the_structure() -> None:
    """Issue 14: the LF and the contrast line both read "L3-L4 right"."""
    from flannot.napari.layers import label_for, structure_name
    from flannot.protocols import get_protocol

    mild = get_protocol("mild")
    names = {t.name: structure_name(t) for t in mild.types}
    assert names["ligamentum_flavum"] == "LF"
    assert names["spinal_canal"] == "SC"
    assert names["ventral_interlaminar_line"] == "VILL"
    assert names["epidural_contrast"] == "Epidural contrast"
    assert names["vertebra"] == ""  # "L3" says it all
    row = {"level": "L3-L4", "side": "right"}
    lf = label_for("ligamentum_flavum", row, names["ligamentum_flavum"])
    contrast = label_for("epidural_contrast", row, names["epidural_contrast"])
    assert lf == "LF L3-L4 right" and contrast == "Epidural contrast L3-L4 right"
    assert label_for("calibration", {"length_mm": 25.0}) == "25 mm (calibration)"
    # the articular processes: SAP / IAP, never a bare "AP" that reads as the AP view
    ap = names["articular_process"]
    assert ap == "AP"
    sap = label_for("articular_process", {"level": "L4", "side": "left", "part": "superior"}, ap)
    iap = label_for("articular_process", {"level": "L4", "side": "left", "part": "inferior"}, ap)
    assert (sap, iap) == ("SAP L4 left", "IAP L4 left")
