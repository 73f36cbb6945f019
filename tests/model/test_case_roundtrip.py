"""Case files round-trip exactly: every geometry kind, floats, unknown keys, masks (SPEC §3)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from flannot.model import FORMAT_VERSION, Annotation, Case, Geometry, ImageRef

AWKWARD = [
    0.1 + 0.2,
    1e-300,
    123456.78901234567,
    float(np.nextafter(1.0, 2.0)),
    -0.5,
    5e-324,
    float(np.nextafter(131072.0, 0.0)),  # the largest coordinate a case may hold
    2.0 / 3.0,
]


def _raw(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_dict_round_trip_every_geometry_kind(case: Case) -> None:
    kinds = {a.geometry.kind for a in case.annotations}
    assert kinds == {"point", "line", "path", "polygon", "rectangle", "mask"}
    again = Case.from_dict(case.to_dict())
    assert again == case
    assert again.to_dict() == case.to_dict()


def test_save_load_round_trip(case: Case, tmp_path: Path) -> None:
    written = case.save(tmp_path / "c")
    assert written == (tmp_path / "c" / "annotations.json").absolute()
    loaded = Case.load(tmp_path / "c")
    assert loaded == case  # save stamped `modified`, on both objects
    assert loaded.path == written
    data = _raw(written)
    assert data["flannot_version"] == FORMAT_VERSION == 1
    assert data == case.to_dict()
    lf = loaded.get("lf1")
    assert lf.geometry.kind == "mask" and lf.geometry.to_mask().sum() == 200
    assert isinstance(loaded.get("v1").geometry.points, np.ndarray)
    assert loaded.get("v1").geometry.points.dtype == np.float64
    assert loaded.get("v1").geometry.points.shape == (1, 2)


def test_floats_are_bit_exact(tmp_path: Path) -> None:
    pts = np.array(AWKWARD).reshape(-1, 2)
    case = Case(
        "f", ImageRef("x.dcm"), [Annotation("p1", "epidural_contrast", Geometry("path", pts))]
    )
    case.save(tmp_path)
    back = Case.load(tmp_path).get("p1").geometry.points
    assert back.tobytes() == pts.tobytes()
    # and JSON stays JSON: numbers, not strings
    assert _raw(tmp_path / "annotations.json")["annotations"][0]["geometry"]["points"][0] == [
        AWKWARD[0],
        AWKWARD[1],
    ]


def test_points_in_and_out_of_the_model(tmp_path: Path) -> None:
    g = Geometry("line", [[1, 2], [3, 4]])  # ints in, float64 (N, 2) inside
    assert g.points.dtype == np.float64 and g.points.shape == (2, 2)
    assert g.to_dict() == {"kind": "line", "points": [[1.0, 2.0], [3.0, 4.0]]}
    assert Geometry("point", [5.5, 6.5]).points.shape == (1, 2)
    src = np.array([[1.0, 2.0]])
    g2 = Geometry("point", src)
    src[0, 0] = 99.0
    assert g2.points[0, 0] == 1.0  # the geometry owns its array
    with pytest.raises(ValueError):
        Geometry("polygon", [[1.0, 2.0, 3.0]])


def test_unknown_keys_preserved_at_every_level(tmp_path: Path) -> None:
    doc = {
        "flannot_version": 1,
        "case_id": "x",
        "x_top": {"nested": [1, 2, {"a": None}]},
        "image": {"path": "image.dcm", "x_scanner": "C-arm 9", "frames": 1},
        "annotations": [
            {
                "id": "v1",
                "type": "vertebra",
                "level": "L4",
                "x_confidence": 0.9,
                "geometry": {"kind": "point", "points": [[1.5, 2.5]], "x_tool": "click"},
            },
            {
                "id": "m1",
                "type": "ligamentum_flavum",
                "geometry": {
                    "kind": "mask",
                    "mask": {"size": [2, 3], "counts": [2, 3, 1], "x_source": "model"},
                },
            },
        ],
        "future_field": "from flannot 1.1",
    }
    (tmp_path / "annotations.json").write_text(json.dumps(doc), encoding="utf-8")
    case = Case.load(tmp_path)
    assert case.extra == {"x_top": doc["x_top"], "future_field": "from flannot 1.1"}
    assert case.image.extra == {"x_scanner": "C-arm 9"}
    assert case.annotations[0].extra == {"x_confidence": 0.9}
    assert case.annotations[0].geometry.extra == {"x_tool": "click"}
    case.save()
    out = _raw(tmp_path / "annotations.json")
    assert out["x_top"] == doc["x_top"] and out["future_field"] == "from flannot 1.1"
    assert out["image"]["x_scanner"] == "C-arm 9"
    assert out["annotations"][0]["x_confidence"] == 0.9
    assert out["annotations"][0]["geometry"]["x_tool"] == "click"
    # list counts stay as written (both forms are valid), extra mask keys too
    assert out["annotations"][1]["geometry"]["mask"] == doc["annotations"][1]["geometry"]["mask"]
    assert out["annotations"][1]["frame"] == 0  # frame defaults to 0 and is written


def test_mask_list_and_string_counts_load_to_same_mask(tmp_path: Path) -> None:
    m = np.zeros((20, 30), bool)
    m[3:9, 4:25] = True
    g_str = Geometry.from_mask(m)
    assert isinstance(g_str.mask["counts"], str)
    runs = np.diff(np.flatnonzero(np.diff(np.r_[-1, m.T.ravel().astype(int), -1]))).tolist()
    g_list = Geometry("mask", mask={"size": [20, 30], "counts": runs})
    assert np.array_equal(g_str.to_mask(), m)
    assert np.array_equal(g_list.to_mask(), m)


def test_levels_are_normalised_on_load_and_written_canonically(tmp_path: Path) -> None:
    doc = {
        "flannot_version": 1,
        "case_id": "x",
        "image": {"path": "i.dcm"},
        "annotations": [
            {
                "id": "a",
                "type": "ligamentum_flavum",
                "level": "l4_l5",
                "side": "Left",
                "geometry": {"kind": "polygon", "points": [[0, 0], [0, 1], [1, 1]]},
            },
            {
                "id": "b",
                "type": "vertebra",
                "level": "l4",
                "geometry": {"kind": "point", "points": [[0, 0]]},
            },
            {
                "id": "c",
                "type": "vertebra",
                "level": "L9",
                "geometry": {"kind": "point", "points": [[0, 0]]},
            },
        ],
    }
    (tmp_path / "annotations.json").write_text(json.dumps(doc))
    case = Case.load(tmp_path)
    assert [a.level for a in case.annotations] == ["L4-L5", "L4", "L9"]  # unknown kept for validate
    assert case.annotations[0].side == "left"
    case.save()
    assert [a["level"] for a in _raw(tmp_path / "annotations.json")["annotations"]] == [
        "L4-L5",
        "L4",
        "L9",
    ]


def test_timestamps_are_utc_z_and_modified_moves_on_save(case: Case, tmp_path: Path) -> None:
    before = case.modified
    case.save(tmp_path)
    assert case.modified != before and case.modified.endswith("Z")
    assert case.created == "2026-11-21T10:00:00Z"  # created never changes
    a = case.add(Annotation("", "vertebra", Geometry("point", [[1.0, 1.0]]), level="L2"))
    assert a.created is not None and a.created.endswith("Z") and a.modified == a.created
    # a case with no created time gets one on save
    bare = Case.from_dict(
        {"flannot_version": 1, "case_id": "b", "image": {"path": "i"}, "annotations": []}
    )
    assert bare.created is None
    bare.save(tmp_path / "b")
    assert bare.created is not None and bare.created.endswith("Z")


def test_save_touch_false_keeps_modified(case: Case, tmp_path: Path) -> None:
    case.save(tmp_path, touch=False)
    assert _raw(tmp_path / "annotations.json")["modified"] == "2026-11-21T10:05:00Z"


def test_new_id_add_remove(case: Case) -> None:
    assert case.new_id("vertebra") == "v7"
    assert case.new_id("ligamentum_flavum") == "lf2"
    assert case.new_id("my type") == "my_type1"
    added = case.add(Annotation("", "cannula", Geometry("line", [[0, 0], [1, 1]])))
    assert added.id == "c2" and case.get("c2") is added
    with pytest.raises(ValueError, match="already used"):
        case.add(Annotation("c2", "cannula", Geometry("line", [[0, 0], [1, 1]])))
    case.remove("c2")
    with pytest.raises(KeyError):
        case.get("c2")
    assert [a.id for a in case.select(type="vertebra", level="L4")] == ["v4"]


def test_from_image_fills_the_image_record(tmp_path: Path) -> None:
    img_file = tmp_path / "set" / "cases" / "a" / "image.dcm"
    img_file.parent.mkdir(parents=True)
    img_file.write_bytes(b"")
    image = SimpleNamespace(
        path=img_file,
        sop_instance_uid="1.2.3",
        n_frames=12,
        spacing_mm=(0.3, 0.25),
        calibration="pixel_spacing",
        rows=512,
        cols=480,
    )
    case = Case.from_image(image, "a")
    assert case.image.frames == 12 and case.image.spacing_mm == (0.3, 0.25)
    assert (case.image.rows, case.image.columns) == (512, 480)
    assert case.image.calibration == "pixel_spacing" and case.image.sop_instance_uid == "1.2.3"
    assert case.image_path == img_file
    case.save(img_file.parent)
    assert _raw(img_file.parent / "annotations.json")["image"]["path"] == "image.dcm"
    assert Case.load(img_file.parent).image_path == img_file.absolute()
    uncal = Case.from_image(
        SimpleNamespace(
            path=img_file,
            sop_instance_uid=None,
            n_frames=1,
            spacing_mm=None,
            calibration="uncalibrated",
            rows=4,
            cols=4,
        ),
        "u",
    )
    assert uncal.image.spacing_mm is None
    assert uncal.to_dict()["image"]["spacing_mm"] is None  # no mm without a calibration


def test_save_as_elsewhere_keeps_the_image_findable(case_dir: Path, tmp_path: Path) -> None:
    case = Case.load(case_dir)
    image = case.image_path
    out = case.save(tmp_path / "elsewhere" / "copy.json")
    assert out.name == "copy.json"
    assert Case.load(out).image_path == image


def test_nan_is_refused_on_save_not_written(case: Case, tmp_path: Path) -> None:
    from flannot import FlannotError

    case.get("v1").geometry.points[0, 0] = np.nan
    with pytest.raises(FlannotError, match="NaN"):
        case.save(tmp_path)
    assert not (tmp_path / "annotations.json").exists()


def test_written_file_is_diffable_one_point_per_line(case: Case, tmp_path: Path) -> None:
    text = case.save(tmp_path).read_text(encoding="utf-8")
    assert "[140.0, 80.0]," in text.splitlines()[0] or any(
        line.strip() == "[140.0, 80.0]," for line in text.splitlines()
    )
    assert text.endswith("\n") and "→" in text  # UTF-8, not \u escapes


def test_documented_example_is_a_valid_case() -> None:
    from flannot.model import validate_case

    doc = Path(__file__).parents[2] / "docs" / "case-format.md"
    block = doc.read_text(encoding="utf-8").split("```json\n", 1)[1].split("```", 1)[0]
    case = Case.from_dict(json.loads(block))
    assert validate_case(case) == []
    assert case.get("lf1").geometry.to_mask().sum() == 24
    assert case.extra == {"x_my_tool": {"anything": "is kept"}}


def test_from_a_real_fluoro_image(tmp_path: Path) -> None:
    from flannot.io.reader import read_dicom
    from flannot.model import validate_case
    from tests.model.conftest import write_dicom

    dcm = write_dicom(tmp_path / "image.dcm", frames=3)
    image = read_dicom(dcm)
    case = Case.from_image(image, "cine")
    assert (case.image.rows, case.image.columns, case.image.frames) == (300, 200, 3)
    case.add(Annotation("", "vertebra", Geometry("point", [[10.0, 10.0]]), level="L3", frame=2))
    assert validate_case(case, image) == []
    case.get("v1").frame = 3
    assert [p.path for p in validate_case(case, image)] == ["$.annotations[0].frame"]
    case.get("v1").frame = 2
    case.save(tmp_path)
    loaded = Case.load(tmp_path)
    assert loaded.image.path == "image.dcm"
    assert loaded.load_image().sop_instance_uid == image.sop_instance_uid


def test_unserialisable_extra_is_a_flannot_error(case: Case, tmp_path: Path) -> None:
    from flannot import FlannotError

    case.extra["x_bad"] = {1, 2}
    with pytest.raises(FlannotError, match="not JSON serialisable"):
        case.save(tmp_path)
    case.extra["x_bad"] = np.float32(1.5)  # NumPy scalars are fine
    case.save(tmp_path)
    assert _raw(tmp_path / "annotations.json")["x_bad"] == 1.5
