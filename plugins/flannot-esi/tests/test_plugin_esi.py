"""The ESI protocol plugin, installed: discovered by flannot, validated, measured, CLI.

The module is called ``test_plugin_esi`` (not ``test_esi``) so that it cannot clash
with a module of the root ``tests/`` folder when both run in one pytest session.
"""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import numpy as np
import pytest

import flannot
from flannot.cli import main as flannot_main
from flannot.model import GEOMETRY_KINDS, Annotation, Case, validate_case
from flannot.protocols import AnnotationType, Protocol, available_protocols, get_protocol

ROWS, COLS, SPACING = 128, 160, 0.2  # mm per pixel

# index of each annotation in the case below (problem paths name them by index)
VERTEBRA_L4, VERTEBRA_L5, WINDOW, VILL, NEEDLE, CONTRAST, CALIBRATION, REDACTION = range(8)


def esi_case() -> dict:
    """A valid ESI case in the SPEC §3 file format: left paramedian approach at L4-L5.

    The needle runs along row 100 from column 20 to its tip at column 100; the contrast
    line is the vertical column 110, so the tip stops 10 px = 2 mm short of it.
    """
    return {
        "flannot_version": 1,
        "case_id": "esi-001",
        "protocol": "esi",
        "image": {
            "path": "image.dcm",
            "frames": 1,
            "spacing_mm": [SPACING, SPACING],
            "calibration": "magnification_corrected",
            "rows": ROWS,
            "columns": COLS,
        },
        "annotations": [
            _ann("v1", "vertebra", "point", [[30, 80]], level="L4"),
            _ann("v2", "vertebra", "point", [[90, 80]], level="L5"),
            _ann(
                "ils1",
                "interlaminar_space",
                "polygon",
                [[55, 60], [55, 100], [70, 100], [70, 60]],
                level="L4-L5",
            ),
            _ann(
                "vill1",
                "ventral_interlaminar_line",
                "path",
                [[40, 120], [60, 122], [80, 124]],
                level="L4-L5",
                side="left",
            ),
            _ann(
                "c1",
                "cannula",
                "line",
                [[100, 20], [100, 100]],
                level="L4-L5",
                side="left",
                instrument="tuohy_20g",
            ),
            _ann(
                "ec1",
                "epidural_contrast",
                "path",
                [[80, 110], [120, 110]],
                level="L4-L5",
                side="left",
            ),
            _ann("cal1", "calibration", "line", [[10, 10], [10, 60]], length_mm=10.0),
            _ann("red1", "redaction", "rectangle", [[0, 140], [8, 159]]),
        ],
        "notes": "Left paramedian interlaminar ESI at L4-L5.",
    }


def _ann(id_: str, type_: str, kind: str, points: list, **attrs: object) -> dict:
    geometry = {"kind": kind, "points": points}
    return {"id": id_, "type": type_, "frame": 0, "geometry": geometry, **attrs}


def _errors(problems: list) -> list:
    return [p for p in problems if p.severity == "error"]


def _write_dicom(path: Path) -> None:
    """A tiny fluoroscopy-like DICOM so that validation can read the header it checks."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.12.2"  # X-Ray Radiofluoroscopic
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "RF"
    ds.Rows, ds.Columns = ROWS, COLS
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.zeros((ROWS, COLS), np.uint8).tobytes()
    ds.save_as(path, enforce_file_format=True)


def _case_folder(root: Path, data: dict) -> Path:
    root.mkdir()
    _write_dicom(root / "image.dcm")
    (root / "annotations.json").write_text(json.dumps(data), "utf-8")
    return root


# ------------------------------------------------------------------ discovery
def test_installed_distribution_declares_the_entry_point() -> None:
    eps = distribution("flannot-esi").entry_points.select(group="flannot.protocols")
    assert [(ep.name, ep.value) for ep in eps] == [("esi", "flannot_esi:ESI")]


def test_get_protocol_finds_esi_through_the_entry_point() -> None:
    import flannot_esi

    assert "esi" in available_protocols()
    assert "mild" in available_protocols()  # a plugin never hides the built-in protocol
    esi = get_protocol("esi")
    assert esi is flannot_esi.ESI
    assert get_protocol("ESI") is esi  # names are case-insensitive
    assert isinstance(esi, Protocol)


def test_plugin_imports_only_the_public_protocol_api() -> None:
    import flannot_esi

    tree = ast.parse(Path(flannot_esi.__file__).read_text("utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in modules if m and m.startswith("flannot")} == {"flannot.protocols"}


# ------------------------------------------------------------------ the protocol
def test_esi_declares_its_targets_and_not_mild_only_types() -> None:
    esi = get_protocol("esi")
    assert set(esi.type_names) == {
        "vertebra",
        "interlaminar_space",
        "ventral_interlaminar_line",
        "cannula",
        "epidural_contrast",
        "calibration",
        "redaction",
    }
    assert "ligamentum_flavum" not in esi.type_names
    assert esi.type("ventral_interlaminar_line").geometries == ("path",)
    assert esi.type("ventral_interlaminar_line").level_kind == "interspace"
    assert set(esi.type("cannula").attributes) == {"level", "side", "instrument"}
    assert esi.type("vertebra").level_kind == "vertebra"
    assert esi.vertebra_levels[0] == "T12" and esi.vertebra_levels[-1] == "S1"
    assert {"L4-L5", "L5-S1", "T12-L1"} <= set(esi.interspace_levels)


def test_every_type_is_expressible_in_the_case_model() -> None:
    # attributes the Annotation model carries; any other name would silently do nothing
    carried = {"level", "side", "instrument", "length_mm"}
    for t in get_protocol("esi").types:
        assert isinstance(t, AnnotationType)
        assert set(t.geometries) <= set(GEOMETRY_KINDS), t.name
        assert set(t.attributes) <= carried, t.name
        assert t.level_kind in (None, "vertebra", "interspace"), t.name
        assert ("level" in t.attributes) == (t.level_kind is not None), t.name
        assert len(t.color) == 7 and int(t.color[1:], 16) >= 0, t.name
        assert t.teaches, t.name


def test_tolerances_cover_every_name_the_scorer_knows_for_mild() -> None:
    esi, mild = get_protocol("esi"), get_protocol("mild")
    assert set(mild.tolerances) <= set(esi.tolerances)
    assert all(v > 0 for v in esi.tolerances.values())


# ------------------------------------------------------------------ validation
def test_valid_esi_case_has_no_problems() -> None:
    case = Case.from_dict(esi_case())
    assert case.protocol == "esi"
    assert validate_case(case) == []


def test_mild_only_type_is_flagged_in_an_esi_case() -> None:
    data = esi_case()
    data["annotations"].append(
        _ann(
            "lf1",
            "ligamentum_flavum",
            "polygon",
            [[50, 70], [50, 90], [60, 90]],
            level="L4-L5",
            side="left",
        )
    )
    lf_path = f"$.annotations[{len(data['annotations']) - 1}].type"
    errors = _errors(validate_case(Case.from_dict(data)))
    assert [(p.path, p.annotation_id) for p in errors] == [(lf_path, "lf1")]
    assert "ligamentum_flavum" in errors[0].message and "esi" in errors[0].message

    # the same annotation is fine under MILD: the protocol, not the model, rejects it
    data["protocol"] = "mild"
    mild_paths = {p.path for p in _errors(validate_case(Case.from_dict(data)))}
    assert lf_path not in mild_paths
    # ... and MILD, which declares the VILL too since the protocol issue, accepts the line
    assert f"$.annotations[{VILL}].type" not in mild_paths


@pytest.mark.parametrize(
    ("index", "field", "value", "words"),
    [
        (VILL, "level", "L4", "interspace"),  # a vertebra where an interspace belongs
        (VERTEBRA_L4, "level", "L4-L5", "vertebral"),  # and the other way round
        (VERTEBRA_L4, "level", "C7", "unknown level"),  # outside T12…S1
        (NEEDLE, "side", "anterior", "side must be"),
        (NEEDLE, "instrument", "portal", "unknown instrument"),  # a MILD instrument
        (CONTRAST, "side", "both", "side must be"),
    ],
)
def test_levels_sides_and_instruments_are_checked(
    index: int, field: str, value: str, words: str
) -> None:
    data = esi_case()
    data["annotations"][index][field] = value
    errors = _errors(validate_case(Case.from_dict(data)))
    assert [p.path for p in errors] == [f"$.annotations[{index}].{field}"]
    assert words in errors[0].message


def test_midline_approach_is_an_esi_side_but_not_a_mild_one() -> None:
    data = esi_case()
    for i in (VILL, NEEDLE, CONTRAST):
        data["annotations"][i]["side"] = "midline"
    assert validate_case(Case.from_dict(data)) == []
    data["protocol"] = "mild"
    paths = {p.path for p in _errors(validate_case(Case.from_dict(data)))}
    assert {f"$.annotations[{NEEDLE}].side", f"$.annotations[{CONTRAST}].side"} <= paths


def test_every_esi_instrument_validates() -> None:
    for instrument in get_protocol("esi").instruments:
        data = esi_case()
        data["annotations"][NEEDLE]["instrument"] = instrument
        assert validate_case(Case.from_dict(data)) == [], instrument


def test_vertebra_counting_errors_are_caught_in_esi_cases() -> None:
    data = esi_case()
    data["annotations"][VERTEBRA_L5]["level"] = "S1"  # L4 then S1: L5 skipped
    errors = _errors(validate_case(Case.from_dict(data)))
    assert [p.path for p in errors] == [f"$.annotations[{VERTEBRA_L5}].level"]
    assert "skip" in errors[0].message and "L5" in errors[0].message


# ------------------------------------------------------------------ measurement
def test_needle_gets_the_cannula_measurements() -> None:
    table = flannot.measure(Case.from_dict(esi_case()))
    needle = table[table["annotation_id"] == "c1"].set_index("name")
    # 80 px along a row at 0.2 mm/px; the tip is 10 px short of the contrast column
    assert needle.loc["length", "value"] == pytest.approx(80 * SPACING)
    assert needle.loc["length", "unit"] == "mm"
    assert needle.loc["tip_to_contrast", "value"] == pytest.approx(10 * SPACING)
    assert needle.loc["angle", "value"] == pytest.approx(0.0, abs=1e-9)


def test_needle_past_the_contrast_line_has_a_negative_margin() -> None:
    data = esi_case()
    data["annotations"][NEEDLE]["geometry"]["points"][1] = [100, 115]  # 5 px past column 110
    table = flannot.measure(Case.from_dict(data))
    row = table[(table["annotation_id"] == "c1") & (table["name"] == "tip_to_contrast")]
    assert row["value"].iloc[0] == pytest.approx(-5 * SPACING)


def test_case_round_trips_with_the_esi_protocol(tmp_path: Path) -> None:
    case = Case.from_dict(esi_case())
    saved = case.save(tmp_path / "annotations.json")
    again = Case.load(saved)
    assert again.protocol == "esi"
    assert [(a.type, a.level, a.side) for a in again.annotations] == [
        (a.type, a.level, a.side) for a in case.annotations
    ]
    assert isinstance(again.annotations[VILL], Annotation)


# ------------------------------------------------------------------ CLI
def test_flannot_validate_accepts_a_valid_esi_case(tmp_path: Path, capsys) -> None:
    folder = _case_folder(tmp_path / "good", esi_case())
    assert flannot_main(["validate", str(folder)]) == 0
    assert "valid" in capsys.readouterr().out


def test_flannot_validate_rejects_a_mild_only_type(tmp_path: Path, capsys) -> None:
    data = esi_case()
    data["annotations"].append(
        _ann("lf1", "ligamentum_flavum", "polygon", [[50, 70], [50, 90], [60, 90]], level="L4-L5")
    )
    folder = _case_folder(tmp_path / "bad", data)
    assert flannot_main(["validate", str(folder / "annotations.json"), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert [(p["path"], p["annotation_id"]) for p in report["problems"]] == [
        (f"$.annotations[{len(data['annotations']) - 1}].type", "lf1")
    ]


def test_console_script_discovers_the_plugin_in_a_fresh_interpreter(tmp_path: Path) -> None:
    good = _case_folder(tmp_path / "good", esi_case())
    bad_data = copy.deepcopy(esi_case())
    bad_data["annotations"][NEEDLE]["instrument"] = "bone_rongeur"
    bad = _case_folder(tmp_path / "bad", bad_data)
    run = [sys.executable, "-m", "flannot", "validate"]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    failed = subprocess.run([*run, str(bad)], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "unknown instrument 'bone_rongeur'" in failed.stdout
