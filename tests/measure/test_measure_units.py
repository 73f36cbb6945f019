"""Calibration and units: mm only when calibrated, user calibration, output forms."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from measure_builders import ann, band, make_case, values

from flannot.measure import COLUMNS, measure, to_csv, to_json
from flannot.measure.units import resolve_units, user_spacing


def _mixed(spacing=(1.0, 1.0)):
    """LF, canal, interlaminar space, cannula and vertebrae, sized in pixels."""
    return [
        ann(
            "lf",
            "ligamentum_flavum",
            "polygon",
            band((100, 100), 60, 12, 30, spacing),
            level="L4-L5",
            side="left",
        ),
        ann("c", "spinal_canal", "polygon", band((200, 200), 160, 50, 90, spacing), level="L4-L5"),
        ann("i", "interlaminar_space", "polygon", band((300, 100), 80, 40, 0, spacing)),
        ann("k", "cannula", "line", [[10, 10], [40, 50]], level="L4-L5", side="left"),
        ann("v4", "vertebra", "polygon", [[0, 140], [0, 100], [27, 100], [30, 140]], level="L4"),
        ann("v5", "vertebra", "polygon", [[37, 132], [37, 92], [67, 92], [67, 132]], level="L5"),
    ]


@pytest.mark.parametrize(
    ("spacing", "calibration", "image"),
    [
        (None, "uncalibrated", None),
        ((0.2, 0.2), "uncalibrated", None),
        # an image whose spacing is unusable (zero counts as absent, SPEC §2)
        ((0.2, 0.2), "fiducial", SimpleNamespace(spacing_mm=(0.0, 0.2), calibration="fiducial")),
        ((0.2, 0.2), "fiducial", SimpleNamespace(spacing_mm=None, calibration="uncalibrated")),
    ],
)
def test_uncalibrated_gives_pixels_and_never_mm(spacing, calibration, image):
    df = measure(make_case(_mixed(), spacing, calibration), image=image)
    assert set(df.calibration) == {"uncalibrated"}
    assert set(df.unit) <= {"px", "px2", "deg", "%", ""}
    assert {"px", "px2"} <= set(df.unit)
    assert "mm" not in to_json(df) and "mm" not in to_csv(df)
    # flags with mm thresholds are left out rather than guessed
    assert not {"hypertrophic", "stenosis_grade"} & set(df.name)
    v = values(df, "lf")
    assert v["max_thickness"] == pytest.approx(12.0, abs=0.1)  # pixels
    assert values(df, "c")["min_width"] == pytest.approx(50.0, abs=0.1)
    assert values(df, "k")["length"] == pytest.approx(50.0)


def test_calibrated_rows_carry_the_calibration():
    df = measure(make_case(_mixed((0.2, 0.2)), (0.2, 0.2), "detector_plane"))
    assert set(df.calibration) == {"detector_plane"}
    assert "px" not in set(df.unit) and "px2" not in set(df.unit)
    assert values(df, "k")["length"] == pytest.approx(10.0)


def test_user_calibration_line_overrides_and_keeps_the_aspect_ratio():
    anns = [
        # 100 px along the columns is 20 mm
        ann("cal", "calibration", "line", [[50, 0], [50, 100]], length_mm=20.0),
        ann("k", "cannula", "line", [[0, 0], [100, 0]]),  # 100 px along the rows
    ]
    df = measure(make_case(anns, (0.2, 0.4), "detector_plane"))
    assert set(df.calibration) == {"user"}
    # col_mm becomes 0.2; row_mm keeps half of it (aspect 0.2 / 0.4)
    assert values(df, "k")["length"] == pytest.approx(10.0)
    assert resolve_units(make_case(anns, (0.2, 0.4), "detector_plane")).spacing == (
        pytest.approx(0.1),
        pytest.approx(0.2),
    )


def test_user_calibration_of_an_uncalibrated_image_is_isotropic():
    anns = [
        ann("cal", "calibration", "line", [[0, 0], [30, 40]], length_mm=10.0),  # 50 px
        ann("k", "cannula", "line", [[0, 0], [100, 0]]),
    ]
    df = measure(make_case(anns, None, "uncalibrated"))
    assert set(df.calibration) == {"user"}
    assert set(df.unit) == {"mm", "deg"}
    assert values(df, "k")["length"] == pytest.approx(20.0)


def test_degenerate_calibration_lines_are_ignored():
    assert user_spacing(np.array([[1.0, 1.0], [1.0, 1.0]]), 10.0, None) is None
    assert user_spacing(np.array([[0.0, 0.0], [0.0, 10.0]]), 0.0, None) is None
    anns = [
        ann("cal", "calibration", "line", [[5, 5], [5, 5]], length_mm=10.0),
        ann("k", "cannula", "line", [[0, 0], [100, 0]]),
    ]
    df = measure(make_case(anns, None, "uncalibrated"))
    assert set(df.calibration) == {"uncalibrated"}


def test_calibration_lines_outside_the_spacing_range_are_ignored():
    # a spacing no case file may record (the schema's and the reader's 1e-6..1e6 mm):
    # napari's user calibration would refuse it when the case is opened
    line = np.array([[0.0, 0.0], [0.0, 1e-8]])  # 1e-8 px: 1e8 mm per pixel
    assert user_spacing(line, 1.0, None) is None
    assert user_spacing(np.array([[0.0, 0.0], [0.0, 1e4]]), 1e-3, None) is None  # 1e-7
    assert user_spacing(np.array([[0.0, 0.0], [0.0, 10.0]]), 1.0, None) == (0.1, 0.1)


def test_image_spacing_wins_over_the_case_record():
    image = SimpleNamespace(spacing_mm=(0.5, 0.5), calibration="fiducial")
    case = make_case([ann("k", "cannula", "line", [[0, 0], [0, 30]])], (0.2, 0.2))
    df = measure(case, image=image)
    assert set(df.calibration) == {"fiducial"}
    assert values(df, "k")["length"] == pytest.approx(15.0)


def test_columns_types_and_serialisations():
    df = measure(make_case(_mixed((0.2, 0.2)), (0.2, 0.2), planning=True))
    assert list(df.columns) == list(COLUMNS)
    assert df.frame.dtype.kind == "i"
    hyp = df[df.name == "hypertrophic"].value.iloc[0]
    assert isinstance(hyp, bool)
    records = json.loads(to_json(df))
    assert [list(r) for r in records[:1]] == [list(COLUMNS)]
    assert {type(r["value"]) for r in records} <= {float, bool, str}
    assert any(r["value"] is True or r["value"] is False for r in records)
    csv = to_csv(df)
    assert csv.splitlines()[0] == ",".join(COLUMNS)
    assert ",hypertrophic,true,," in csv or ",hypertrophic,false,," in csv
    back = pd.read_csv(__import__("io").StringIO(csv))
    assert len(back) == len(df)


def test_flags_and_grades_are_unitless_rows_with_json_booleans_or_lower_case_strings():
    sp = (0.2, 0.2)
    df = measure(make_case(_mixed(sp), sp, planning=True))  # grades need a planning slice
    flags = {"hypertrophic", "tip_in_lf"}
    grades = {"stenosis_grade", "meyerding_grade"}
    assert flags | grades <= set(df.name)  # every kind is exercised
    for name, value, unit in zip(df.name, df.value, df.unit, strict=True):
        if name in flags:
            assert isinstance(value, bool) and unit == "", name
        elif name in grades:
            assert isinstance(value, str) and value == value.lower() and unit == "", name
        else:
            assert isinstance(value, float) and unit, name
    assert set(df[df.name == "stenosis_grade"].value) <= {"normal", "relative", "absolute"}
    assert set(df[df.name == "meyerding_grade"].value) <= {"none", "i", "ii", "iii", "iv", "v"}
    records = json.loads(to_json(df))
    for r in records:
        if r["name"] in flags:
            assert r["value"] is True or r["value"] is False


def test_json_turns_nan_and_numpy_values_into_plain_json():
    df = pd.DataFrame(
        [
            ["t", np.int64(0), "a", "cannula", None, None, "length", math.nan, "mm", "user"],
            ["t", 0, "b", "cannula", "L4-L5", "left", "tip_in_lf", np.bool_(True), "", "user"],
            ["t", 0, "c", "cannula", "L4-L5", "left", "angle", np.float32(2.5), "deg", "user"],
        ],
        columns=list(COLUMNS),
    )
    records = json.loads(to_json(df))
    assert records[0]["value"] is None and records[0]["level"] is None
    assert records[1]["value"] is True
    assert records[2]["value"] == 2.5


def test_measure_accepts_a_case_path_and_rejects_a_bad_one(tmp_path):
    from flannot.errors import FlannotError

    case = make_case([ann("k", "cannula", "line", [[0, 0], [0, 50]])])
    (tmp_path / "annotations.json").write_text(case.to_json())
    assert values(measure(tmp_path), "k")["length"] == pytest.approx(10.0)
    with pytest.raises(FlannotError):
        measure(tmp_path / "missing.json")
