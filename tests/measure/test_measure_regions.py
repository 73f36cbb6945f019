"""Rasterisation and distance maps; masks; hostile sizes."""

from __future__ import annotations

import numpy as np
import pytest
from measure_builders import ann, band, make_case, values
from skimage.draw import polygon2mask
from skimage.measure import points_in_poly

from flannot.measure import measure, regions
from flannot.model.rle import encode


def test_scanline_fill_matches_point_in_polygon():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:50, 0:60]
    centres = np.stack([yy.ravel(), xx.ravel()], axis=1).astype(float)
    for _ in range(50):
        poly = rng.uniform(-8, 65, (int(rng.integers(3, 14)), 2))  # may self-intersect, clip
        got = regions.fill_polygon((50, 60), poly)
        want = points_in_poly(centres, poly).reshape(50, 60)
        assert np.array_equal(got, want)


def test_polygons_filled_together_are_filled_as_alone(monkeypatch: pytest.MonkeyPatch):
    """fill_polygons (many polygons per NumPy pass) gives each fill_polygon's mask."""
    rng = np.random.default_rng(4)
    shapes, polys = [], []
    for i in range(300):
        shape = (int(rng.integers(1, 70)), int(rng.integers(1, 70)))
        n = int(rng.integers(3, 9))  # several polygons per vertex count
        poly = rng.uniform(-10, 80, (n, 2))  # may self-intersect, lie partly or wholly off grid
        if i % 4 == 0:  # vertices and edges on scan lines and cell centres
            poly = np.round(poly)
        if i % 7 == 0:  # a horizontal edge
            poly[1, 0] = poly[0, 0]
        shapes.append(shape)
        polys.append(poly)
    want = [regions.fill_polygon(s, p) for s, p in zip(shapes, polys, strict=True)]
    for pairs in (regions.FILL_PAIRS, 50):  # one batch per vertex count, and many
        monkeypatch.setattr(regions, "FILL_PAIRS", pairs)
        got = regions.fill_polygons(shapes, polys)
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
    assert sum(m.any() for m in want) > 100  # most fill something


def test_polygons_rasterized_together_are_rasterized_as_alone():
    rng = np.random.default_rng(5)
    items = []
    for _ in range(40):
        spacing = (float(rng.uniform(0.1, 0.5)), float(rng.uniform(0.1, 0.5)))
        items.append(
            (band(rng.uniform(20, 80, 2), 15, 2, float(rng.uniform(0, 180)), spacing), spacing)
        )
    got = regions.rasterize_polygons([p for p, _ in items], [s for _, s in items])
    for (poly, spacing), r in zip(items, got, strict=True):
        want = regions.rasterize_polygon(poly, spacing)
        assert np.array_equal(r.mask, want.mask) and r.mask.any()
        assert (r.origin, r.step, r.cell_mm) == (want.origin, want.step, want.cell_mm)


def test_boundary_distance_corrects_the_half_cell_bias():
    mask = np.zeros((40, 60), bool)
    mask[10:23, 5:55] = True  # 13 cells thick: the boundary is half a cell beyond them
    r = regions.Raster(mask, (0.0, 0.0), (1.0, 1.0), (0.25, 0.3))
    d = regions.boundary_distance(r)
    assert 2 * d.max() == pytest.approx(13 * 0.25)  # the plain EDT says 14 cells
    mask[:] = False
    mask[5:35, 20:31] = True  # 11 cells wide along the columns
    d = regions.boundary_distance(r)
    assert 2 * d.max() == pytest.approx(11 * 0.3)


def test_raster_stays_inside_its_bounding_box_and_cell_budget():
    spacing = (0.2, 0.2)
    poly = band((50, 50), 15, 3, 30, spacing)
    r = regions.rasterize_polygon(poly, spacing)
    extent = (poly.max(axis=0) - poly.min(axis=0)) / np.asarray(r.step)
    assert r.mask.shape[0] <= extent[0] + 4 and r.mask.shape[1] <= extent[1] + 4
    huge = np.array([[0, 0], [0, 1e7], [1e7, 1e7], [1e7, 0]], float)
    assert regions.rasterize_polygon(huge, spacing).mask.size <= regions.MAX_CELLS * 1.1


def test_large_mask_raster_is_bounded():
    mask = np.zeros((3000, 3000), bool)
    mask[100:2900, 1000:2000] = True  # 1000 px thick
    r = regions.rasterize_mask(mask, (0.1, 0.1))
    assert r.mask.size <= regions.MAX_CELLS * 1.1
    d = regions.boundary_distance(r)
    assert 2 * d.max() == pytest.approx(100.0, abs=1.0)  # 1000 px x 0.1 mm, coarser cells


def test_huge_polygon_is_measured_without_allocating_the_world():
    huge = [[0, 0], [0, 1.3e5], [1.3e5, 1.3e5], [1.3e5, 0]]  # case files cap |coord| at 131072
    df = measure(make_case([ann("lf", "ligamentum_flavum", "polygon", huge)], (0.2, 0.2)))
    v = values(df, "lf")
    assert v["max_thickness"] == pytest.approx(2.6e4, rel=1e-3)
    assert v["area"] == pytest.approx(6.76e8, rel=1e-9)


def test_canal_and_interlaminar_as_masks():
    sp = (0.2, 0.2)
    canal = band((40, 40), 40, 15, 90, sp)
    window = band((40, 80), 20, 12, 0, sp)
    shape = (400, 500)
    case = make_case(
        [
            ann("c", "spinal_canal", "mask", mask=encode(polygon2mask(shape, canal))),
            ann("i", "interlaminar_space", "mask", mask=encode(polygon2mask(shape, window))),
        ],
        sp,
    )
    df = measure(case)
    c, i = values(df, "c"), values(df, "i")
    assert c["min_width"] == pytest.approx(15.0, abs=0.3)
    assert c["mean_width"] == pytest.approx(15.0, abs=0.3)
    assert c["area"] == pytest.approx(600.0, rel=0.02)
    assert i["width"] == pytest.approx(20.0, abs=0.3)
    assert i["height"] == pytest.approx(12.0, abs=0.3)


def test_encroachment_by_a_mask_lf():
    sp = (0.25, 0.25)
    canal = np.array([[0, 0], [0, 15], [40, 15], [40, 0]], float) / 0.25 + 10.3
    lf = np.zeros((300, 300), bool)
    lf[10 + 40 : 10 + 120, 10 : 10 + 12] = True  # 80 x 12 px inside (minus the edge ring)
    case = make_case(
        [
            ann("c", "spinal_canal", "polygon", canal, level="L4-L5"),
            ann("l", "ligamentum_flavum", "mask", mask=encode(lf), level="L4-L5", side="left"),
        ],
        sp,
    )
    v = values(measure(case), "c")
    # the LF covers rows 50..129 and cols 10.3..21 of the canal: ~80 x 10.7 px of 60 x 160 px
    assert v["lf_encroachment"] == pytest.approx(100 * 80 * 10.7 / (60 * 160), abs=1.0)


def test_measures_pair_annotations_of_the_same_frame_only():
    sp = (0.2, 0.2)
    line = np.array([[0, 80], [100, 80]], float) / 0.2
    k = np.array([[50, 40], [50, 70]], float) / 0.2
    case = make_case(
        [
            ann("ec1", "epidural_contrast", "path", line, frame=1, level="L4-L5", side="left"),
            ann("k0", "cannula", "line", k, frame=0, level="L4-L5", side="left"),
            ann("k1", "cannula", "line", k, frame=1, level="L4-L5", side="left"),
        ],
        sp,
    )
    df = measure(case)
    assert "tip_to_contrast" not in values(df, "k0")
    assert values(df, "k1")["tip_to_contrast"] == pytest.approx(10.0)
    assert set(df[df.annotation_id == "k1"].frame) == {1}


@pytest.mark.parametrize("spacing", [(0.2, 0.3), (0.3, 0.2), (0.15, 0.4)])
@pytest.mark.parametrize("angle", [0, 17, 45, 80])
def test_masks_with_anisotropic_pixels_are_within_half_a_millimetre(spacing, angle):
    # the bound for pixel data: widths/thicknesses within 0.5 mm; areas within 5 %
    lf = band((40, 40), 15.0, 3.0, angle, spacing)
    canal = band((40, 90), 40.0, 15.0, 90 - angle / 4, spacing)
    window = band((90, 50), 20.0, 12.0, angle / 4, spacing)
    shape = (800, 800)

    def mask(poly):
        return encode(polygon2mask(shape, poly))

    case = make_case(
        [
            ann("lf", "ligamentum_flavum", "mask", mask=mask(lf), level="L4-L5", side="left"),
            ann("c", "spinal_canal", "mask", mask=mask(canal), level="L4-L5"),
            ann("i", "interlaminar_space", "mask", mask=mask(window), level="L4-L5"),
        ],
        spacing,
    )
    df = measure(case)
    v, c, i = values(df, "lf"), values(df, "c"), values(df, "i")
    assert v["max_thickness"] == pytest.approx(3.0, abs=0.5)
    assert v["mean_thickness"] == pytest.approx(3.0, abs=0.5)
    assert v["length"] == pytest.approx(float(np.hypot(15, 3)), abs=0.5)
    assert v["area"] == pytest.approx(45.0, rel=0.05)
    assert c["min_width"] == pytest.approx(15.0, abs=0.5)
    assert c["mean_width"] == pytest.approx(15.0, abs=0.5)
    assert c["area"] == pytest.approx(600.0, rel=0.05)
    assert i["width"] == pytest.approx(20.0, abs=0.5)
    assert i["height"] == pytest.approx(12.0, abs=0.5)
    assert i["area"] == pytest.approx(240.0, rel=0.05)
    assert c["lf_encroachment"] == 0.0  # the LF lies beside the canal
    assert set(df.calibration) == {"magnification_corrected"}


def test_freehand_outline_of_thousands_of_vertices_needs_bounded_memory():
    import tracemalloc

    # a smooth freehand canal with a waist, 4000 vertices (napari's freehand polygon tool)
    sp = (0.2, 0.2)
    t = np.linspace(0, 40, 2000)
    w = 15 - 6 * np.exp(-(((t - 20) / 3) ** 2))
    right = np.stack([t, 60 + w / 2], 1)
    left = np.stack([t[::-1], 60 - w[::-1] / 2], 1)
    pts = np.vstack([right, left]) / np.asarray(sp)
    case = make_case(
        [
            ann("c", "spinal_canal", "polygon", pts, level="L4-L5"),
            ann("l", "ligamentum_flavum", "polygon", pts, level="L4-L5", side="left"),
        ],
        sp,
    )
    tracemalloc.start()
    try:
        df = measure(case)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert values(df, "c")["min_width"] == pytest.approx(9.0, abs=0.01)
    assert values(df, "l")["max_thickness"] == pytest.approx(15.0, abs=0.01)
    assert peak < 150 * 2**20, f"{peak / 2**20:.0f} MB"  # point-by-edge arrays are blocked
