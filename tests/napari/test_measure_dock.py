"""The Measure dock: a live SPEC §4 table of the case in the viewer (napari + Qt, Xvfb)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("napari")
pytest.importorskip("pytestqt")

from qtpy.QtWidgets import QApplication

from flannot.napari._qt.measure_dock import (
    MeasureDock,
    label_measures,
    update_measure_labels,
)
from flannot.napari._qt.table_model import DataFrameModel, format_value

pytestmark = pytest.mark.gui

COLUMNS = [
    "case_id",
    "frame",
    "annotation_id",
    "type",
    "level",
    "side",
    "name",
    "value",
    "unit",
    "calibration",
]
SPACING_MM = 0.25  # ImagerPixelSpacing 0.3 / ERMF 1.2: magnification_corrected


# ----------------------------------------------------------------------------- helpers
def _write_case(
    folder: Path, frames: int = 1, calibration: str = "magnification_corrected"
) -> Path:
    """A small XA case folder: image.dcm (noise) + annotations.json with MILD structures.

    The cannula and the contrast line sit on the last frame, LF and canal on frame 0, so a
    cine has rows on two frames.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True)
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.12.1"  # XA
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "XA"
    ds.Rows = ds.Columns = 256
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameTime = 66.7
    if calibration in ("magnification_corrected", "detector_plane"):
        ds.ImagerPixelSpacing = [0.3, 0.3]
    if calibration == "magnification_corrected":
        ds.EstimatedRadiographicMagnificationFactor = 1.2
    pixels = np.random.default_rng(0).integers(0, 4000, (frames, 256, 256), dtype=np.uint16)
    ds.PixelData = pixels.tobytes()
    ds.save_as(folder / "image.dcm", enforce_file_format=True)
    last = frames - 1
    annotations = [
        {
            "id": "lf1",
            "type": "ligamentum_flavum",
            "level": "L4-L5",
            "side": "left",
            "geometry": {
                "kind": "polygon",
                "points": [[100, 100], [100, 140], [116, 140], [116, 100]],
            },
        },
        {
            "id": "sc1",
            "type": "spinal_canal",
            "level": "L4-L5",
            "geometry": {"kind": "polygon", "points": [[60, 60], [60, 200], [110, 200], [110, 60]]},
        },
        {
            "id": "ec1",
            "type": "epidural_contrast",
            "level": "L4-L5",
            "side": "left",
            "frame": last,
            "geometry": {"kind": "path", "points": [[150, 20], [150, 240]]},
        },
        {
            "id": "c1",
            "type": "cannula",
            "level": "L4-L5",
            "side": "left",
            "instrument": "portal",
            "frame": last,
            "geometry": {"kind": "line", "points": [[240, 30], [170, 120]]},
        },
    ]
    case = {
        "flannot_version": 1,
        "case_id": folder.name,
        "protocol": "mild",
        "image": {"path": "image.dcm", "frames": frames},
        "annotations": annotations,
    }
    (folder / "annotations.json").write_text(json.dumps(case))
    return folder


def _expected(session) -> pd.DataFrame:
    from flannot.measure import measure

    return measure(session.current_case(), image=session.image).reset_index(drop=True)


def _same_rows(shown: pd.DataFrame, expected: pd.DataFrame) -> bool:
    if list(shown.columns) != list(expected.columns) or len(shown) != len(expected):
        return False
    key = ["annotation_id", "name"]
    a = shown.sort_values(key).reset_index(drop=True)
    b = expected.sort_values(key).reset_index(drop=True)
    return [format_value(v) for v in a.to_numpy().ravel()] == [
        format_value(v) for v in b.to_numpy().ravel()
    ]


@pytest.fixture
def viewer_dock(make_napari_viewer, qtbot, tmp_path):
    """A viewer with the Measure dock and a copy of the lateral sample case loaded."""
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda path: False
    session.load_case(_write_case(tmp_path / "case"))
    dock = MeasureDock(viewer)
    qtbot.addWidget(dock)
    return viewer, session, dock


def _layer_with(session, type_name: str):
    for key, layer in session.annotation_layers().items():
        if key.split(" (")[0] == type_name and len(layer.data):
            return layer
    raise AssertionError(f"no {type_name} layer with data")


# ----------------------------------------------------------------------------- table model
def test_table_model_shows_and_copies_a_dataframe(qapp) -> None:
    df = pd.DataFrame(
        [
            [
                "c",
                0,
                "lf1",
                "ligamentum_flavum",
                "L4-L5",
                "left",
                "max_thickness",
                4.123,
                "mm",
                "geometry",
            ],
            [
                "c",
                0,
                "lf1",
                "ligamentum_flavum",
                "L4-L5",
                "left",
                "hypertrophic",
                True,
                "",
                "geometry",
            ],
        ],
        columns=COLUMNS,
    )
    model = DataFrameModel(df)
    assert model.rowCount() == 2 and model.columnCount() == len(COLUMNS)
    assert model.headerData(7, _horizontal()) == "value"
    assert model.data(model.index(0, 7)) == "4.12"
    assert model.data(model.index(1, 7)) == "true"  # a flag is a JSON boolean, not 1.00
    tsv = model.to_tsv([1]).splitlines()
    assert tsv[0].split("\t") == COLUMNS
    assert tsv[1].split("\t")[6:9] == ["hypertrophic", "true", ""]
    assert len(model.to_tsv().splitlines()) == 3
    model.set_dataframe(pd.DataFrame())
    assert model.rowCount() == 0 and model.columnCount() == len(COLUMNS)


def _horizontal():
    from qtpy.QtCore import Qt

    return Qt.Orientation.Horizontal


def test_label_measures_never_mm_when_uncalibrated() -> None:
    rows = pd.DataFrame(
        [
            ["c", 0, "lf1", "ligamentum_flavum", "L4-L5", "left", "area", 30.0, "mm2", "user"],
            [
                "c",
                0,
                "lf1",
                "ligamentum_flavum",
                "L4-L5",
                "left",
                "max_thickness",
                4.06,
                "mm",
                "user",
            ],
            ["c", 0, "sc1", "spinal_canal", "L4-L5", None, "min_width", 11.0, "mm", "uncalibrated"],
            ["c", 0, "c1", "cannula", "L4-L5", "left", "length", 40.0, "px", "uncalibrated"],
            ["c", 0, "v1", "vertebra", "L4", None, "anterior_height", 30.0, "mm", "user"],
        ],
        columns=COLUMNS,
    )
    assert label_measures(rows) == {"lf1": "4.1 mm", "c1": "40.0 px"}


def test_tip_label_says_from_or_past_the_contrast_line() -> None:
    def row(ann_id, value):
        return ["c", 0, ann_id, "cannula", "L4-L5", "left", "tip_to_contrast", value, "mm", "user"]

    rows = pd.DataFrame([row("c1", 2.04), row("c2", -1.5)], columns=COLUMNS)
    assert label_measures(rows) == {
        "c1": "tip 2.0 mm from contrast",
        "c2": "tip 1.5 mm PAST contrast",  # negative: the tip crossed the safety line
    }


# ----------------------------------------------------------------------------- dock
def test_dock_constructs_without_a_case(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer()
    dock = MeasureDock(viewer)
    qtbot.addWidget(dock)
    assert dock.model.rowCount() == 0
    assert "no case loaded" in dock.calibration_label.text()
    assert dock.calibration is None


def _check_table_shows_the_rows_of_the_loaded_case(viewer_dock) -> None:
    viewer, session, dock = viewer_dock
    expected = _expected(session)
    assert len(expected) > 0
    assert _same_rows(dock.dataframe, expected)
    assert dock.model.rowCount() == len(expected)
    # the rows cover the MILD structures of the sample
    assert {"ligamentum_flavum", "spinal_canal"} <= set(dock.dataframe["type"])


def _check_calibration_label_shows_the_calibration(viewer_dock) -> None:
    viewer, session, dock = viewer_dock
    assert session.image.calibration == "magnification_corrected"
    assert dock.calibration == "magnification_corrected"
    text = dock.calibration_label.text()
    assert text.startswith("Calibration: magnification_corrected")
    assert "patient-plane mm at the isocentre" in text
    assert dock.calibration_label.property("warning") is False
    assert set(dock.dataframe["calibration"]) == {"magnification_corrected"}
    # the image's spacing is used: LF is 16 px thick on the grid, 16 x 0.25 = 4 mm
    df = dock.dataframe
    lf = df[(df["annotation_id"] == "lf1") & (df["name"] == "max_thickness")].iloc[0]
    assert lf["unit"] == "mm" and float(lf["value"]) == pytest.approx(16 * SPACING_MM, abs=0.3)


def test_loaded_case_rows_calibration_and_labels(viewer_dock) -> None:
    _check_table_shows_the_rows_of_the_loaded_case(viewer_dock)
    _check_calibration_label_shows_the_calibration(viewer_dock)
    _check_layer_text_shows_the_measure(viewer_dock)


def test_export_and_copy(viewer_dock, tmp_path) -> None:
    _check_export_csv_writes_the_rows(viewer_dock, tmp_path)
    _check_copy_puts_tsv_on_the_clipboard(viewer_dock)


def test_detector_plane_calibration_is_a_warning(make_napari_viewer, qtbot, tmp_path) -> None:
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda path: False
    session.load_case(_write_case(tmp_path / "dp", calibration="detector_plane"))
    dock = MeasureDock(viewer)
    qtbot.addWidget(dock)
    assert dock.calibration == "detector_plane"
    assert "magnified" in dock.calibration_label.text()
    assert dock.calibration_label.property("warning") is True
    assert "#ff9f1c" in dock.calibration_label.styleSheet()


def test_table_follows_a_moved_shape(viewer_dock, qtbot) -> None:
    viewer, session, dock = viewer_dock
    layer = _layer_with(session, "ligamentum_flavum")
    ann_id = str(layer.features["id"].iloc[0])

    def thickness() -> float:
        df = dock.full_dataframe
        row = df[(df["annotation_id"] == ann_id) & (df["name"] == "max_thickness")]
        return float(row["value"].iloc[0])

    before = thickness()
    before_count = dock.refresh_count
    data = [np.asarray(d, dtype=float).copy() for d in layer.data]
    poly = data[0]
    centre = poly[:, -2:].mean(axis=0)
    # a fast drag: many edits in a row, the table is recomputed once they stop
    for factor in np.linspace(1.1, 2.0, 10):
        moved = poly.copy()
        moved[:, -2:] = centre + (poly[:, -2:] - centre) * factor
        layer.data = [moved, *data[1:]]
    qtbot.waitUntil(lambda: dock.refresh_count > before_count, timeout=3000)
    qtbot.wait(300)  # longer than the debounce: no further recomputation is pending
    assert dock.refresh_count == before_count + 1
    assert thickness() > before * 1.5
    assert _same_rows(dock.full_dataframe, _expected(session))

    # a newly drawn shape gets an id from the session and its rows in the table
    layer.add_polygons([np.array([[180.0, 40.0], [180.0, 80.0], [188.0, 80.0], [188.0, 40.0]])])
    new_id = str(layer.features["id"].iloc[-1])
    assert new_id and new_id not in ("lf1", "sc1", "ec1", "c1")
    qtbot.waitUntil(lambda: new_id in set(dock.full_dataframe["annotation_id"]), timeout=3000)
    rows = dock.full_dataframe[dock.full_dataframe["annotation_id"] == new_id]
    assert "max_thickness" in set(rows["name"])
    assert _same_rows(dock.full_dataframe, _expected(session))
    assert layer.metadata["flannot_measure"][new_id].endswith(" mm")
    assert _shown_text(layer)[-1].endswith(layer.metadata["flannot_measure"][new_id])


def _shown_text(layer) -> list[str]:
    """The label strings napari draws for each shape of ``layer``."""
    return [str(t) for t in layer.text.string(layer.features)]


def _check_layer_text_shows_the_measure(viewer_dock) -> None:
    from flannot.napari.layers import default_features

    viewer, session, dock = viewer_dock
    layer = _layer_with(session, "ligamentum_flavum")
    df = dock.full_dataframe
    ann_id = str(layer.features["id"].iloc[0])
    row = df[(df["annotation_id"] == ann_id) & (df["name"] == "max_thickness")].iloc[0]
    text = f"{float(row['value']):.1f} {row['unit']}"
    label = str(layer.features["label"].iloc[0])
    assert label  # e.g. "L4-L5 left"
    assert _shown_text(layer)[0] == f"{label} {text}"
    assert layer.metadata["flannot_measure"][ann_id] == text
    # annotation types without a label measure keep their plain label
    contrast = _layer_with(session, "epidural_contrast")
    assert _shown_text(contrast) == [str(v) for v in contrast.features["label"]]
    # a second pass with the same table changes nothing (no event storm)
    assert update_measure_labels(session, df) == 0
    # the feature columns are untouched, so the Annotate dock can still set the defaults of
    # the next shape with its own columns (napari wants every column named)
    assert "measure" not in layer.features.columns
    layer.feature_defaults = default_features("ligamentum_flavum")


def test_uncalibrated_case_shows_pixels_only(make_napari_viewer, qtbot, tmp_path) -> None:
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda path: False
    dock = MeasureDock(viewer)  # before the case: it must follow case_changed
    qtbot.addWidget(dock)
    session.load_case(_write_case(tmp_path / "uncal", calibration="uncalibrated"))
    assert session.image.calibration == "uncalibrated"
    qtbot.waitUntil(lambda: len(dock.dataframe) > 0, timeout=3000)
    assert "uncalibrated" in dock.calibration_label.text()
    assert dock.calibration_label.property("warning") is True
    cells = [
        dock.model.data(dock.model.index(r, c))
        for r in range(dock.model.rowCount())
        for c in range(dock.model.columnCount())
    ]
    assert not any("mm" in str(c) for c in cells)
    assert set(dock.dataframe["unit"]) <= {"px", "px2", "deg", "%", ""}
    assert "px" in set(dock.dataframe["unit"])
    for layer in session.annotation_layers().values():
        assert not any("mm" in t for t in _shown_text(layer))
        assert not any("mm" in t for t in layer.metadata.get("flannot_measure", {}).values())
    lf = _layer_with(session, "ligamentum_flavum")
    assert lf.metadata["flannot_measure"]["lf1"] == "16.0 px"  # 16 px thick on the grid
    assert "mm" not in dock.copy_all()


def _check_export_csv_writes_the_rows(viewer_dock, tmp_path: Path) -> None:
    viewer, session, dock = viewer_dock
    out = dock.export_csv(tmp_path / "m.csv")
    assert out == tmp_path / "m.csv"
    back = pd.read_csv(out, keep_default_na=False)
    assert list(back.columns) == COLUMNS
    assert len(back) == len(dock.dataframe)
    shown = dock.dataframe
    assert list(back["annotation_id"].astype(str)) == list(shown["annotation_id"].astype(str))
    assert list(back["name"]) == list(shown["name"])
    numeric = pd.to_numeric(shown["value"], errors="coerce")
    mask = numeric.notna() & ~shown["value"].map(lambda v: isinstance(v, (bool, np.bool_)))
    np.testing.assert_allclose(
        pd.to_numeric(back["value"][mask.to_numpy()]).to_numpy(float),
        numeric[mask].to_numpy(float),
        rtol=1e-9,
    )


def _check_copy_puts_tsv_on_the_clipboard(viewer_dock) -> None:
    viewer, session, dock = viewer_dock
    dock.select_row(0)
    text = dock.copy_selected()
    assert QApplication.clipboard().text() == text
    lines = text.splitlines()
    assert lines[0].split("\t") == COLUMNS and len(lines) == 2
    assert lines[1].split("\t")[2] == str(dock.dataframe["annotation_id"].iloc[0])
    assert len(dock.copy_all().splitlines()) == len(dock.dataframe) + 1


def test_selecting_a_row_selects_the_annotation(viewer_dock) -> None:
    viewer, session, dock = viewer_dock
    layer = _layer_with(session, "spinal_canal")
    ann_id = str(layer.features["id"].iloc[0])
    row = int(np.flatnonzero(dock.dataframe["annotation_id"].astype(str) == ann_id)[0])
    dock.select_row(row)
    assert viewer.layers.selection.active is layer
    assert layer.selected_data == {0}
    assert dock.selected_rows() == [row]  # the click's own row stays the selection

    # and the other way round: a shape selected on the canvas selects its rows
    lf = _layer_with(session, "ligamentum_flavum")
    lf_id = str(lf.features["id"].iloc[0])
    lf.selected_data = {0}
    expected = np.flatnonzero(dock.dataframe["annotation_id"].astype(str) == lf_id).tolist()
    assert len(expected) > 1
    assert dock.selected_rows() == expected


def test_frame_filter_follows_the_cine_frame(make_napari_viewer, qtbot, tmp_path) -> None:
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda path: False
    session.load_case(_write_case(tmp_path / "cine", frames=3))
    dock = MeasureDock(viewer)
    qtbot.addWidget(dock)
    full = dock.full_dataframe
    assert set(full["frame"]) == {0, 2}
    # a cine: the slider is named "frame" and the table follows it from the start
    assert viewer.dims.axis_labels[0] == "frame"
    assert dock.frame_only.isChecked()
    viewer.dims.set_current_step(0, 0)
    assert dock.current_frame() == 0
    qtbot.waitUntil(lambda: set(dock.dataframe["annotation_id"]) == {"lf1", "sc1"}, timeout=2000)
    viewer.dims.set_current_step(0, 2)  # scrubbing re-filters without a click (throttled)
    assert dock.current_frame() == 2
    qtbot.waitUntil(lambda: set(dock.dataframe["annotation_id"]) == {"c1"}, timeout=2000)
    viewer.dims.set_current_step(0, 1)
    qtbot.waitUntil(lambda: len(dock.dataframe) == 0, timeout=2000)
    assert "No values in frame 1" in dock.status_label.text()
    # a playing cine: many steps, few table updates
    calls = []
    dock.model.modelReset.connect(lambda: calls.append(1))
    for _ in range(5):
        for frame in (0, 1, 2):
            viewer.dims.set_current_step(0, frame)
    qtbot.waitUntil(lambda: set(dock.dataframe["annotation_id"]) == {"c1"}, timeout=2000)
    assert len(calls) <= 2
    dock.frame_only.setChecked(False)
    assert len(dock.dataframe) == len(full)


def test_a_closed_dock_stops_listening(make_napari_viewer, qtbot, tmp_path) -> None:
    from qtpy.QtWidgets import QApplication as App

    from flannot.napari._qt.table_model import qt_alive
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda path: False
    session.load_case(_write_case(tmp_path / "before"))
    dock = MeasureDock(viewer)
    lf = _layer_with(session, "ligamentum_flavum")
    assert _shown_text(lf)[0].endswith(" mm")
    dock.deleteLater()
    qtbot.waitUntil(lambda: not qt_alive(dock), timeout=3000)
    App.processEvents()
    # closing the dock gives the layers their plain labels back
    assert lf.text.string.format == "{label}"
    assert "flannot_measure" not in lf.metadata
    assert not _shown_text(lf)[0].endswith(" mm")
    # the session and viewer outlive the dock: their events must not reach it
    session.load_case(_write_case(tmp_path / "after"))
    session.events.annotations_changed.emit()
    viewer.dims.set_current_step(0, 0)
    assert dock._layer_hooks == []
    assert session.case.case_id == "after"


def test_header_shows_the_calibration_line_even_without_rows(
    make_napari_viewer, qtbot, case_folder
) -> None:
    from flannot.napari._qt.annotate_dock import AnnotateDock
    from flannot.napari.session import get_session

    line = {
        "id": "cal1",
        "type": "calibration",
        "length_mm": 20.0,
        "geometry": {"kind": "line", "points": [[10.0, 10.0], [10.0, 50.0]]},
    }  # 40 px are 20 mm: 0.5 mm/px, not the header's 0.25 mm/px
    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda path: False
    dock = MeasureDock(viewer)
    qtbot.addWidget(dock)
    annotate = AnnotateDock(viewer)
    qtbot.addWidget(annotate)
    session.load_case(case_folder("calibrated", annotations=[line]))
    # the case's calibration line wins over the header, for the layers too
    assert session.image.calibration == "user"
    np.testing.assert_allclose(session.image_layer.scale, [0.5, 0.5])
    dock.refresh()
    assert dock.full_dataframe.empty  # a calibration line alone gives no rows
    assert dock.calibration == "user"
    assert dock.calibration_label.property("warning") is False
    annotate._update_calibration()
    assert "user" in annotate.calibration_label.text()
    assert "0.5 × 0.5 mm/pixel" in annotate.calibration_label.text()


def test_an_empty_table_says_what_to_draw(make_napari_viewer, qtbot, case_folder) -> None:
    """Issue 14: vertebra centre points measured nothing and the table said nothing."""
    from flannot.napari._qt.measure_dock import empty_table_hint
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda path: False
    session.load_case(case_folder("empty"))
    dock = MeasureDock(viewer)
    qtbot.addWidget(dock)
    assert "Nothing measured yet" in dock.status_label.text()
    layer = session.annotation_layer("vertebra", "point")
    layer.add([[10.0, 10.0]])
    dock.refresh()
    assert dock.full_dataframe.empty
    assert "4 corners" in dock.status_label.text() and "heights" in dock.status_label.text()
    assert "Open a case" in empty_table_hint(None)
