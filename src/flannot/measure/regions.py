"""Regions (polygons and masks) as small supersampled rasters, and the measures on them.

A region is rasterised only inside its bounding box (plus a margin), never on
the full image, on a grid of cells that are square in millimetres even when the
pixel spacing is anisotropic (the grid steps along rows and columns differ):
``min(spacing)`` wide for polygons, half that for masks, coarser only when a
region would need more than ``MAX_CELLS`` cells. Distances come from
``scipy.ndimage.distance_transform_edt`` with the cell size as ``sampling``
and are corrected for the half-cell bias of a discrete mask (a cell is inside
when its centre is, so the true boundary lies half a cell beyond the last inside
centre). For polygons the largest inscribed circle is then refined against the
exact polygon edges, so the result does not depend on the grid.

Polygons are measured without importing ``scipy.ndimage`` or ``skimage.morphology``
(~0.2 s to import): :mod:`flannot.measure.kernels` runs their compiled distance
transform and thinning directly. Masks still use ``scipy.ndimage``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flannot.measure import geometry as g
from flannot.measure import kernels

# Upper bound on cells per region raster: keeps a huge (or hostile) polygon from
# allocating more than a few MB; the grid just gets coarser.
MAX_CELLS = 250_000
# Cells per pixel along the finer axis. Polygons are refined against their exact
# edges, so their grid only has to find the ridge: one cell per (finer) pixel.
# Masks are the data itself; two cells per pixel keep the cells square in mm.
SUPERSAMPLE_POLYGON = 1
SUPERSAMPLE_MASK = 2
# fill_polygons works on batches of at most this many scan-line x edge pairs (~1 MB arrays)
FILL_PAIRS = 1 << 17


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
    spacing: tuple[float, float],
    extent_px: tuple[float, float],
    max_cells: int,
    supersample: int = SUPERSAMPLE_POLYGON,
) -> tuple[float, float]:
    """Cell size in pixels along rows and cols: square in mm, within ``max_cells``."""
    h = min(spacing) / supersample
    area_mm2 = (extent_px[0] * spacing[0]) * (extent_px[1] * spacing[1])
    h = max(h, math.sqrt(area_mm2 / max_cells))
    return h / spacing[0], h / spacing[1]


def grid_for_box(
    lo_px: np.ndarray,
    hi_px: np.ndarray,
    spacing: tuple[float, float],
    max_cells: int = MAX_CELLS,
    supersample: int = SUPERSAMPLE_POLYGON,
) -> Raster:
    """An empty raster covering the box ``lo_px``–``hi_px`` (image pixel coordinates)."""
    lo = np.asarray(lo_px, float)
    hi = np.asarray(hi_px, float)
    step = _grid_steps(spacing, tuple(hi - lo + 2.0), max_cells, supersample)
    # one cell of margin beyond the box on every side keeps background around
    origin = lo - np.asarray(step)
    shape = np.ceil((hi - lo) / np.asarray(step)).astype(int) + 3
    return Raster(
        mask=np.zeros(tuple(shape), dtype=bool),
        origin=(float(origin[0]), float(origin[1])),
        step=(float(step[0]), float(step[1])),
        cell_mm=(float(step[0] * spacing[0]), float(step[1] * spacing[1])),
    )


def fill_polygon(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    """Boolean grid of ``shape``: cells whose centres ``(i, j)`` are inside ``polygon``.

    Even-odd scan-line fill, vectorised over rows and edges (``polygon`` in cell
    coordinates; parts outside the grid are clipped). Much faster than testing
    every cell against every edge.
    """
    rows, cols = shape
    poly = g.as_points(polygon)
    y0, x0 = poly[:, 0], poly[:, 1]
    y1, x1 = np.concatenate([y0[1:], y0[:1]]), np.concatenate([x0[1:], x0[:1]])
    lo = max(0, int(np.ceil(y0.min())))
    hi = min(rows - 1, int(np.floor(y0.max())))
    out = np.zeros(shape, dtype=bool)
    if hi < lo:
        return out
    yc = np.arange(lo, hi + 1, dtype=float)[:, None]
    crosses = (y0 <= yc) != (y1 <= yc)  # half-open: a vertex on the line counts once
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = x0 + (yc - y0) * (x1 - x0) / (y1 - y0)
    xs = np.sort(np.where(crosses, xs, np.inf), axis=1)
    starts, ends = xs[:, 0::2], xs[:, 1::2]
    n = min(starts.shape[1], ends.shape[1])
    starts, ends = starts[:, :n], ends[:, :n]
    ok = np.isfinite(starts) & np.isfinite(ends)
    # only the polygon's own columns are touched
    c_lo = max(0, int(np.floor(x0.min())))
    c_hi = min(cols, int(np.ceil(x0.max())) + 1)
    if c_hi <= c_lo:
        return out
    width = c_hi - c_lo
    # a span (a, b) covers the cells j with a < j < b (centres strictly inside)
    j0 = np.clip(np.floor(starts[ok]) + 1 - c_lo, 0, width).astype(np.intp)
    j1 = np.clip(np.ceil(ends[ok]) - c_lo, 0, width).astype(np.intp)
    r = np.broadcast_to(np.arange(hi - lo + 1)[:, None], ok.shape)[ok]
    keep = j1 > j0
    size = (hi - lo + 1) * (width + 1)
    flat = r[keep] * (width + 1)
    diff = np.bincount(flat + j0[keep], minlength=size) - np.bincount(
        flat + j1[keep], minlength=size
    )
    spans = np.cumsum(diff.reshape(hi - lo + 1, width + 1)[:, :width], axis=1) > 0
    out[lo : hi + 1, c_lo:c_hi] = spans
    return out


def fill_polygons(shapes: list[tuple[int, int]], polygons: list[np.ndarray]) -> list[np.ndarray]:
    """:func:`fill_polygon` of each ``(shape, polygon)``, polygons of one vertex count at once.

    The same scan lines, crossings and spans, computed for many small polygons (a
    set's bands) in a few NumPy passes instead of ~25 calls each: polygons with
    fewer scan lines than the most in their batch get lines that cross nothing.
    """
    out = [np.zeros(shape, dtype=bool) for shape in shapes]
    by_n: dict[int, list[int]] = {}
    for i, p in enumerate(polygons):
        if len(p) == 0 or not np.isfinite(p).all():  # fill_polygon's own error, or result
            out[i] = fill_polygon(shapes[i], p)
            continue
        by_n.setdefault(len(p), []).append(i)
    for n, members in by_n.items():
        # batches of similar scan-line counts, a bounded number of line-edge pairs each
        lines = [_scan_lines(shapes[i][0], polygons[i]) for i in members]
        order = sorted(range(len(members)), key=lambda k: lines[k][1] - lines[k][0])
        batch: list[int] = []
        for k in order:
            most = max(1, lines[k][1] - lines[k][0] + 1)
            if batch and (len(batch) + 1) * most * n > FILL_PAIRS:
                _fill_batch([members[b] for b in batch], shapes, polygons, out)
                batch = []
            batch.append(k)
        if batch:
            _fill_batch([members[b] for b in batch], shapes, polygons, out)
    return out


def _scan_lines(rows: int, polygon: np.ndarray) -> tuple[int, int]:
    """``(lo, hi)``: the grid rows :func:`fill_polygon` scans for ``polygon``."""
    y0 = polygon[:, 0]
    return max(0, int(np.ceil(y0.min()))), min(rows - 1, int(np.floor(y0.max())))


def _fill_batch(
    members: list[int],
    shapes: list[tuple[int, int]],
    polygons: list[np.ndarray],
    out: list[np.ndarray],
) -> None:
    """:func:`fill_polygon` of the polygons ``members`` (one vertex count), into ``out``."""
    poly = np.stack([g.as_points(polygons[i]) for i in members])  # (P, E, 2)
    rows = np.array([shapes[i][0] for i in members])
    cols = np.array([shapes[i][1] for i in members])
    y0, x0 = poly[..., 0], poly[..., 1]
    y1 = np.concatenate([y0[:, 1:], y0[:, :1]], axis=1)
    x1 = np.concatenate([x0[:, 1:], x0[:, :1]], axis=1)
    lo = np.maximum(0, np.ceil(y0.min(axis=1))).astype(np.intp)
    hi = np.minimum(rows - 1, np.floor(y0.max(axis=1))).astype(np.intp)
    c_lo = np.maximum(0, np.floor(x0.min(axis=1))).astype(np.intp)
    c_hi = np.minimum(cols, np.ceil(x0.max(axis=1)) + 1).astype(np.intp)
    n_lines = hi - lo + 1
    width = c_hi - c_lo
    filled = (n_lines > 0) & (width > 0)  # the others stay empty, as in fill_polygon
    n_lines = np.where(filled, n_lines, 0)
    most = max(int(n_lines.max()), 1)
    # scan line k of polygon p is grid row lo[p] + k; NaN past its last: it crosses nothing
    yc = lo[:, None] + np.arange(most, dtype=float)
    yc[np.arange(most) >= n_lines[:, None]] = np.nan
    yc = yc[:, :, None]  # (P, L, 1) against edges (P, 1, E)
    ys, xs_, ye, xe = (a[:, None, :] for a in (y0, x0, y1, x1))
    crosses = (ys <= yc) != (ye <= yc)  # half-open: a vertex on the line counts once
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = xs_ + (yc - ys) * (xe - xs_) / (ye - ys)
    xs = np.sort(np.where(crosses, xs, np.inf), axis=2)
    starts, ends = xs[..., 0::2], xs[..., 1::2]
    k = min(starts.shape[2], ends.shape[2])
    starts, ends = starts[..., :k], ends[..., :k]
    ok = np.isfinite(starts) & np.isfinite(ends)
    p, r, _ = np.nonzero(ok)
    # a span (a, b) covers the cells j with a < j < b (centres strictly inside)
    j0 = np.clip(np.floor(starts[ok]) + 1 - c_lo[p], 0, width[p]).astype(np.intp)
    j1 = np.clip(np.ceil(ends[ok]) - c_lo[p], 0, width[p]).astype(np.intp)
    keep = j1 > j0
    # each polygon's lines of width + 1 slots, one after another: +1 where a span starts,
    # -1 where it ends; both within one line, so one running sum restarts at 0 each line
    size = n_lines * (width + 1)
    start = np.concatenate([[0], np.cumsum(size)])
    flat = (start[p] + r * (width[p] + 1))[keep]
    total = int(start[-1])
    diff = np.bincount(flat + j0[keep], minlength=total) - np.bincount(
        flat + j1[keep], minlength=total
    )
    spans = np.cumsum(diff) > 0
    for b, i in enumerate(members):
        if filled[b]:
            block = spans[start[b] : start[b + 1]].reshape(n_lines[b], width[b] + 1)
            out[i][lo[b] : hi[b] + 1, c_lo[b] : c_hi[b]] = block[:, : width[b]]


def draw_polygon(raster: Raster, polygon_px: np.ndarray) -> np.ndarray:
    """Cells of ``raster``'s grid whose centres fall inside ``polygon_px`` (clipped)."""
    return fill_polygon(raster.mask.shape, raster.to_cells(polygon_px))


def rasterize_polygon(
    polygon_px: np.ndarray, spacing: tuple[float, float], max_cells: int = MAX_CELLS
) -> Raster:
    """Raster of a polygon (square cells in mm) inside its own bounding box."""
    pts = g.as_points(polygon_px)
    r = grid_for_box(pts.min(axis=0), pts.max(axis=0), spacing, max_cells)
    r.mask = draw_polygon(r, pts)
    return _finer_if_empty(r, pts, spacing, max_cells)


def _finer_if_empty(
    raster: Raster, pts: np.ndarray, spacing: tuple[float, float], max_cells: int
) -> Raster:
    """``raster``, or, when it holds no cell although the polygon has an area (a band
    narrower than a pixel between two rows of pixel centres), the polygon on a grid 4
    then 16 times finer: its thickness is then measured, not 0."""
    if raster.mask.any() or not g.polygon_area(pts) > 0.0:  # (NaN: not an area)
        return raster
    for supersample in (4, 16):
        finer = grid_for_box(pts.min(axis=0), pts.max(axis=0), spacing, max_cells, supersample)
        finer.mask = draw_polygon(finer, pts)
        if finer.mask.any():
            return finer
    return raster


def rasterize_polygons(
    polygons_px: list[np.ndarray],
    spacings: list[tuple[float, float]],
    max_cells: int = MAX_CELLS,
) -> list[Raster]:
    """:func:`rasterize_polygon` of each polygon with its spacing, filled together
    (:func:`fill_polygons`)."""
    rasters, cells = [], []
    for poly, spacing in zip(polygons_px, spacings, strict=True):
        pts = g.as_points(poly)
        r = grid_for_box(pts.min(axis=0), pts.max(axis=0), spacing, max_cells)
        rasters.append(r)
        cells.append(r.to_cells(pts))
    for r, mask in zip(rasters, fill_polygons([r.mask.shape for r in rasters], cells), strict=True):
        r.mask = mask
    return [
        _finer_if_empty(r, g.as_points(poly), spacing, max_cells)
        for r, poly, spacing in zip(rasters, polygons_px, spacings, strict=True)
    ]


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(r0, r1, c0, c1)``: the half-open row and column range of the set pixels, or ``None``."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def rasterize_mask(
    mask: np.ndarray, spacing: tuple[float, float], max_cells: int = MAX_CELLS
) -> Raster | None:
    """A full-image boolean mask cropped to its bounding box, upsampled to square cells.

    Returns ``None`` for an empty mask. Upsampling by pixel replication adds no
    information; it makes the cells square in mm so that skeletons and distances
    are not skewed by anisotropic pixels.
    """
    bbox = mask_bbox(mask)
    if bbox is None:
        return None
    r0, r1, c0, c1 = bbox
    box = np.pad(mask[r0:r1, c0:c1], 1)
    if box.size > max_cells:  # a huge mask: sample every k-th pixel, never the whole box
        k = math.ceil(math.sqrt(box.size / max_cells))
        return Raster(
            mask=np.pad(mask[r0:r1:k, c0:c1:k], 1),  # keep background all round
            origin=(float(r0 - k), float(c0 - k)),
            step=(float(k), float(k)),
            cell_mm=(spacing[0] * k, spacing[1] * k),
        )
    step = _grid_steps(spacing, box.shape, max_cells, SUPERSAMPLE_MASK)
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
    from scipy import ndimage  # masks only: slow to import

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


# the 7 x 7 pattern of the inscribed circle's final search, and the 8 moves of a ridge climb
_REFINE_OFFSETS = np.stack(np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 7)), -1).reshape(
    -1, 2
)
_RIDGE_OFFSETS = np.array([[a, b] for a in (-1, 0, 1) for b in (-1, 0, 1) if a or b], float)


def _edges(polygon_mm: np.ndarray | g.Edges) -> g.Edges:
    return polygon_mm if isinstance(polygon_mm, g.Edges) else g.Edges(polygon_mm)


def _refine_inscribed(
    start_mm: np.ndarray, radius: float, polygon_mm: np.ndarray | g.Edges, step_mm: float
) -> float:
    """Pattern search for the largest inscribed circle near ``start_mm`` (exact polygon).

    Each round tries a 7 x 7 pattern around the best centre so far and keeps the
    candidate inside the polygon farthest from its edges (the first one on ties),
    then shrinks the pattern threefold.
    """
    edges = _edges(polygon_mm)
    best_p, best_r = start_mm, radius
    step = step_mm
    for _ in range(5):
        cand = best_p + _REFINE_OFFSETS * step
        r, inside = edges.distance_inside(cand)
        if inside.any():
            r[~inside] = -np.inf
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
    edges_mm: g.Edges | None = None,
) -> float:
    """Diameter of the largest inscribed circle (mm), the EDT maximum refined when exact.

    For a polygon every cell near the EDT maximum (the maximum is often a
    plateau of ties) climbs to the ridge of the exact distance to the edges
    (:func:`ridge_distances`) and the best is polished by a finer local search,
    so the result does not depend on the grid (to ~1 µm on the tests); for a
    mask it is ``2 × max`` of the bias-corrected EDT. ``edges_mm``: the
    polygon's :class:`~flannot.measure.geometry.Edges` in mm, when already made.
    """
    if not raster.mask.any():
        return 0.0
    dmax = float(dist.max())
    if polygon_px is None:
        return 2.0 * dmax
    edges = edges_mm if edges_mm is not None else g.Edges(g.to_mm(polygon_px, spacing))
    cell = max(raster.cell_mm)
    flat = dist.ravel()
    # the optimum's cell has an EDT within ~1.42 cells of the maximum; only cells inside
    # count (in a band under ~3 cells thick the bound is below zero: an outside cell,
    # far from the edges, would win)
    near = np.flatnonzero((flat >= dmax - 1.5 * cell) & raster.mask.ravel())
    if near.size > 2000:
        near = near[np.argpartition(flat[near], -2000)[-2000:]]
    idx = np.stack(np.unravel_index(near, dist.shape), axis=1)
    pts = raster.centers_mm(idx, spacing)
    r = edges.distance(pts)
    if len(r) > 32:  # climb from the best few seeds only (ties are on a plateau anyway)
        top = np.argpartition(r, -32)[-32:]
        pts, r = pts[top], r[top]
    r, reached = ridge_distances(pts, edges, cell, iterations=3, start_distance=r)
    k = int(np.argmax(r))
    best = _refine_inscribed(reached[k], float(r[k]), edges, cell / 8)
    return 2.0 * best


def ridge_distances(
    start_mm: np.ndarray,
    polygon_mm: np.ndarray | g.Edges,
    cell_mm: float,
    iterations: int = 4,
    start_distance: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact boundary distance on the ridge next to each of ``start_mm`` (K, 2).

    A skeleton cell sits up to half a cell off the medial axis, where the
    distance is up to half a cell short. Each point climbs (all points at once,
    a 3 × 3 pattern search with halving steps, at most one cell in all) to the
    largest exact distance to the polygon's edges; a move that would leave the
    polygon is refused. Returns the distances and the points reached.
    ``start_distance``: the distances at ``start_mm``, when already known.
    """
    edges = _edges(polygon_mm)
    pts = np.array(start_mm, float)
    n = len(pts)
    best = edges.distance(pts) if start_distance is None else np.array(start_distance, float)
    rows = np.arange(n)
    step = cell_mm / 2
    for _ in range(iterations):
        cand = pts[:, None, :] + _RIDGE_OFFSETS[None] * step  # (K, 8, 2)
        d, inside = edges.distance_inside(cand.reshape(-1, 2))
        d = np.where(inside.reshape(n, 8), d.reshape(n, 8), -np.inf)
        k = np.argmax(d, axis=1)  # the first farthest move that stays inside
        dk = d[rows, k]
        better = dk > best
        pts[better] = cand[rows, k][better]
        best[better] = dk[better]
        step /= 2
    return best, pts


def skeleton_mean_thickness(
    raster: Raster,
    dist: np.ndarray,
    max_thickness: float,
    spacing: tuple[float, float] | None = None,
    polygon_px: np.ndarray | None = None,
    max_points: int = 80,
    edges_mm: g.Edges | None = None,
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
    skel = kernels.skeletonize(raster.mask)
    if not skel.any():
        return 2.0 * float(dist.max()) if raster.mask.any() else 0.0
    idx = np.argwhere(skel)
    ends = skel & (kernels.neighbour_count(skel) == 2)  # itself + one neighbour
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
        edges = edges_mm if edges_mm is not None else g.Edges(g.to_mm(polygon_px, spacing))
        vals, _ = ridge_distances(raster.centers_mm(idx, spacing), edges, max(raster.cell_mm))
    else:
        from scipy import ndimage  # masks only: slow to import

        ridge = ndimage.maximum_filter(dist, footprint=np.ones((5, 5), bool), mode="constant")
        vals = ridge[idx[:, 0], idx[:, 1]]
    return 2.0 * float(vals.mean())


def band_thickness(
    raster: Raster,
    dist: np.ndarray,
    spacing: tuple[float, float],
    polygon_px: np.ndarray | None = None,
) -> tuple[float, float]:
    """``(max, mean)`` thickness of a band: :func:`inscribed_diameter` and
    :func:`skeleton_mean_thickness` (:func:`band_thickness_many` of one band)."""
    return band_thickness_many([(raster, dist, spacing, polygon_px)])[0]


BandInput = tuple[Raster, np.ndarray, tuple[float, float], "np.ndarray | None"]


def band_thickness_many(bands: list[BandInput]) -> list[tuple[float, float]]:
    """:func:`band_thickness` of many bands, the polygons' ridge searches done together.

    Each band goes through exactly the steps of :func:`inscribed_diameter` and
    :func:`skeleton_mean_thickness` — the same seeds, moves, ties and floating-point
    operations, so the same results — but every step of the searches runs for
    all polygon bands in one NumPy pass (:class:`~flannot.measure.geometry.EdgeSet`)
    instead of a dozen small passes per band. Masks are measured one by one.
    """
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(bands)
    todo: list[int] = []
    for i, (raster, dist, spacing, poly) in enumerate(bands):
        if poly is None:
            max_t = inscribed_diameter(raster, dist, spacing)
            out[i] = (max_t, skeleton_mean_thickness(raster, dist, max_t))
        elif not raster.mask.any():
            out[i] = (0.0, 0.0)  # nothing inside, no skeleton
        else:
            todo.append(i)
    if not todo:
        return out
    edges = g.EdgeSet([g.to_mm(bands[i][3], bands[i][2]) for i in todo])  # type: ignore[arg-type]
    cells = np.array([max(bands[i][0].cell_mm) for i in todo])

    # inscribed_diameter: seeds near the EDT maximum, their exact distances, the best 32
    seeds = _seeds([bands[i] for i in todo], cells)
    owner = np.repeat(np.arange(len(todo)), [len(p) for p in seeds])
    r_all, _ = edges.distance_inside(np.concatenate(seeds), owner, inside=False)
    starts, start_r = [], []
    for b, r in enumerate(np.split(r_all, np.cumsum([len(p) for p in seeds])[:-1])):
        pts = seeds[b]
        if len(r) > 32:  # climb from the best few seeds only
            top = np.argpartition(r, -32)[-32:]
            pts, r = pts[top], r[top]
        starts.append(pts)
        start_r.append(r)
    counts = [len(p) for p in starts]
    owner = np.repeat(np.arange(len(todo)), counts)
    r_all, reached = _ridge_many(
        np.concatenate(starts), owner, edges, cells[owner], 3, np.concatenate(start_r)
    )
    # each band's first best climb (np.argmax of its own), all at once: the climbs in
    # rows of -inf padding (every band has at least the seed at its EDT maximum)
    first = np.cumsum(counts) - counts
    padded = np.full((len(todo), max(counts)), -np.inf)
    padded[owner, np.arange(len(r_all)) - np.repeat(first, counts)] = r_all
    pick = first + np.argmax(padded, axis=1)
    best_p, best_r = reached[pick], r_all[pick]
    max_ts = 2.0 * _refine_many(best_p, best_r, edges, cells / 8)

    # skeleton_mean_thickness: skeleton cells away from the spurs, on the ridge next to them
    cells_idx = []
    for idx in _skeleton_cells_many([bands[i][0] for i in todo], max_ts):
        if idx is not None and len(idx) > 80:
            idx = idx[np.linspace(0, len(idx) - 1, 80).astype(int)]
        cells_idx.append(idx)
    pts_list = [
        bands[i][0].centers_mm(idx, bands[i][2])
        for i, idx in zip(todo, cells_idx, strict=True)
        if idx is not None
    ]
    with_skel = [b for b, idx in enumerate(cells_idx) if idx is not None]
    means = np.zeros(len(todo))
    if with_skel:
        counts = [len(p) for p in pts_list]
        owner = np.repeat(np.asarray(with_skel, np.intp), counts)
        vals, _ = _ridge_many(np.concatenate(pts_list), owner, edges, cells[owner], 4)
        for b, v in zip(with_skel, np.split(vals, np.cumsum(counts)[:-1]), strict=True):
            means[b] = 2.0 * float(v.mean())
    for b, i in enumerate(todo):
        if cells_idx[b] is None:  # no skeleton: the EDT's maximum, as skeleton_mean_thickness
            means[b] = 2.0 * float(bands[i][1].max())
        out[i] = (float(max_ts[b]), float(means[b]))
    return out


def _seeds(bands: list[BandInput], cells: np.ndarray) -> list[np.ndarray]:
    """The cells :func:`inscribed_diameter` climbs from, in mm, for each band: those
    inside and within 1.5 cells of the EDT maximum (the best 2000 of them when more), in row-major
    order, found for all bands in one pass over their concatenated distance maps."""
    maps = [dist.ravel() for _, dist, _, _ in bands]
    sizes = np.array([len(m) for m in maps])
    start = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    flat = np.concatenate(maps)
    floor = np.maximum.reduceat(flat, start) - 1.5 * cells  # float(dist.max()) - 1.5 * cell
    inside = np.concatenate([r.mask.ravel() for r, _, _, _ in bands])
    near = np.flatnonzero((flat >= np.repeat(floor, sizes)) & inside)
    band = np.searchsorted(start, near, side="right") - 1
    local = near - start[band]
    width = np.array([dist.shape[1] for _, dist, _, _ in bands])[band]
    idx = np.stack([local // width, local % width], axis=1)  # np.unravel_index, row-major
    # Raster.centers_mm of each seed, with its band's grid and spacing
    origin = np.array([r.origin for r, _, _, _ in bands])[band]
    step = np.array([r.step for r, _, _, _ in bands])[band]
    spacing = np.array([sp for _, _, sp, _ in bands], float)[band]
    pts = (origin + idx.astype(float) * step) * spacing
    cut = np.searchsorted(band, np.arange(len(bands) + 1))
    out = []
    for b, (raster, dist, sp, _) in enumerate(bands):
        if cut[b + 1] - cut[b] > 2000:  # rare: the band's own way, best 2000 by EDT
            d = dist.ravel()
            mine = local[cut[b] : cut[b + 1]]
            mine = mine[np.argpartition(d[mine], -2000)[-2000:]]
            out.append(raster.centers_mm(np.stack(np.unravel_index(mine, dist.shape), axis=1), sp))
        else:
            out.append(pts[cut[b] : cut[b + 1]])
    return out


def _skeleton_cells(raster: Raster, max_thickness: float) -> np.ndarray | None:
    """The skeleton cells :func:`skeleton_mean_thickness` averages over (``None``: no skeleton)."""
    skel = kernels.skeletonize(raster.mask)
    if not skel.any():
        return None
    idx = np.argwhere(skel)
    ends = skel & (kernels.neighbour_count(skel) == 2)  # itself + one neighbour
    if ends.any():
        cell = np.asarray(raster.cell_mm)
        ep = np.argwhere(ends) * cell
        d_end = np.hypot(*((idx * cell)[:, None, :] - ep[None]).transpose(2, 0, 1)).min(axis=1)
        keep = d_end > max_thickness
        if keep.any():
            idx = idx[keep]
    return idx


def _skeleton_cells_many(
    rasters: list[Raster], max_thickness: np.ndarray
) -> list[np.ndarray | None]:
    """:func:`_skeleton_cells` of each raster (with its ``max_thickness``), together.

    Each raster is thinned alone; the skeletons are then stacked one below the other,
    left-aligned, and their end points found and measured in one pass. Each raster
    has background all round (:func:`grid_for_box`), so no cell's 3 x 3 neighbourhood
    reaches into another's; the stack's row-major order is raster by raster, each in
    its own row-major order; distances are taken in each raster's own cells and
    coordinates: the same cells, in the same order, with the same values.
    """
    skels = [kernels.skeletonize(r.mask) for r in rasters]
    top = np.concatenate([[0], np.cumsum([s.shape[0] for s in skels])]).astype(np.intp)
    stack = np.zeros((int(top[-1]), max(s.shape[1] for s in skels)), bool)
    for s, t in zip(skels, top.tolist(), strict=False):
        stack[t : t + s.shape[0], : s.shape[1]] = s
    cells = np.argwhere(stack)
    ends = np.argwhere(stack & (kernels.neighbour_count(stack) == 2))  # itself + one
    owner = np.searchsorted(top, cells[:, 0], side="right") - 1
    end_owner = np.searchsorted(top, ends[:, 0], side="right") - 1
    cells[:, 0] -= top[owner]  # each raster's own cell indices
    ends[:, 0] -= top[end_owner]
    n = len(rasters)
    per_raster = np.bincount(owner, minlength=n)
    ends_of = np.bincount(end_owner, minlength=n)
    end_start = np.concatenate([[0], np.cumsum(ends_of)])
    # every skeleton cell against every end point of its raster, in that raster's mm
    cell_mm = np.array([r.cell_mm for r in rasters])
    pairs = ends_of[owner]
    cell_of_pair = np.repeat(np.arange(len(cells)), pairs)
    first = np.concatenate([[0], np.cumsum(pairs)])[:-1]
    end_of_pair = (
        end_start[owner[cell_of_pair]] + np.arange(len(cell_of_pair)) - np.repeat(first, pairs)
    )
    scale = cell_mm[owner[cell_of_pair]]
    diff = cells[cell_of_pair] * scale - ends[end_of_pair] * scale
    dist = np.hypot(diff[:, 0], diff[:, 1])
    with_ends = pairs > 0
    d_end = np.full(len(cells), np.inf)
    if dist.size:
        d_end[with_ends] = np.minimum.reduceat(dist, first[with_ends])
    keep = d_end > np.asarray(max_thickness, float)[owner]
    # a raster keeps the cells away from the ends unless none is (or it has no ends)
    some_kept = np.bincount(owner[keep], minlength=n) > 0
    chosen = keep | ~some_kept[owner]
    out: list[np.ndarray | None] = []
    start = np.concatenate([[0], np.cumsum(per_raster)])
    for b in range(n):
        if per_raster[b] == 0:
            out.append(None)
            continue
        sl = slice(start[b], start[b + 1])
        out.append(cells[sl][chosen[sl]])
    return out


def _ridge_many(
    start_mm: np.ndarray,
    owner: np.ndarray,
    edges: g.EdgeSet,
    cell_mm: np.ndarray,
    iterations: int,
    start_distance: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ridge_distances` of points each in its own polygon (``owner``), per-point cells."""
    pts = np.array(start_mm, float)
    n = len(pts)
    if start_distance is None:
        best = edges.distance_inside(pts, owner, inside=False)[0]
    else:
        best = np.array(start_distance, float)
    rows = np.arange(n)
    step = cell_mm / 2
    for _ in range(iterations):
        cand = pts[:, None, :] + _RIDGE_OFFSETS[None] * step[:, None, None]  # (K, 8, 2)
        d = edges.distance_inside(cand, owner, inside=False)[0]
        # the best inside move only counts when it gains, so only the moves that would
        # gain need the inside test: the same move as testing all eight
        ok = d > best[:, None]
        i, j = np.nonzero(ok)
        if i.size:
            ok[i, j] = edges.distance_inside(cand[i, j], owner[i], distance=False)[1]
        d = np.where(ok, d, -np.inf)
        k = np.argmax(d, axis=1)  # the first farthest move that stays inside
        dk = d[rows, k]
        better = dk > best
        pts[better] = cand[rows, k][better]
        best[better] = dk[better]
        step = step / 2
    return best, pts


def _refine_many(
    start_mm: np.ndarray, radius: np.ndarray, edges: g.EdgeSet, step_mm: np.ndarray
) -> np.ndarray:
    """:func:`_refine_inscribed` of one start per polygon (polygon ``i`` for row ``i``)."""
    best_p = np.array(start_mm, float)
    best_r = np.array(radius, float)
    n = len(best_p)
    rows = np.arange(n)
    step = np.array(step_mm, float)
    for _ in range(5):
        cand = best_p[:, None, :] + _REFINE_OFFSETS[None] * step[:, None, None]  # (n, 49, 2)
        r = edges.distance_inside(cand, rows, inside=False)[0]
        # the best inside candidate only counts when it beats best_r, so only the
        # candidates that beat it need the inside test: the same winner, fewer tests
        ok = r > best_r[:, None]
        i, j = np.nonzero(ok)
        if i.size:
            ok[i, j] = edges.distance_inside(cand[i, j], i, distance=False)[1]
        r = np.where(ok, r, -np.inf)
        k = np.argmax(r, axis=1)  # the first of the farthest winning candidates
        rk = r[rows, k]
        better = rk > best_r
        best_p[better] = cand[rows, k][better]
        best_r[better] = rk[better]
        step = step / 3.0
    return best_r


def mask_contour(mask: np.ndarray) -> np.ndarray | None:
    """Outline (image pixel coordinates) of the largest component of a full-image mask.

    Traced at the 0.5 level between inside and outside pixel centres, i.e. the
    boundary a pixel mask stands for.
    """
    from skimage.measure import find_contours  # imported on first use: slow to import

    bbox = mask_bbox(mask)
    if bbox is None:
        return None
    r0, r1, c0, c1 = bbox
    box = np.pad(mask[r0:r1, c0:c1].astype(np.uint8), 1)
    contours = find_contours(box, 0.5)
    if not contours:
        return None
    best = max(contours, key=lambda c: g.polygon_area(c))
    return best + np.array([r0 - 1, c0 - 1])
