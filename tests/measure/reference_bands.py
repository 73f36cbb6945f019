"""The ligamentum-flavum band geometry as it was before it was vectorised (issue 17).

A verbatim copy of ``flannot.measure.regions``' exact band measures (largest
inscribed circle, ridge-following mean thickness) and of the raster and SciPy
distance map they ran on, kept as the reference the faster implementation must
reproduce within 1e-9 mm (``test_measure_band_reference.py``) — with the two
corrections made since: the seeds are cells inside the band only (in a band under
~3 cells thick the seed bound fell below zero and a cell outside, far from the
edges, won: a 1 mm band measured 21 mm), and a climb takes the farthest move that
stays inside (it stood still when the farthest one left the band).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from flannot.measure import geometry as g
from flannot.measure import regions
from flannot.measure.regions import Raster


def reference_band(polygon_px: np.ndarray, spacing: tuple[float, float]) -> tuple[float, float]:
    """``(max_thickness, mean_thickness)`` of a polygon band, the old way."""
    raster = regions.rasterize_polygon(polygon_px, spacing)
    dist = ndimage.distance_transform_edt(raster.mask, sampling=raster.cell_mm)
    max_t = inscribed_diameter(raster, dist, spacing, polygon_px)
    return max_t, skeleton_mean_thickness(raster, dist, max_t, spacing, polygon_px)


def _refine_inscribed(
    start_mm: np.ndarray, radius: float, polygon_mm: np.ndarray, step_mm: float
) -> float:
    """Pattern search for the largest inscribed circle near ``start_mm`` (exact polygon)."""
    best_p, best_r = start_mm, radius
    offs = np.stack(np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 7)), -1).reshape(-1, 2)
    step = step_mm
    for _ in range(5):
        cand = best_p + offs * step
        cand = cand[g.points_in_polygon(cand, polygon_mm)]
        if len(cand):
            r = g.polygon_boundary_distance(cand, polygon_mm)
            k = int(np.argmax(r))
            if r[k] > best_r:
                best_p, best_r = cand[k], float(r[k])
        step /= 3.0
    return best_r


def inscribed_diameter(
    raster: Raster,
    dist: np.ndarray,
    spacing: tuple[float, float],
    polygon_px: np.ndarray | None = None,
) -> float:
    """Diameter of the largest inscribed circle (mm), the EDT maximum refined when exact.

    For a polygon every cell near the EDT maximum (the maximum is often a
    plateau of ties) climbs to the ridge of the exact distance to the edges
    (:func:`ridge_distances`) and the best is polished by a finer local search,
    so the result does not depend on the grid (to ~1 µm on the tests); for a
    mask it is ``2 × max`` of the bias-corrected EDT.
    """
    if not raster.mask.any():
        return 0.0
    dmax = float(dist.max())
    if polygon_px is None:
        return 2.0 * dmax
    poly_mm = g.to_mm(polygon_px, spacing)
    cell = max(raster.cell_mm)
    flat = dist.ravel()
    # the optimum's cell has an EDT within ~1.42 cells of the maximum
    near = np.flatnonzero((flat >= dmax - 1.5 * cell) & raster.mask.ravel())
    if near.size > 2000:
        near = near[np.argpartition(flat[near], -2000)[-2000:]]
    idx = np.stack(np.unravel_index(near, dist.shape), axis=1)
    pts = raster.centers_mm(idx, spacing)
    r = g.polygon_boundary_distance(pts, poly_mm)
    if len(r) > 32:  # climb from the best few seeds only (ties are on a plateau anyway)
        top = np.argpartition(r, -32)[-32:]
        pts, r = pts[top], r[top]
    r, reached = ridge_distances(pts, poly_mm, cell, iterations=3)
    k = int(np.argmax(r))
    best = _refine_inscribed(reached[k], float(r[k]), poly_mm, cell / 8)
    return 2.0 * best


def ridge_distances(
    start_mm: np.ndarray, polygon_mm: np.ndarray, cell_mm: float, iterations: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Exact boundary distance on the ridge next to each of ``start_mm`` (K, 2).

    A skeleton cell sits up to half a cell off the medial axis, where the
    distance is up to half a cell short. Each point climbs (all points at once,
    a 3 × 3 pattern search with halving steps, at most one cell in all) to the
    largest exact distance to the polygon's edges; a move that would leave the
    polygon is refused. Returns the distances and the points reached.
    """
    pts = np.asarray(start_mm, float).copy()
    best = g.polygon_boundary_distance(pts, polygon_mm)
    offs = np.array([[a, b] for a in (-1, 0, 1) for b in (-1, 0, 1) if a or b], float)
    rows = np.arange(len(pts))
    step = cell_mm / 2
    for _ in range(iterations):
        cand = (pts[:, None, :] + offs[None] * step).reshape(-1, 2)
        d = g.polygon_boundary_distance(cand, polygon_mm).reshape(len(pts), len(offs))
        inside = g.points_in_polygon(cand, polygon_mm).reshape(len(pts), len(offs))
        d = np.where(inside, d, -np.inf)
        k = np.argmax(d, axis=1)
        moved = pts + offs[k] * step
        better = d[rows, k] > best
        pts[better] = moved[better]
        best[better] = d[rows, k][better]
        step /= 2
    return best, pts


def skeleton_mean_thickness(
    raster: Raster,
    dist: np.ndarray,
    max_thickness: float,
    spacing: tuple[float, float] | None = None,
    polygon_px: np.ndarray | None = None,
    max_points: int = 80,
) -> float:
    """Mean local thickness (2 × boundary distance) along the medial axis.

    The medial axis is the skeleton of the rasterised region. Its spurs into the
    region's corners (where the distance falls to zero) would drag the mean
    down, so skeleton cells within ``max_thickness`` of a skeleton end point are
    left out — unless that would leave nothing. A skeleton cell sits up to half
    a cell off the true axis: for a polygon the distance is taken on the ridge
    next to it (:func:`ridge_distances`, exact edges, at most ``max_points``
    evenly spread skeleton cells); for a mask, as the largest bias-corrected EDT
    value within the cell's 5 × 5 neighbourhood.
    """
    from skimage.morphology import skeletonize  # imported on first use: slow to import

    skel = skeletonize(raster.mask)
    if not skel.any():
        return 2.0 * float(dist.max()) if raster.mask.any() else 0.0
    idx = np.argwhere(skel)
    nbrs = ndimage.convolve(skel.astype(np.uint8), np.ones((3, 3), np.uint8), mode="constant")
    ends = skel & (nbrs == 2)  # itself + one neighbour
    if ends.any():
        cell = np.asarray(raster.cell_mm)
        ep = np.argwhere(ends) * cell
        d_end = np.hypot(*((idx * cell)[:, None, :] - ep[None]).transpose(2, 0, 1)).min(axis=1)
        keep = d_end > max_thickness
        if keep.any():
            idx = idx[keep]
    if polygon_px is not None and spacing is not None:
        if len(idx) > max_points:
            idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(int)]
        vals, _ = ridge_distances(
            raster.centers_mm(idx, spacing), g.to_mm(polygon_px, spacing), max(raster.cell_mm)
        )
    else:
        ridge = ndimage.maximum_filter(dist, footprint=np.ones((5, 5), bool), mode="constant")
        vals = ridge[idx[:, 0], idx[:, 1]]
    return 2.0 * float(vals.mean())


def reference_hull_points(points: np.ndarray) -> np.ndarray:
    """``geometry.hull_points`` before issue 17: Qhull beyond 64 points."""
    pts = g.as_points(points)
    if len(pts) < 3:
        return pts
    if len(pts) <= 64:
        return g._monotone_chain(pts)
    from scipy.spatial import ConvexHull, QhullError

    try:
        return pts[ConvexHull(pts).vertices]
    except (QhullError, ValueError):  # collinear or repeated points
        return pts


def reference_band_thickness(
    raster: Raster,
    dist: np.ndarray,
    spacing: tuple[float, float],
    polygon_px: np.ndarray | None = None,
) -> tuple[float, float]:
    """``regions.band_thickness`` before issue 17 (SciPy's distance map for polygons)."""
    if polygon_px is not None:
        dist = ndimage.distance_transform_edt(raster.mask, sampling=raster.cell_mm)
    max_t = inscribed_diameter(raster, dist, spacing, polygon_px)
    return max_t, skeleton_mean_thickness(raster, dist, max_t, spacing, polygon_px)
