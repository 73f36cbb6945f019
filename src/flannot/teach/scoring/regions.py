"""Overlap of two regions (polygons, rectangles or masks): Dice, IoU and HD95.

Both regions are rasterised on one grid that covers only the union of their
bounding boxes (never the whole image), with cells square in mm
(:func:`flannot.measure.regions.grid_for_box`, so anisotropic pixel spacing is
accounted for and the cell count is capped). HD95 is the 95th percentile
Hausdorff distance between the two boundaries: the boundary cells of each
raster, distances from ``scipy.ndimage.distance_transform_edt`` with the cell
size as ``sampling``, the larger of the two directed 95th percentiles (the
convention of MedPy and MONAI).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from flannot.measure import regions
from flannot.measure.context import Context


@dataclass(frozen=True)
class Overlap:
    """Dice and IoU (0–1), HD95 and mean surface distance (mm, or px uncalibrated;
    ``None`` when a region is empty)."""

    dice: float
    iou: float
    hd95: float | None
    msd: float | None = None


def _bbox(ctx: Context, ann: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(lo, hi)`` pixel-coordinate box of an annotation's region, ``None`` when empty."""
    if ann.geometry.kind == "mask":
        m = ctx.mask(ann)
        box = None if m is None else regions.mask_bbox(m)
        if box is None:
            return None
        r0, r1, c0, c1 = box  # pixel i covers i - 0.5 … i + 0.5
        return np.array([r0 - 0.5, c0 - 0.5]), np.array([r1 - 0.5, c1 - 0.5])
    poly = ctx.polygon(ann)
    if poly is None:
        return None
    return poly.min(axis=0), poly.max(axis=0)


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Inside cells with an outside 4-neighbour (the raster has background all round)."""
    return mask & ~ndimage.binary_erosion(mask)


def _directed(a: np.ndarray, b: np.ndarray, cell: tuple[float, float]) -> np.ndarray:
    """Distances from the cells of ``a`` to the nearest cell of ``b``."""
    return ndimage.distance_transform_edt(~b, sampling=cell)[a]


def line_distances(ref_mm: np.ndarray, att_mm: np.ndarray, step_mm: float) -> Overlap | None:
    """Boundary distances between two polylines (in mm): HD95 and mean surface distance.

    Both lines are resampled every ``step_mm``; each directed distance is from the
    samples of one line to the other polyline (exact segment distance). HD95 is
    the larger directed 95th percentile, MSD the mean of the two directed means.
    Dice and IoU mean nothing for a line and are 0.
    """
    from flannot.measure import geometry as g

    if len(ref_mm) < 2 or len(att_mm) < 2:
        return None

    def samples(line: np.ndarray) -> np.ndarray:
        seg = np.hypot(*np.diff(line, axis=0).T)
        t = np.concatenate([[0.0], np.cumsum(seg)])
        if t[-1] <= 0:
            return line[:1]
        s = np.linspace(0.0, t[-1], max(2, int(np.ceil(t[-1] / step_mm)) + 1))
        return np.stack([np.interp(s, t, line[:, 0]), np.interp(s, t, line[:, 1])], axis=1)

    d_ra = g.distance_to_polyline(samples(ref_mm), att_mm)
    d_ar = g.distance_to_polyline(samples(att_mm), ref_mm)
    hd95 = max(float(np.percentile(d_ra, 95)), float(np.percentile(d_ar, 95)))
    msd = (float(d_ra.mean()) + float(d_ar.mean())) / 2
    return Overlap(0.0, 0.0, hd95, msd)


def overlap(ref_ctx: Context, ref: Any, att_ctx: Context, att: Any) -> Overlap:
    """Dice, IoU and HD95 of the attempt region ``att`` against the reference region ``ref``.

    Parameters
    ----------
    ref_ctx, att_ctx
        Measurement contexts of the two cases, built with the same units (the
        reference's spacing), which decode and cache polygons and masks.
    ref, att
        The two annotations (geometry ``polygon``, ``rectangle`` or ``mask``).
    """
    boxes = [b for b in (_bbox(ref_ctx, ref), _bbox(att_ctx, att)) if b is not None]
    if len(boxes) < 2:
        return Overlap(0.0, 0.0, None)
    lo = np.minimum(boxes[0][0], boxes[1][0])
    hi = np.maximum(boxes[0][1], boxes[1][1])
    grid = regions.grid_for_box(lo, hi, ref_ctx.spacing)
    # move the cell centres half a cell off the box edges: outlines drawn on whole
    # pixels then never pass through a centre (no ties), and mask pixels stay whole
    half = np.asarray(grid.step) / 2
    grid = dataclasses.replace(grid, origin=(grid.origin[0] + half[0], grid.origin[1] + half[1]))
    a = ref_ctx.cells_inside(ref, grid)
    b = att_ctx.cells_inside(att, grid)
    if a is None or b is None or not a.any() or not b.any():
        return Overlap(0.0, 0.0, None)
    inter = float(np.count_nonzero(a & b))
    na, nb = float(np.count_nonzero(a)), float(np.count_nonzero(b))
    union = na + nb - inter
    ba, bb = _boundary(a), _boundary(b)
    d_ab, d_ba = _directed(ba, bb, grid.cell_mm), _directed(bb, ba, grid.cell_mm)
    hd95 = max(float(np.percentile(d_ab, 95)), float(np.percentile(d_ba, 95)))
    msd = (float(d_ab.mean()) + float(d_ba.mean())) / 2
    return Overlap(dice=2.0 * inter / (na + nb), iou=inter / union, hd95=hd95, msd=msd)
