"""The vectorised band geometry gives the measurements of the implementation it replaced.

``reference_bands.py`` keeps the old code (SciPy distance map, scikit-image
skeleton, one NumPy call per query); the band's maximum and mean thickness must
agree within 1e-9 mm on random bands and on every band of the sample cases, and
``Edges`` must give the bits of the functions it stands for.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from measure_builders import band
from reference_bands import reference_band, reference_band_thickness, reference_hull_points

from flannot.measure import canal, contexts, geometry, measure_rows, regions
from flannot.model.case import Case, case_files
from flannot.protocols import protocol_of

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms"
TOL = 1e-9  # mm


def _new_band(polygon_px: np.ndarray, spacing: tuple[float, float]) -> tuple[float, float]:
    from flannot.measure.context import Region

    region = Region(polygon_px, polygon_px, None, spacing)
    return regions.band_thickness(region.raster, region.dist, spacing, polygon_px)


def _random_bands(n: int, seed: int) -> list[tuple[np.ndarray, tuple[float, float]]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        spacing = (float(rng.uniform(0.08, 0.6)), float(rng.uniform(0.08, 0.6)))
        if i % 3 == 0:  # anisotropic and isotropic pixels alike
            spacing = (spacing[0], spacing[0])
        center = rng.uniform(20, 80, 2)
        poly = band(
            center,
            float(rng.uniform(5, 40)),
            float(rng.uniform(0.8, 8)),
            float(rng.uniform(0, 180)),
            spacing,
        )
        if i % 2:  # a drawn band: its corners moved, extra vertices along its sides
            mids = (poly + np.roll(poly, -1, axis=0)) / 2
            poly = np.stack([poly, mids], axis=1).reshape(-1, 2)
            poly = poly + rng.normal(0, 0.15, poly.shape) / np.asarray(spacing)
        out.append((poly, spacing))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_bands_measure_as_before(seed: int) -> None:
    for poly, spacing in _random_bands(40, seed):
        want = reference_band(poly, spacing)
        got = _new_band(poly, spacing)
        assert got == pytest.approx(want, abs=TOL), (poly.tolist(), spacing)


def test_sample_bands_measure_as_before() -> None:
    seen = 0
    for file in case_files(SAMPLE):
        case = Case.load(file)
        protocol = protocol_of(case)
        for ctx in contexts(case, None, protocol).values():
            for ann in ctx.annotations:
                atype = protocol.find_type(ann.type)
                if atype is None or not any(m.kind == "band" for m in atype.measurements):
                    continue
                poly = ctx.polygon(ann)
                if poly is None:
                    continue
                want = reference_band(poly, ctx.spacing)
                assert _new_band(poly, ctx.spacing) == pytest.approx(want, abs=TOL)
                seen += 1
    assert seen >= 10  # the sample set has ligamentum-flavum bands on many cases


def test_edges_give_the_bits_of_the_plain_functions() -> None:
    rng = np.random.default_rng(5)
    for _ in range(60):
        poly = rng.uniform(-10, 10, (int(rng.integers(3, 30)), 2))
        pts = rng.uniform(-12, 12, (int(rng.integers(1, 300)), 2))
        pts[: len(poly)] = poly[: len(pts)]  # on vertices too
        edges = geometry.Edges(poly)
        d, inside = edges.distance_inside(pts)
        assert np.array_equal(d, geometry.polygon_boundary_distance(pts, poly))
        assert np.array_equal(inside, geometry.points_in_polygon(pts, poly))
        assert np.array_equal(edges.distance(pts), d)
        assert np.array_equal(edges.contains(pts), inside)


def test_edges_work_in_blocks_on_big_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    poly = rng.uniform(-10, 10, (50, 2))
    pts = rng.uniform(-12, 12, (400, 2))
    whole = geometry.Edges(poly).distance_inside(pts)
    monkeypatch.setattr(geometry, "BLOCK_PAIRS", 999)  # 19 points a block
    blocked = geometry.Edges(poly).distance_inside(pts)
    assert np.array_equal(whole[0], blocked[0]) and np.array_equal(whole[1], blocked[1])


def _rows_close(got: list, want: list) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert dataclasses.replace(a, value=0) == dataclasses.replace(b, value=0)
        if isinstance(b.value, float) and not isinstance(b.value, bool):
            assert a.value == pytest.approx(b.value, abs=TOL, nan_ok=True), (a, b)
        else:
            assert a.value == b.value, (a, b)


def test_every_sample_measurement_is_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """All rows of the sample set, new code vs old band geometry and old (Qhull) hulls."""
    cases = [Case.load(f) for f in case_files(SAMPLE)]
    new = [measure_rows(c) for c in cases]
    monkeypatch.setattr(regions, "band_thickness", reference_band_thickness)
    monkeypatch.setattr(geometry, "hull_points", reference_hull_points)
    old = [measure_rows(c) for c in cases]
    assert sum(map(len, old)) > 300
    for got, want in zip(new, old, strict=True):
        _rows_close(got, want)


def test_large_outline_hulls_are_qhulls() -> None:
    """Outlines of more than 64 points no longer go to Qhull: same hull, same measures."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(65, 400))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radius = rng.uniform(5, 9) + rng.normal(0, 0.4, n)
        outline = np.stack([radius * np.sin(angles), 1.7 * radius * np.cos(angles)], axis=1)
        outline = outline + rng.uniform(-50, 50, 2)
        new = geometry.hull_points(outline)
        old = reference_hull_points(outline)
        assert sorted(map(tuple, new.tolist())) == sorted(map(tuple, old.tolist()))
        assert geometry.max_feret(outline) == geometry.max_feret(old)
        got = canal.cross_sections(outline)
        geometry_hull, geometry.hull_points = geometry.hull_points, reference_hull_points
        try:
            want = canal.cross_sections(outline)
        finally:
            geometry.hull_points = geometry_hull
        assert got == pytest.approx(want, abs=TOL)


def test_bands_measured_together_measure_as_alone() -> None:
    """band_thickness_many over bands of many shapes and spacings: each as the old code."""
    from flannot.measure.context import Region

    items = _random_bands(60, 11)
    inputs = []
    for poly, spacing in items:
        region = Region(poly, poly, None, spacing)
        inputs.append((region.raster, region.dist, spacing, poly))
    got = regions.band_thickness_many(inputs)
    for (poly, spacing), value in zip(items, got, strict=True):
        assert value == pytest.approx(reference_band(poly, spacing), abs=TOL)


def test_skeleton_cells_found_together_are_found_as_alone() -> None:
    """_skeleton_cells_many (skeletons stacked, end points measured in one pass) gives
    each raster's _skeleton_cells, whatever the thickness that trims the spurs."""
    items = _random_bands(60, 12)
    rasters = regions.rasterize_polygons([p for p, _ in items], [s for _, s in items])
    rasters.append(regions.grid_for_box(np.zeros(2), np.full(2, 5.0), (0.3, 0.3)))  # empty
    rng = np.random.default_rng(13)
    for max_t in (
        rng.uniform(0.5, 6, len(rasters)),
        np.zeros(len(rasters)),
        np.full(len(rasters), 1e9),
    ):
        got = regions._skeleton_cells_many(rasters, max_t)
        for raster, t, idx in zip(rasters, max_t, got, strict=True):
            want = regions._skeleton_cells(raster, float(t))
            if want is None:
                assert idx is None
            else:
                assert idx is not None and np.array_equal(idx, want) and len(idx)
    assert got[-1] is None


def test_seeds_found_together_are_found_as_alone() -> None:
    """_seeds (all distance maps in one pass) gives each band's seeds as inscribed_diameter
    picks them: the cells inside within 1.5 cells of the EDT maximum, the best 2000 when more."""
    from flannot.measure.context import Region

    items = _random_bands(30, 14)
    items.append((np.array([[10, 10], [10, 1500], [22, 1500], [22, 10]], float), (0.1, 0.1)))
    bands = []
    for poly, spacing in items:
        region = Region(poly, poly, None, spacing)
        bands.append((region.raster, region.dist, spacing, poly))
    cells = np.array([max(r.cell_mm) for r, _, _, _ in bands])
    got = regions._seeds(bands, cells)
    for (raster, dist, spacing, _), cell, pts in zip(bands, cells, got, strict=True):
        flat = dist.ravel()
        near = np.flatnonzero((flat >= float(dist.max()) - 1.5 * cell) & raster.mask.ravel())
        if near.size > 2000:
            near = near[np.argpartition(flat[near], -2000)[-2000:]]
        idx = np.stack(np.unravel_index(near, dist.shape), axis=1)
        assert np.array_equal(pts, raster.centers_mm(idx, spacing))
    assert len(got[-1]) == 2000  # the long flat band has more seeds than that


def _straight_band(width_mm: float, length_mm: float, angle_deg: float, spacing: float):
    """A width × length rectangle turned by ``angle_deg``, in pixel coordinates."""
    a = np.deg2rad(angle_deg)
    along = np.array([np.sin(a), np.cos(a)])
    across = np.array([np.cos(a), -np.sin(a)])
    centre = np.array([60.0, 70.0]) * spacing
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    pts = [centre + s * length_mm / 2 * along + t * width_mm / 2 * across for s, t in corners]
    return np.array(pts) / spacing


@pytest.mark.parametrize("width", [0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0])
def test_thin_bands_measure_their_width(width: float) -> None:
    """A straight band measures its own width however thin, alone or with others (a band
    narrower than a pixel that holds no pixel centre is rasterised on a finer grid).

    Bands under ~3 cells thick took a seed outside the band (its bound fell below
    zero), far from the edges: a 1 mm band at 45° with 0.5 mm pixels measured a
    21.8 mm maximum thickness, the same band at 0° a mean of 0.
    """
    from flannot.measure.context import Region

    spacing = 0.5
    bands = []
    for angle in (0.0, 30.0, 45.0, 90.0):
        for length in (20.0, 60.0):
            poly = _straight_band(width, length, angle, spacing)
            region = Region(poly, poly, None, (spacing, spacing))
            bands.append((region.raster, region.dist, (spacing, spacing), poly))
            assert region.raster.mask.any()
            together_raster = regions.rasterize_polygons([poly], [(spacing, spacing)])[0]
            assert np.array_equal(together_raster.mask, region.raster.mask)
            assert together_raster.cell_mm == region.raster.cell_mm
    together = regions.band_thickness_many(bands)
    for (raster, dist, sp, poly), (max_t, mean_t) in zip(bands, together, strict=True):
        alone_max = regions.inscribed_diameter(raster, dist, sp, poly)
        alone_mean = regions.skeleton_mean_thickness(raster, dist, alone_max, sp, poly)
        assert (max_t, mean_t) == pytest.approx((alone_max, alone_mean), abs=1e-9)
        assert max_t == pytest.approx(width, abs=0.01)
        assert 0.85 * width <= mean_t <= width + 0.01
