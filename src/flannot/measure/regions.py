"""Regions (polygons and masks) as small supersampled rasters, and the measures on them.

A region is rasterised only inside its bounding box (plus a margin), never on
the full image, on a grid whose cells are about ``min(spacing) / 2`` square in
millimetres (the pixel spacing may be anisotropic: the grid steps along rows
and columns differ so that the cells are square in mm). Distances come from
``scipy.ndimage.distance_transform_edt`` with the cell size as ``sampling``
and are corrected for the half-cell bias of a discrete mask (a cell is inside
when its centre is, so the true boundary lies half a cell beyond the last inside
centre). For polygons the largest inscribed circle is then refined against the
exact polygon edges, so the result does not depend on the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.draw import polygon2mask
from skimage.measure import find_contours
from skimage.morphology import skeletonize

from flannot.measure import geometry as g

# Upper bound on cells per region raster: keeps a huge (or hostile) polygon from
# allocating more than a few MB; the grid just gets coarser.
MAX_CELLS = 250_000
# Cells per pixel along the finer axis (0.1 mm cells at 0.2 mm pixels): polygons are
# refined against their exact edges, so the grid only has to find the ridge.
SUPERSAMPLE = 2


@dataclass
class Raster:
    """A boolean grid covering part of the image.

    Cell ``[i, j]`` has its centre at image pixel coordinates
    ``(origin[0] + i * step[0], origin[1] + j * step[1])``; ``cell_mm`` is its size
    in the measurement unit (mm, or px when uncalibrated).
    """

    mask: np.ndarray
    origin: tuple[float, float]
    step: tuple[float, float]
    cell_mm: tuple[float, float]

    def centers_mm(self, idx: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
        """Centres of the cells ``idx`` (K, 2) in image coordinates scaled by ``spacing``."""
        px = np.asarray(self.origin) + np.asarray(idx, float) * np.asarray(self.step)
        return px * np.asarray(spacing)

    def to_cells(self, points_px: np.ndarray) -> np.ndarray:
        """Image pixel coordinates → fractional cell coordinates of this grid."""
        return (g.as_points(points_px) - np.asarray(self.origin)) / np.asarray(self.step)

    @property
    def cell_area(self) -> float:
        return self.cell_mm[0] * self.cell_mm[1]


def _grid_steps(
    spacing: tuple[float, float], extent_px: tuple[float, float], max_cells: int
) -> tuple[float, float]:
    """Cell size in pixels along rows and cols: square in mm, within ``max_cells``."""
    h = min(spacing) / SUPERSAMPLE
    area_mm2 = (extent_px[0] * spacing[0]) * (extent_px[1] * spacing[1])
    h = max(h, math.sqrt(area_mm2 / max_cells))
    return h / spacing[0], h / spacing[1]


def grid_for_box(
    lo_px: np.ndarray,
    hi_px: np.ndarray,
    spacing: tuple[float, float],
    max_cells: int = MAX_CELLS,
) -> Raster:
    """An empty raster covering the box ``lo_px``–``hi_px`` (image pixel coordinates)."""
    lo = np.asarray(lo_px, float)
    hi = np.asarray(hi_px, float)
    step = _grid_steps(spacing, tuple(hi - lo + 2.0), max_cells)
    # one cell of margin beyond the box on every side keeps background around
    origin = lo - np.asarray(step)
    shape = np.ceil((hi - lo) / np.asarray(step)).astype(int) + 3
    return Raster(
        mask=np.zeros(tuple(shape), dtype=bool),
        origin=(float(origin[0]), float(origin[1])),
        step=(float(step[0]), float(step[1])),
        cell_mm=(float(step[0] * spacing[0]), float(step[1] * spacing[1])),
    )


def draw_polygon(raster: Raster, polygon_px: np.ndarray) -> np.ndarray:
    """Cells of ``raster``'s grid whose centres fall inside ``polygon_px`` (clipped)."""
    return polygon2mask(raster.mask.shape, raster.to_cells(polygon_px))


def rasterize_polygon(
    polygon_px: np.ndarray, spacing: tuple[float, float], max_cells: int = MAX_CELLS
) -> Raster:
    """Supersampled raster of a polygon inside its own bounding box."""
    pts = g.as_points(polygon_px)
    r = grid_for_box(pts.min(axis=0), pts.max(axis=0), spacing, max_cells)
    r.mask = draw_polygon(r, pts)
    return r


def rasterize_mask(
    mask: np.ndarray, spacing: tuple[float, float], max_cells: int = MAX_CELLS
) -> Raster | None:
    """A full-image boolean mask cropped to its bounding box, upsampled to square cells.

    Returns ``None`` for an empty mask. Upsampling by pixel replication adds no
    information; it makes the cells square in mm so that skeletons and distances
    are not skewed by anisotropic pixels.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box = np.pad(mask[r0:r1, c0:c1], 1)
    step = _grid_steps(spacing, box.shape, max_cells)
    fr = max(1, round(1 / step[0]))
    fc = max(1, round(1 / step[1]))
    if box.size * fr * fc > max_cells:
        fr = fc = 1
    up = np.repeat(np.repeat(box, fr, axis=0), fc, axis=1) if fr * fc > 1 else box
    # cell i of the upsampled box: pixel (r0 - 1) - 0.5 + (i + 0.5) / fr
    origin = (r0 - 1 - 0.5 + 0.5 / fr, c0 - 1 - 0.5 + 0.5 / fc)
    return Raster(
        mask=up,
        origin=(float(origin[0]), float(origin[1])),
        step=(1.0 / fr, 1.0 / fc),
        cell_mm=(spacing[0] / fr, spacing[1] / fc),
    )


def boundary_distance(raster: Raster) -> np.ndarray:
    """Distance (mm) from each inside cell centre to the region's boundary; 0 outside.

    ``distance_transform_edt`` gives the distance to the nearest *outside cell
    centre*; the boundary lies on the way to it, where the ray enters that
    outside cell, so that part of the ray is subtracted (½ cell for an
    axis-aligned ray).
    """
    sampling = raster.cell_mm
    dist, inds = ndimage.distance_transform_edt(raster.mask, sampling=sampling, return_indices=True)
    inside = raster.mask
    ii, jj = np.nonzero(inside)
    dy = (inds[0][ii, jj] - ii) * sampling[0]
    dx = (inds[1][ii, jj] - jj) * sampling[1]
    d = dist[ii, jj]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_y = np.where(dy != 0, 0.5 * sampling[0] * d / np.abs(dy), np.inf)
        t_x = np.where(dx != 0, 0.5 * sampling[1] * d / np.abs(dx), np.inf)
    out = np.zeros_like(dist)
    out[ii, jj] = d - np.minimum(t_y, t_x)
    return out


def _refine_inscribed(
    start_mm: np.ndarray, radius: float, polygon_mm: np.ndarray, step_mm: float
) -> float:
    """Pattern search for the largest inscribed circle near ``start_mm`` (exact polygon)."""
    best_p, best_r = start_mm, radius
    offs = np.stack(np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 7)), -1).reshape(-1, 2)
    step = step_mm
    for _ in range(4):
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

    For a polygon the distance to the exact edges is evaluated at the cells near
    the EDT maximum and then refined by a local search, so the result is exact
    to ~1 µm; for a mask it is ``2 × max`` of the bias-corrected EDT.
    """
    if not raster.mask.any():
        return 0.0
    dmax = float(dist.max())
    if polygon_px is None:
        return 2.0 * dmax
    poly_mm = g.to_mm(polygon_px, spacing)
    flat = dist.ravel()
    near = np.flatnonzero(flat >= dmax - 2.0 * max(raster.cell_mm))
    if near.size > 400:  # the best few hundred are plenty to seed the search
        near = near[np.argpartition(flat[near], -400)[-400:]]
    idx = np.stack(np.unravel_index(near, dist.shape), axis=1)
    pts = raster.centers_mm(idx, spacing)
    r = g.polygon_boundary_distance(pts, poly_mm)
    k = int(np.argmax(r))
    best = _refine_inscribed(pts[k], float(r[k]), poly_mm, max(raster.cell_mm))
    return 2.0 * best


def skeleton_mean_thickness(
    raster: Raster,
    dist: np.ndarray,
    max_thickness: float,
    spacing: tuple[float, float] | None = None,
    polygon_px: np.ndarray | None = None,
) -> float:
    """Mean local thickness (2 × boundary distance) along the medial axis.

    The skeleton of a rasterised outline zig-zags up to a cell off the true
    medial axis, so each skeleton cell takes the largest distance within its
    5 × 5 neighbourhood (the ridge it sits on); for a polygon those distances
    are to the exact edges. The skeleton's spurs into the region's corners
    (where the distance falls to zero) would drag the mean down, so skeleton
    cells within ``max_thickness`` of a skeleton end point are left out —
    unless that would leave nothing.
    """
    skel = skeletonize(raster.mask)
    if not skel.any():
        return 2.0 * float(dist.max()) if raster.mask.any() else 0.0
    footprint = np.ones((5, 5), bool)
    if polygon_px is not None and spacing is not None:
        near = ndimage.binary_dilation(skel, footprint) & raster.mask
        idx = np.argwhere(near)
        local = np.zeros(raster.mask.shape)
        local[near] = g.polygon_boundary_distance(
            raster.centers_mm(idx, spacing), g.to_mm(polygon_px, spacing)
        )
    else:
        local = dist
    ridge = ndimage.maximum_filter(local, footprint=footprint, mode="constant")
    nbrs = ndimage.convolve(skel.astype(np.uint8), np.ones((3, 3), np.uint8), mode="constant")
    ends = skel & (nbrs == 2)  # itself + one neighbour
    vals = ridge[skel]
    if ends.any():
        cell = np.asarray(raster.cell_mm)
        sk = np.argwhere(skel) * cell
        ep = np.argwhere(ends) * cell
        d_end = np.hypot(*(sk[:, None, :] - ep[None]).transpose(2, 0, 1)).min(axis=1)
        keep = d_end > max_thickness
        if keep.any():
            vals = vals[keep]
    return 2.0 * float(vals.mean())


def mask_contour(mask: np.ndarray) -> np.ndarray | None:
    """Outline (image pixel coordinates) of the largest component of a full-image mask.

    Traced at the 0.5 level between inside and outside pixel centres, i.e. the
    boundary a pixel mask stands for.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box = np.pad(mask[r0:r1, c0:c1].astype(np.uint8), 1)
    contours = find_contours(box, 0.5)
    if not contours:
        return None
    best = max(contours, key=lambda c: g.polygon_area(c))
    return best + np.array([r0 - 1, c0 - 1])
