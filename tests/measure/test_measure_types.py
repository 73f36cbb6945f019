"""flannot.measure on constructed geometry whose measures are known exactly (SPEC §4)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from measure_builders import ann, band, make_case, units, values
from skimage.draw import polygon2mask

from flannot.errors import FlannotError
from flannot.measure import COLUMNS, measure
from flannot.measure.vertebra import meyerding_grade
from flannot.model.rle import encode

ANISO = (0.2, 0.3)


def px(points_mm, spacing):
    return np.asarray(points_mm, float) / np.asarray(spacing, float)


# ---------------------------------------------------------------- ligamentum flavum
@pytest.mark.parametrize("spacing", [(0.2, 0.2), ANISO, (0.3, 0.2)])
@pytest.mark.parametrize("angle", [0, 17, 30, 45, 80])
def test_lf_band_of_known_thickness(spacing, angle):
    lf = band((60, 60), 15.0, 3.0, angle, spacing)
    case = make_case(
        [ann("lf", "ligamentum_flavum", "polygon", lf, level="L4-L5", side="left")],
        spacing,
        planning=True,
    )
    v = values(measure(case), "lf")
    # docs/measurements.md: polygons within 0.01 mm (mean thickness 0.05 mm), exact areas
    assert v["max_thickness"] == pytest.approx(3.0, abs=0.01)
    assert v["mean_thickness"] == pytest.approx(3.0, abs=0.05)
    assert v["area"] == pytest.approx(45.0, rel=1e-9)
    assert v["length"] == pytest.approx(math.hypot(15, 3), abs=1e-6)
    assert v["hypertrophic"] is True


def test_lf_thin_band_is_not_hypertrophic_and_units_are_mm():
    lf = band((60, 60), 12.0, 2.0, 20, ANISO)
    df = measure(
        make_case(
            [ann("lf", "ligamentum_flavum", "polygon", lf, level="L4-L5")], ANISO, planning=True
        )
    )
    v = values(df, "lf")
    assert v["max_thickness"] == pytest.approx(2.0, abs=0.01)
    assert v["hypertrophic"] is False
    assert units(df, "lf") == {
        "area": "mm2",
        "max_thickness": "mm",
        "mean_thickness": "mm",
        "length": "mm",
        "hypertrophic": "",
    }


def test_lf_wedge_max_and_mean_thickness():
    # a trapezoid 20 mm long whose thickness grows linearly from 2 to 4 mm
    pts_mm = [[50, 40], [50, 60], [54, 60], [52, 40]]  # rows: top edge flat, bottom slanted
    spacing = (0.2, 0.2)
    df = measure(make_case([ann("lf", "ligamentum_flavum", "polygon", px(pts_mm, spacing))]))
    v = values(df, "lf")
    # the largest inscribed circle touches the slanted edge: diameter just under 4 mm
    assert 3.7 < v["max_thickness"] < 4.0
    assert 2.6 < v["mean_thickness"] < 3.4  # about the mid-length thickness, 3 mm


def test_lf_as_mask_matches_the_polygon():
    spacing = (0.2, 0.2)
    poly = band((40, 40), 15.0, 3.0, 30, spacing)
    mask = polygon2mask((400, 400), poly)
    case = make_case(
        [
            ann("poly", "ligamentum_flavum", "polygon", poly),
            ann("mask", "ligamentum_flavum", "mask", mask=encode(mask)),
        ],
        spacing,
    )
    df = measure(case)
    p, m = values(df, "poly"), values(df, "mask")
    assert m["area"] == pytest.approx(p["area"], rel=0.03)
    assert m["max_thickness"] == pytest.approx(3.0, abs=0.2)
    assert m["mean_thickness"] == pytest.approx(3.0, abs=0.2)
    assert m["length"] == pytest.approx(p["length"], abs=0.3)


# ---------------------------------------------------------------- spinal canal
def test_canal_rectangle():
    canal = band((60, 60), 40.0, 15.0, 90, ANISO)  # long axis vertical
    df = measure(
        make_case([ann("c", "spinal_canal", "polygon", canal, level="L4-L5")], ANISO, planning=True)
    )
    v = values(df, "c")
    assert v["min_width"] == pytest.approx(15.0, abs=0.01)
    assert v["mean_width"] == pytest.approx(15.0, abs=0.01)
    assert v["area"] == pytest.approx(600.0, rel=1e-9)
    assert v["stenosis_grade"] == "normal"
    assert "lf_encroachment" not in v  # no LF drawn at that level


@pytest.mark.parametrize("tilt", [0.0, 15.0])
def test_canal_hourglass_gives_the_waist(tilt):
    # vertical canal 40 mm long, 16 mm wide at both ends, 9 mm at the waist
    half = [(0, 8.0), (20, 4.5), (40, 8.0)]
    right = [(r, c) for r, c in half]
    left = [(r, -c) for r, c in reversed(half)]
    local = np.array(right + left, float) - [20, 0]
    a = math.radians(tilt)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pts_mm = local @ rot.T + [60, 60]
    case = make_case([ann("c", "spinal_canal", "polygon", px(pts_mm, ANISO))], ANISO, planning=True)
    v = values(measure(case), "c")
    assert v["min_width"] == pytest.approx(9.0, abs=0.01)
    # width 9 + 7 |u - 20| / 20 mm; the mean is taken without the outer 5 % at each end
    # (u = 2..38 mm): 9 + 7 * 9 / 20 = 12.15 mm
    assert v["mean_width"] == pytest.approx(12.15, abs=0.01)
    assert v["stenosis_grade"] == "absolute"


def test_canal_with_slanted_end_caps_ignores_the_caps():
    # parallelogram: vertical side walls 12 mm apart, 40 mm long, caps slanted 30°
    rise = 12 * math.tan(math.radians(30))
    pts_mm = [[40, 50], [40 - rise, 62], [80 - rise, 62], [80, 50]]
    case = make_case([ann("c", "spinal_canal", "polygon", px(pts_mm, ANISO))], ANISO, planning=True)
    v = values(measure(case), "c")
    assert v["min_width"] == pytest.approx(12.0, abs=0.01)
    assert v["mean_width"] == pytest.approx(12.0, abs=0.01)
    assert v["stenosis_grade"] == "relative"


@pytest.mark.parametrize("notch_mm", [8.0, 10.0, 14.0, 30.0])
@pytest.mark.parametrize("cap_rise_mm", [0.0, 6.0])
def test_canal_narrowing_near_an_end_is_not_taken_for_a_cap(notch_mm, cap_rise_mm):
    # 40 mm canal, 15 mm wide, a sharp 4 mm long notch to 9 mm (steeper than 45°) centred
    # notch_mm from the top, caps square or slanted (the right wall's ends moved by the rise)
    prof = [(0, 15), (notch_mm - 2, 15), (notch_mm, 9), (notch_mm + 2, 15), (40, 15)]
    right = [[r, 60 + w / 2] for r, w in prof]
    left = [[r, 60 - w / 2] for r, w in reversed(prof)]
    right[0][0] -= cap_rise_mm
    right[-1][0] -= cap_rise_mm
    pts = px(right + left, ANISO)
    v = values(
        measure(make_case([ann("c", "spinal_canal", "polygon", pts)], ANISO, planning=True)), "c"
    )
    assert v["min_width"] == pytest.approx(9.0, abs=0.01)
    assert v["stenosis_grade"] == "absolute"


@pytest.mark.parametrize("cap_depth_mm", [2.0, 4.0, 7.5])
@pytest.mark.parametrize("waist_mm", [None, 9.0])
def test_canal_with_rounded_caps(cap_depth_mm, waist_mm):
    # 15 mm wide, 40 mm long, elliptical caps (7.5 = semicircles), optionally a waist at
    # mid-length: the rounded ends must not count as narrowing
    a = np.linspace(0, np.pi, 41)
    top = np.stack([cap_depth_mm * (1 - np.sin(a)), 60 + 7.5 * np.cos(a)], 1)  # right → left
    bottom = np.stack([40 - cap_depth_mm * (1 - np.sin(a)), 60 - 7.5 * np.cos(a)], 1)
    left, right = [], []
    if waist_mm is not None:
        left = [[20.0, 60 - waist_mm / 2]]
        right = [[20.0, 60 + waist_mm / 2]]
    pts_mm = np.vstack([top, left or np.zeros((0, 2)), bottom, right or np.zeros((0, 2))])
    case = make_case(
        [ann("c", "spinal_canal", "polygon", px(pts_mm + 20, ANISO))], ANISO, planning=True
    )
    v = values(measure(case), "c")
    assert v["min_width"] == pytest.approx(waist_mm or 15.0, abs=0.01)
    assert v["stenosis_grade"] == ("absolute" if waist_mm else "normal")


def test_canal_lf_encroachment_union_of_sides_same_level_only():
    sp = (0.25, 0.25)
    canal = px([[0, 0], [0, 15], [40, 15], [40, 0]], sp)  # 15 x 40 mm
    left = px([[10, 0], [10, 3], [30, 3], [30, 0]], sp)  # 60 mm2 inside
    right = px([[10, 13], [10, 17], [30, 17], [30, 13]], sp)  # 40 mm2 inside
    other = px([[0, 5], [0, 10], [40, 10], [40, 5]], sp)  # another level: ignored
    case = make_case(
        [
            ann("c", "spinal_canal", "polygon", canal + 10, level="L4-L5"),
            ann("l", "ligamentum_flavum", "polygon", left + 10, level="L4/L5", side="left"),
            ann("r", "ligamentum_flavum", "polygon", right + 10, level="L4-L5", side="right"),
            ann("o", "ligamentum_flavum", "polygon", other + 10, level="L3-L4", side="left"),
        ],
        sp,
    )
    v = values(measure(case), "c")
    assert v["lf_encroachment"] == pytest.approx(100 * 100 / 600, abs=0.5)


# ---------------------------------------------------------------- vertebrae
def _vertebra(id, level, sa, sp_, ip, ia, spacing, frame=0):
    return ann(id, "vertebra", "polygon", px([sa, sp_, ip, ia], spacing), level=level, frame=frame)


def test_vertebra_heights_angle_disc_and_slip():
    sp = ANISO
    anns = [
        # L4: posterior height 27, anterior 30, inferior endplate tilted atan(3/40)
        _vertebra("L4", "L4", (100, 140), (100, 100), (127, 100), (130, 140), sp),
        # L5: flat endplates, posterior-superior corner 8 mm behind L4's posterior-inferior one
        _vertebra("L5", "L5", (137, 132), (137, 92), (167, 92), (167, 132), sp),
    ]
    df = measure(make_case(anns, sp))
    v4 = values(df, "L4", level="L4")
    assert v4["anterior_height"] == pytest.approx(30.0, abs=1e-6)
    assert v4["posterior_height"] == pytest.approx(27.0, abs=1e-6)
    assert v4["endplate_angle"] == pytest.approx(math.degrees(math.atan2(3, 40)), abs=1e-6)
    pair = values(df, "L4", level="L4-L5")
    assert pair["slip_percent"] == pytest.approx(20.0, abs=1e-6)
    assert pair["meyerding_grade"] == "i"
    assert pair["disc_height"] == pytest.approx((math.hypot(7, 8) + math.hypot(10, 8)) / 2)
    v5 = values(df, "L5")
    assert v5["endplate_angle"] == pytest.approx(0.0, abs=1e-6)
    assert "slip_percent" not in v5  # no S1 drawn
    assert set(units(df, "L4").values()) <= {"mm", "deg", "%", ""}


def test_aligned_neighbours_have_no_slip_and_other_frames_do_not_pair():
    sp = (0.2, 0.2)
    anns = [
        _vertebra("a", "L2", (0, 40), (0, 0), (32, 0), (30, 40), sp),
        _vertebra("b", "L3", (40, 40), (40, 0), (68, 0), (70, 40), sp),
        _vertebra("c", "L4", (80, 40), (78, 0), (108, 0), (110, 40), sp, frame=1),
    ]
    df = measure(make_case(anns, sp))
    pair = values(df, "a", level="L2-L3")
    assert pair["disc_height"] == pytest.approx((10 + 8) / 2)
    assert pair["slip_percent"] == pytest.approx(0.0, abs=1e-9)
    assert pair["meyerding_grade"] == "none"
    assert set(df[df.annotation_id == "b"].level) == {"L3"}  # L4 is in another frame


@pytest.mark.parametrize(
    ("slip", "grade"),
    [
        (-20, "none"),
        (0, "none"),
        (4.9, "none"),
        (math.nan, "none"),
        (5.0, "i"),
        (24.9, "i"),
        (25.0, "ii"),
        (49.9, "ii"),
        (50.0, "iii"),
        (75.0, "iv"),
        (99.9, "iv"),
        (100.0, "v"),
        (120, "v"),
    ],
)
def test_meyerding_grades(slip, grade):
    assert meyerding_grade(slip) == grade


def test_vertebra_centre_points_give_no_rows():
    df = measure(make_case([ann("v", "vertebra", "point", [[10, 10]], level="L3")]))
    assert df.empty
    assert list(df.columns) == list(COLUMNS)


# ---------------------------------------------------------------- cannula
def test_cannula_angles_contrast_and_lf():
    sp = ANISO
    d = np.array([math.sin(math.radians(30)), math.cos(math.radians(30))])  # 30° below horizontal
    entry = np.array([60.0, 40.0])
    anns = [
        _vertebra("L4", "L4", (100, 140), (100, 100), (127, 100), (130, 140), sp),
        ann("c1", "cannula", "line", px([entry, entry + 40 * d], sp), level="L4-L5", side="left"),
        ann("c2", "cannula", "line", px([entry, entry + 50 * d], sp), level="L4-L5", side="left"),
        ann("c3", "cannula", "line", px([entry, entry + 50 * d], sp), level="L4-L5", side="right"),
        # contrast line: vertical at col 80 mm
        ann(
            "ec",
            "epidural_contrast",
            "path",
            px([[60, 80], [80, 80], [100, 80]], sp),
            level="L4-L5",
            side="left",
        ),
        ann(
            "lf",
            "ligamentum_flavum",
            "polygon",
            px([[75, 70], [75, 78], [90, 78], [90, 70]], sp),
            level="L4-L5",
            side="left",
        ),
    ]
    df = measure(make_case(anns, sp))
    c1, c2, c3 = values(df, "c1"), values(df, "c2"), values(df, "c3")
    assert c1["length"] == pytest.approx(40.0)
    assert c1["angle"] == pytest.approx(30.0)
    assert c1["angle_to_endplate"] == pytest.approx(30 - math.degrees(math.atan2(3, 40)))
    assert c1["tip_to_contrast"] == pytest.approx(80 - (40 + 40 * d[1]))  # short of the line
    assert c2["tip_to_contrast"] == pytest.approx(80 - (40 + 50 * d[1]))  # past it: negative
    assert c2["tip_to_contrast"] < 0 < c1["tip_to_contrast"]
    assert c1["tip_in_lf"] is True and c2["tip_in_lf"] is False
    # the contrast line is a safety boundary whatever its side: c3 (labelled right) is
    # measured against the left line; tip_in_lf needs an LF of its own level and side
    assert c3["tip_to_contrast"] == pytest.approx(c2["tip_to_contrast"])
    assert "tip_in_lf" not in c3
    assert units(df, "c1") == {
        "length": "mm",
        "angle": "deg",
        "angle_to_endplate": "deg",
        "tip_to_contrast": "mm",
        "tip_in_lf": "",
    }


# ---------------------------------------------------------------- interlaminar space
@pytest.mark.parametrize("spacing", [(0.2, 0.2), ANISO])
def test_interlaminar_width_height_area(spacing):
    box = band((50, 50), 20.0, 12.0, 10, spacing)  # 20 mm wide, 12 high, tilted 10°
    case = make_case([ann("i", "interlaminar_space", "polygon", box, level="L4-L5")], spacing)
    df = measure(case)
    v = values(df, "i")
    assert v["width"] == pytest.approx(20.0, abs=1e-6)
    assert v["height"] == pytest.approx(12.0, abs=1e-6)
    assert v["area"] == pytest.approx(240.0, rel=1e-6)


# ---------------------------------------------------------------- anisotropy
def test_anisotropic_spacing_gives_the_same_mm_as_isotropic():
    def case_for(spacing):
        return make_case(
            [
                ann("lf", "ligamentum_flavum", "polygon", band((40, 40), 14, 4.2, 35, spacing)),
                ann("c", "spinal_canal", "polygon", band((40, 70), 36, 14, 80, spacing)),
                ann("i", "interlaminar_space", "polygon", band((70, 40), 18, 9, 5, spacing)),
                ann("k", "cannula", "line", px([[10, 10], [30, 45]], spacing)),
            ],
            spacing,
        )

    a = measure(case_for((0.2, 0.3)))
    b = measure(case_for((0.25, 0.25)))
    assert list(a.name) == list(b.name)
    for name, unit, va, vb in zip(a.name, a.unit, a.value, b.value, strict=True):
        if unit in ("mm", "deg"):
            assert va == pytest.approx(vb, abs=0.1), name
        elif unit in ("mm2", "%"):
            assert va == pytest.approx(vb, rel=0.02, abs=0.2), name
        else:
            assert va == vb, name


def test_bad_mask_is_a_flannot_error():
    bad = {"size": [10, 10], "counts": [5, 3]}  # does not cover 100 pixels
    case = make_case([ann("m", "ligamentum_flavum", "mask", mask=bad)])
    with pytest.raises(FlannotError, match="annotation 'm'"):
        measure(case)


@pytest.mark.parametrize(
    ("width", "grade"),
    [
        (20.0, "normal"),
        (13.01, "normal"),
        (13.0, "relative"),
        (10.0, "relative"),
        (9.99, "absolute"),
    ],
)
def test_stenosis_grade_thresholds_verbiest(width, grade):
    from flannot.measure.canal import stenosis_grade

    assert stenosis_grade(width) == grade


@pytest.mark.parametrize(("thickness", "flag"), [(2.45, False), (2.55, True), (5.0, True)])
def test_hypertrophic_threshold_is_2_5_mm(thickness, flag):
    lf = band((60, 60), 14.0, thickness, 25, ANISO)
    df = measure(make_case([ann("lf", "ligamentum_flavum", "polygon", lf)], ANISO, planning=True))
    assert values(df, "lf")["hypertrophic"] is flag


# ---------------------------------------------------------------- MR/CT criteria
def test_a_projection_never_gets_the_mr_ct_criteria():
    # the same 4 mm band and 8 mm canal that are flagged on a planning slice (SPEC §4)
    lf = band((60, 60), 14.0, 4.0, 25, ANISO)
    canal = band((120, 60), 40.0, 8.0, 90, ANISO)
    anns = [
        ann("lf", "ligamentum_flavum", "polygon", lf, level="L4-L5"),
        ann("c", "spinal_canal", "polygon", canal, level="L4-L5"),
    ]
    projection = measure(make_case(anns, ANISO))
    assert not {"hypertrophic", "stenosis_grade"} & set(projection.name)
    assert values(projection, "lf")["max_thickness"] == pytest.approx(4.0, abs=0.01)
    assert values(projection, "c")["min_width"] == pytest.approx(8.0, abs=0.01)
    planning = measure(make_case(anns, ANISO, planning=True))
    assert values(planning, "lf")["hypertrophic"] is True
    assert values(planning, "c")["stenosis_grade"] == "absolute"
    assert set(planning.calibration) == {"pixel_spacing"}


def test_a_planning_slice_that_is_not_axial_ct_or_mr_gets_no_criteria():
    lf = band((60, 60), 14.0, 4.0, 25, ANISO)
    case = make_case([ann("lf", "ligamentum_flavum", "polygon", lf)], ANISO, planning=True)
    case.planning.extra["plane"] = "sagittal"
    assert "hypertrophic" not in set(measure(case).name)
    case.planning.extra.update(plane="axial", modality="DX")
    assert "hypertrophic" not in set(measure(case).name)
    case.planning.extra["modality"] = "MR"
    assert values(measure(case), "lf")["hypertrophic"] is True
