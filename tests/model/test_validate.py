"""validate: schema errors with JSON paths, then every semantic check (SPEC §3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from flannot import FlannotError
from flannot.model import Annotation, Case, Geometry, Problem, validate_case, validate_case_file
from flannot.model.validate import schema_problems
from tests.model.conftest import COLS, ROWS, build_case


def _errors(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in problems if p.severity == "error"]


def _only(problems: list[Problem], path: str, text: str, severity: str = "error") -> None:
    """Exactly one problem, at ``path``, mentioning ``text``."""
    assert [(p.path, p.severity) for p in problems] == [(path, severity)], problems
    assert text in problems[0].message, problems[0].message


def _case_with(*anns: Annotation, **image: object) -> Case:
    case = build_case()
    case.annotations = list(anns)
    for k, v in image.items():
        setattr(case.image, k, v)
    return case


def _pt(r: float, c: float) -> Geometry:
    return Geometry("point", [[r, c]])


# ------------------------------------------------------------------ clean cases
def test_valid_case_has_no_problems(case: Case) -> None:
    assert validate_case(case) == []


def test_valid_case_file_with_dicom_has_no_problems(case_dir: Path) -> None:
    assert validate_case_file(case_dir) == []
    assert validate_case_file(case_dir / "annotations.json") == []


def test_unknown_x_keys_are_never_problems(case_dir: Path) -> None:
    f = case_dir / "annotations.json"
    data = json.loads(f.read_text())
    data["x_top"] = 1
    data["image"]["x_img"] = [1]
    for a in data["annotations"]:
        a["x_ann"] = {"k": None}
        a["geometry"]["x_geo"] = "yes"
    f.write_text(json.dumps(data))
    assert validate_case_file(case_dir) == []


# ------------------------------------------------------------------ schema
def test_schema_errors_carry_json_paths(case: Case) -> None:
    data = case.to_dict()
    data["annotations"][3]["geometry"]["points"][1] = [1.0]
    data["annotations"][0]["frame"] = -1
    del data["annotations"][5]["id"]
    data["annotations"][6]["geometry"]["kind"] = "circle"
    data["annotations"][7]["geometry"].pop("mask")
    data["annotations"][8]["geometry"]["points"][0][1] = "12"
    data["image"]["spacing_mm"] = [0.2, -0.2]
    del data["case_id"]
    problems = schema_problems(data)
    paths = [p.path for p in problems]
    assert paths == [
        "$",
        "$.image.spacing_mm[1]",
        "$.annotations[0].frame",
        "$.annotations[3].geometry.points[1]",
        "$.annotations[5]",
        "$.annotations[6].geometry.kind",
        "$.annotations[7].geometry",
        "$.annotations[8].geometry.points[0][1]",
    ]
    by_path = {p.path: p.message for p in problems}
    assert "case_id" in by_path["$"]
    assert "'id' is a required property" in by_path["$.annotations[5]"]
    assert "mask" in by_path["$.annotations[7].geometry"]
    assert all(p.severity == "error" for p in problems)


def test_schema_errors_reported_by_validate_case_file(case_dir: Path) -> None:
    f = case_dir / "annotations.json"
    data = json.loads(f.read_text())
    data["annotations"][2]["geometry"]["points"] = [[1.0, 2.0, 3.0]]
    f.write_text(json.dumps(data))
    problems = validate_case_file(case_dir)
    assert [p.path for p in problems] == ["$.annotations[2].geometry.points[0]"]
    assert problems[0].file == str(f)
    assert str(problems[0]).startswith(f"{f}: $.annotations[2].geometry.points[0]: ")


def test_unreadable_files_raise_flannot_error(tmp_path: Path) -> None:
    f = tmp_path / "annotations.json"
    f.write_text("{oops")
    with pytest.raises(FlannotError, match="line 1, column 2"):
        validate_case_file(f)
    f.write_text(json.dumps({"flannot_version": 7, "case_id": "x"}))
    with pytest.raises(FlannotError, match="newer flannot"):
        validate_case_file(f)


# ------------------------------------------------------------------ protocol
def test_unknown_type_and_protocol() -> None:
    case = _case_with(Annotation("a", "osteophyte", _pt(5, 5)))
    _only(validate_case(case), "$.annotations[0].type", "unknown type 'osteophyte'")
    case.protocol = "kyphoplasty"
    problems = validate_case(case)
    _only(problems, "$.protocol", "unknown protocol")


def test_geometry_kind_must_suit_the_type() -> None:
    case = _case_with(
        Annotation(
            "c",
            "cannula",
            Geometry("polygon", [[1, 1], [1, 9], [9, 9]]),
            level="L4-L5",
            side="left",
        )
    )
    _only(validate_case(case), "$.annotations[0].geometry.kind", "drawn as line, not polygon")


# ------------------------------------------------------------------ levels
@pytest.mark.parametrize(
    ("type_", "level", "text"),
    [
        ("vertebra", "L4-L5", "takes a vertebral level such as L4, not the interspace L4-L5"),
        ("ligamentum_flavum", "L4", "takes an interspace level such as L4-L5, not the vertebra L4"),
        ("cannula", "L5", "not the vertebra L5"),
        ("vertebra", "L9", "unknown level"),
        ("spinal_canal", "L3-L5", "not neighbours"),
    ],
)
def test_level_kind_and_unknown_levels(type_: str, level: str, text: str) -> None:
    geom = {
        "vertebra": _pt(5, 5),
        "cannula": Geometry("line", [[1, 1], [9, 9]]),
    }.get(type_, Geometry("polygon", [[1, 1], [1, 9], [9, 9]]))
    a = Annotation("a", type_, geom, level=level)
    if type_ in ("ligamentum_flavum", "cannula"):
        a.side = "left"
    _only(validate_case(_case_with(a)), "$.annotations[0].level", text)


def test_level_given_where_none_belongs_is_a_warning() -> None:
    a = Annotation("r", "redaction", Geometry("rectangle", [[0, 0], [5, 5]]), level="L4")
    _only(validate_case(_case_with(a)), "$.annotations[0].level", "ignored", "warning")


def test_missing_level_and_side_are_warnings() -> None:
    a = Annotation("lf", "ligamentum_flavum", Geometry("polygon", [[1, 1], [1, 9], [9, 9]]))
    problems = validate_case(_case_with(a))
    assert [(p.path, p.severity) for p in problems] == [
        ("$.annotations[0].level", "warning"),
        ("$.annotations[0].side", "warning"),
    ]


def test_non_canonical_spelling_warns_in_files(case_dir: Path) -> None:
    f = case_dir / "annotations.json"
    data = json.loads(f.read_text())
    data["annotations"][6]["level"] = "L4/L5"
    f.write_text(json.dumps(data))
    problems = validate_case_file(case_dir)
    _only(problems, "$.annotations[6].level", "'L4/L5' is spelled 'L4-L5'", "warning")


# ------------------------------------------------------------------ attributes
def test_side_must_be_left_or_right() -> None:
    a = Annotation(
        "lf",
        "ligamentum_flavum",
        Geometry("polygon", [[1, 1], [1, 9], [9, 9]]),
        level="L4-L5",
        side="middle",
    )
    _only(validate_case(_case_with(a)), "$.annotations[0].side", "left or right, not 'middle'")


def test_instrument_must_be_known() -> None:
    a = Annotation(
        "c",
        "cannula",
        Geometry("line", [[1, 1], [9, 9]]),
        level="L4-L5",
        side="right",
        instrument="drill",
    )
    _only(validate_case(_case_with(a)), "$.annotations[0].instrument", "unknown instrument 'drill'")


@pytest.mark.parametrize("length", [None, 0.0, -5.0, float("nan")])
def test_calibration_needs_positive_length(length: float | None) -> None:
    a = Annotation("cal", "calibration", Geometry("line", [[1, 1], [1, 50]]), length_mm=length)
    _only(validate_case(_case_with(a)), "$.annotations[0].length_mm", "positive length_mm")


# ------------------------------------------------------------------ geometry
@pytest.mark.parametrize(
    ("type_", "kind", "points", "text"),
    [
        ("cannula", "line", [[1, 1], [2, 2], [3, 3]], "a line takes exactly 2 points"),
        ("calibration", "line", [[1, 1]], "a line takes exactly 2 points"),
        ("vertebra", "point", [[1, 1], [2, 2]], "a point takes exactly 1 point"),
        ("spinal_canal", "polygon", [[1, 1], [2, 2]], "a polygon takes at least 3 points"),
        ("redaction", "rectangle", [[1, 1], [2, 2], [3, 3]], "4 corners (or 2 opposite"),
        ("epidural_contrast", "path", [[1, 1]], "a path takes at least 2 points"),
        ("vertebra", "polygon", [[1, 1], [1, 9], [9, 9], [9, 1], [5, 0]], "4 corners"),
    ],
)
def test_point_counts(type_: str, kind: str, points: list, text: str) -> None:
    a = Annotation(
        "a",
        type_,
        Geometry(kind, points),
        length_mm=10.0 if type_ == "calibration" else None,
        level={"vertebra": "L3", "redaction": None, "calibration": None}.get(type_, "L4-L5"),
        side="left" if type_ in ("cannula", "epidural_contrast") else None,
    )
    problems = [p for p in validate_case(_case_with(a)) if p.severity == "error"]
    assert [p.path for p in problems] == ["$.annotations[0].geometry.points"], problems
    assert text in problems[0].message


def test_rectangle_with_two_or_four_corners_is_fine() -> None:
    for pts in ([[0, 0], [5, 5]], [[0, 0], [0, 5], [5, 5], [5, 0]]):
        assert (
            validate_case(_case_with(Annotation("r", "redaction", Geometry("rectangle", pts))))
            == []
        )


def test_zero_length_line_and_non_finite_coordinates() -> None:
    a = Annotation("cal", "calibration", Geometry("line", [[3, 3], [3, 3]]), length_mm=5.0)
    _only(validate_case(_case_with(a)), "$.annotations[0].geometry.points", "zero length")
    b = Annotation("v", "vertebra", Geometry("point", [[np.inf, 3]]), level="L1")
    _only(validate_case(_case_with(b)), "$.annotations[0].geometry.points[0]", "not a finite")


def test_points_outside_the_image_record() -> None:
    inside = Annotation("v", "vertebra", _pt(ROWS - 0.5, -0.5), level="L1")  # edge of the grid
    assert validate_case(_case_with(inside)) == []
    out = Annotation(
        "e",
        "epidural_contrast",
        Geometry("path", [[5, 5], [5, COLS + 3], [9, 9]]),
        level="L4-L5",
        side="left",
    )
    _only(
        validate_case(_case_with(out)),
        "$.annotations[0].geometry.points[1]",
        f"outside the {ROWS}x{COLS} image",
    )


def test_points_outside_the_dicom_when_the_record_has_no_size(
    case_dir: Path, dicom_writer: Callable
) -> None:
    dicom_writer(case_dir / "image.dcm", rows=100, cols=100)
    case = Case.load(case_dir)
    case.image.rows = case.image.columns = None
    case.save()
    problems = validate_case_file(case_dir)
    # every annotation below row 99.5 or right of column 99.5 is outside; the mask's size is wrong
    assert any(
        p.path == "$.annotations[5].geometry.points[0]" and "100x100" in p.message for p in problems
    )
    assert any(p.path == "$.annotations[7].geometry.mask.size" for p in problems)


def test_points_outside_a_given_image() -> None:
    image = SimpleNamespace(rows=50, cols=50, n_frames=1, sop_instance_uid=None)
    case = _case_with(Annotation("v", "vertebra", _pt(60, 10), level="L1"))
    _only(validate_case(case, image), "$.annotations[0].geometry.points[0]", "50x50")


def test_mask_size_and_rle() -> None:
    wrong = Geometry.from_mask(np.ones((10, 10), bool))
    a = Annotation("m", "ligamentum_flavum", wrong, level="L4-L5", side="left")
    _only(validate_case(_case_with(a)), "$.annotations[0].geometry.mask.size", "differs")
    bad = Geometry("mask", mask={"size": [ROWS, COLS], "counts": [5, 5]})
    b = Annotation("m", "ligamentum_flavum", bad, level="L4-L5", side="left")
    _only(validate_case(_case_with(b)), "$.annotations[0].geometry.mask", "invalid RLE")


# ------------------------------------------------------------------ frames, ids
def test_frame_out_of_range_from_the_record() -> None:
    case = _case_with(Annotation("v", "vertebra", _pt(5, 5), level="L1", frame=3), frames=3)
    _only(validate_case(case), "$.annotations[0].frame", "the image has 3 frames")


def test_frame_out_of_range_from_a_multiframe_dicom(case_dir: Path, dicom_writer: Callable) -> None:
    dicom_writer(case_dir / "image.dcm", frames=4)
    case = Case.load(case_dir)
    case.image.frames = 10  # a wrong record: the header wins, and the mismatch is reported
    case.get("c1").frame = 7
    case.save()
    problems = validate_case_file(case_dir)
    assert [(p.path, p.severity) for p in problems] == [
        ("$.image.frames", "warning"),
        ("$.annotations[10].frame", "error"),
    ]
    assert "4 frames" in problems[1].message


def test_duplicate_ids() -> None:
    case = _case_with(
        Annotation("v", "vertebra", _pt(5, 5), level="L1"),
        Annotation("v", "vertebra", _pt(50, 5), level="L2"),
    )
    _only(validate_case(case), "$.annotations[1].id", "duplicate id 'v' (also $.annotations[0])")


# ------------------------------------------------------------------ order
def _spine(levels_rows: list[tuple[str, float]], frame: int = 0) -> list[Annotation]:
    return [
        Annotation(f"v{frame}_{i}", "vertebra", _pt(row, 100), level=lv, frame=frame)
        for i, (lv, row) in enumerate(levels_rows)
    ]


def test_vertebrae_in_order_pass_including_l5_s1_and_l6() -> None:
    ok = _spine([("L3", 10), ("L4", 40), ("L5", 80), ("S1", 120)])
    ok6 = _spine([("L5", 10), ("L6", 40), ("S1", 80)], frame=0)
    assert validate_case(_case_with(*ok)) == []
    assert validate_case(_case_with(*ok6)) == []
    # list order does not matter, position does
    assert validate_case(_case_with(*reversed(ok))) == []


def test_vertebrae_out_of_order_are_flagged() -> None:
    anns = _spine([("L3", 10), ("L5", 40), ("L4", 80)])
    problems = validate_case(_case_with(*anns))
    _only(problems, "$.annotations[2].level", "out of cranio-caudal order in frame 0")
    assert "L5" in problems[0].message and "L4" in problems[0].message


def test_vertebrae_skipping_a_level_are_flagged() -> None:
    problems = validate_case(_case_with(*_spine([("L2", 10), ("L4", 60)])))
    _only(problems, "$.annotations[1].level", "skip from L2 to L4 in frame 0 (missing L3)")
    problems = validate_case(_case_with(*_spine([("L4", 10), ("S1", 60)])))
    _only(problems, "$.annotations[1].level", "(missing L5)")


def test_same_level_twice_in_a_frame() -> None:
    problems = validate_case(_case_with(*_spine([("L3", 10), ("L3", 40)])))
    _only(problems, "$.annotations[1].level", "annotated twice in frame 0")


def test_order_is_checked_per_frame_and_uses_polygon_centres() -> None:
    f0 = _spine([("L3", 10), ("L4", 60)], frame=0)
    f1 = _spine([("L4", 10), ("L5", 60)], frame=1)
    square = [[0, 0], [0, 10], [10, 10], [10, 0]]
    # L3's corners centre on row 105, below L5 (row 60) in frame 1: wrong; frame 0 is fine
    poly = Annotation(
        "p", "vertebra", Geometry("polygon", np.array(square) + [100, 50]), level="L3", frame=1
    )
    case = _case_with(*f0, *f1, poly, frames=2)
    problems = validate_case(case)
    _only(problems, "$.annotations[4].level", "frame 1")


def test_order_check_is_public_on_the_case_and_names_annotations() -> None:
    # what the napari side calls while the trainee labels vertebrae
    from flannot.model import vertebra_order_problems

    case = _case_with(*_spine([("L2", 10), ("L4", 60), ("L3", 110)]))
    problems = case.vertebra_order_problems()
    assert problems == vertebra_order_problems(case)
    assert [(p.annotation_id, p.severity) for p in problems] == [("v0_2", "error")]
    assert "out of cranio-caudal order" in problems[0].message
    case.get("v0_2").level = "L3"
    case.get("v0_1").level = "L4"
    case.get("v0_2").geometry = _pt(35, 100)  # now L2, L3, L4 from the top: fine
    assert case.vertebra_order_problems() == []
    case.remove("v0_2")
    assert [p.annotation_id for p in case.vertebra_order_problems()] == ["v0_1"]  # skips L3


def test_every_annotation_problem_names_its_annotation(case: Case) -> None:
    case.get("c1").instrument = "spoon"
    case.get("v2").frame = 5  # out of range, and frame 0 now skips from L1 to L3
    problems = validate_case(case)
    assert {(p.path.split(".")[1], p.annotation_id) for p in problems} == {
        ("annotations[1]", "v2"),
        ("annotations[2]", "v3"),
        ("annotations[10]", "c1"),
    }


# ------------------------------------------------------------------ image record
def test_image_record_checks(case_dir: Path, dicom_writer: Callable) -> None:
    case = Case.load(case_dir)
    case.image.calibration = "uncalibrated"  # but spacing_mm is set: mm without calibration
    case.image.sop_instance_uid = "1.2.3.4"
    case.save()
    problems = validate_case_file(case_dir)
    assert [p.path for p in problems] == ["$.image.sop_instance_uid", "$.image.spacing_mm"]
    assert "another image" in problems[0].message
    dicom_writer(case_dir / "image.dcm", rows=ROWS + 1)
    case.image.sop_instance_uid = "1.2.826.0.1.3680043.8.498.1"
    case.image.calibration = "guesswork"
    case.save()
    problems = validate_case_file(case_dir)
    assert [p.path for p in problems] == [
        "$.image.calibration",
        "$.image.rows",
        "$.annotations[7].geometry.mask.size",  # the mask no longer fits the image
    ]
    (case_dir / "image.dcm").unlink()
    problems = validate_case_file(case_dir)
    assert [p.path for p in problems] == ["$.image.path", "$.image.calibration"]
    assert "image not found" in problems[0].message


def test_unreadable_header_is_a_warning_not_a_crash(case_dir: Path) -> None:
    (case_dir / "image.dcm").write_bytes(b"not a dicom at all")
    problems = validate_case_file(case_dir)
    _only(problems, "$.image.path", "cannot read the DICOM header", "warning")
