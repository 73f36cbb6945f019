"""The npe2 reader: what it accepts (never raising) and the image layers it makes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flannot.napari._reader import classify, get_reader, is_dicom_file


def test_classify_accepts_flannot_inputs_and_declines_others(
    tmp_path: Path, make_xa, case_folder
) -> None:
    dcm = make_xa("series/IM0001")  # DICOM without an extension
    make_xa("series/IM0002", seed=1)
    case = case_folder("case-a")
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "flannot-set.json").write_text("{}")
    notes = tmp_path / "notes.txt"
    notes.write_text("not DICOM " * 20)
    other_json = tmp_path / "other.json"
    other_json.write_text(json.dumps({"hello": 1}))
    short = tmp_path / "short.dcm"
    short.write_bytes(b"DICM")  # too short to have the magic at byte 128

    assert classify(dcm) == "dicom"
    assert classify(tmp_path / "series") == "series"
    assert classify(case) == "case"
    assert classify(case / "annotations.json") == "case"
    assert classify(tmp_path / "set") == "set"
    assert classify(notes) is None
    assert classify(other_json) is None
    assert classify(short) is None
    assert classify(tmp_path / "missing.dcm") is None
    assert get_reader(str(notes)) is None
    assert get_reader([str(dcm), str(notes)]) is None
    assert callable(get_reader(str(dcm)))
    assert is_dicom_file(dcm) and not is_dicom_file(tmp_path)


@pytest.mark.gui
def test_calibrated_xa_opens_in_mm(viewer, make_xa) -> None:
    from flannot.napari.session import get_session

    path = make_xa("cal.dcm", window=(1000.0, 400.0))
    viewer.open(str(path), plugin="flannot")
    session = get_session(viewer)
    layer = session.image_layer
    assert layer in viewer.layers
    assert layer.data.shape == (64, 80)  # single frame: 2-D, no frame slider
    # Imager Pixel Spacing 0.3 mm / ERMF 1.2 = 0.25 mm at the isocentre
    np.testing.assert_allclose(layer.scale, [0.25, 0.25])
    assert [str(u) for u in layer.units] == ["millimeter", "millimeter"]
    assert layer.metadata["calibration"] == "magnification_corrected"
    assert "isocent" in layer.metadata["calibration_note"].lower()
    assert list(layer.contrast_limits) == [800.0, 1200.0]  # centre 1000 ± width/2
    assert "magnification_corrected" in layer.name
    # annotation layers share the image's scale so shapes line up in mm space
    for ann in session.annotation_layers().values():
        np.testing.assert_allclose(ann.scale, layer.scale)
    assert session.case is not None and session.case.annotations == []


@pytest.mark.gui
def test_detector_plane_in_mm_with_warning_uncalibrated_in_pixels(viewer, make_xa) -> None:
    from flannot.napari.session import get_session

    session = get_session(viewer)
    for calibration in ("detector_plane", "uncalibrated"):  # the second replaces the first
        viewer.open(str(make_xa(f"{calibration}.dcm", calibration=calibration)), plugin="flannot")
        layer = session.image_layer
        assert [lyr for lyr in viewer.layers if lyr.metadata.get("flannot_image")] == [layer]
        assert layer.metadata["calibration"] == calibration
        if calibration == "detector_plane":
            # mm at the detector, like the Measure table, named and warned about
            np.testing.assert_allclose(layer.scale, [0.3, 0.3])
            assert [str(u) for u in layer.units] == ["millimeter", "millimeter"]
            assert layer.metadata["spacing_mm"] == (0.3, 0.3)
            assert "detector_plane" in layer.name
            assert "magnif" in layer.metadata["calibration_note"].lower()
        else:
            np.testing.assert_allclose(layer.scale, [1.0, 1.0])
            assert [str(u) for u in layer.units] == ["pixel", "pixel"]
            assert layer.metadata["spacing_mm"] is None
            assert "mm" not in layer.name


@pytest.mark.gui
def test_cine_is_a_lazy_3d_layer(viewer, make_xa) -> None:
    import dask.array as da

    from flannot.napari.session import get_session

    path = make_xa("cine.dcm", frames=5)
    viewer.open(str(path), plugin="flannot")
    session = get_session(viewer)
    layer = session.image_layer
    assert isinstance(layer.data, da.Array)
    assert layer.data.shape == (5, 64, 80)
    assert layer.data.chunksize == (1, 64, 80)  # decoded one frame at a time
    np.testing.assert_allclose(layer.scale, [1.0, 0.25, 0.25])
    assert viewer.dims.nsteps[0] == 5
    assert all(a.ndim == 3 for a in session.annotation_layers().values())
    # the frame napari shows is the file's frame
    viewer.dims.set_current_step(0, 3)
    np.testing.assert_array_equal(np.asarray(layer.data[3]), np.asarray(session.image.frames[3]))


def test_reader_without_viewer_returns_image_layer(make_xa, monkeypatch) -> None:
    """Scripts (no viewer) still get the image layer data from the reader."""
    from flannot.napari import _reader

    monkeypatch.setattr(_reader, "_session", lambda: None)  # as when no viewer exists
    path = make_xa("x.dcm")
    ((data, meta, kind),) = get_reader(str(path))(str(path))
    assert kind == "image" and data.shape == (64, 80)
    np.testing.assert_allclose(meta["scale"], [0.25, 0.25])
    assert meta["metadata"]["calibration"] == "magnification_corrected"
