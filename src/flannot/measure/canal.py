"""Spinal canal: area, widths across its long axis, LF encroachment, stenosis grade."""

from __future__ import annotations

from typing import Any

import numpy as np

from flannot.measure import geometry as g
from flannot.measure import regions
from flannot.measure.context import Context, Region
from flannot.measure.flags import width_grade
from flannot.measure.registry import register
from flannot.measure.rows import Row, RowMaker

# Verbiest's canal diameter: normal > 13 mm, relative 10-13 mm, absolute < 10 mm (the MILD
# protocol declares these; kept here for stenosis_grade() callers)
RELATIVE_MM = 13.0
ABSOLUTE_MM = 10.0
N_SECTIONS = 201
END_TRIM = 0.05  # always skip the outermost 5 % of the length at each end
CAP_ZONE = 0.35  # cap edges are looked for within this fraction of each end
ENCROACH_CELLS = 40_000  # grid for the LF overlap: ~0.1 mm cells on a typical canal


def stenosis_grade(min_width_mm: float) -> str:
    """``normal`` (> 13 mm), ``relative`` (10-13 mm) or ``absolute`` (< 10 mm) — Verbiest."""
    return width_grade(min_width_mm, RELATIVE_MM, ABSOLUTE_MM)


def _cap_sections(steep_from_end: np.ndarray, widths_from_end: np.ndarray) -> int:
    """How many sections, counted from one end, belong to that end's cap.

    The cap is the run of steep sections that starts at the end (at its first or
    second section) and continues inward, bridging single non-steep sections (an
    irregular vertex). A rounded cap flattens out gradually, so the cap goes on
    while the width still grows inward and ends where it stops growing (where the
    side walls begin). A steep stretch further in is a waist or a notch, not a
    cap, and is kept; an end without a steep run has no cap (a square end, which
    the outer ``END_TRIM`` already removes).
    """
    n = len(steep_from_end)
    i = 0 if n and steep_from_end[0] else 1
    if i >= n or not steep_from_end[i]:
        return 0
    while i < n and (steep_from_end[i] or (i + 1 < n and steep_from_end[i + 1])):
        i += 1
    tol = 1e-6 * float(np.max(widths_from_end, initial=0.0))
    while 0 < i < n and widths_from_end[i] > widths_from_end[i - 1] + tol:
        i += 1
    return i


def cross_sections(outline_mm: np.ndarray) -> tuple[float, float] | None:
    """``(min_width, mean_width)`` across the long axis, end caps excluded.

    The long axis is the long side of the minimum-area enclosing rectangle.
    Sections perpendicular to it are first taken at ``N_SECTIONS`` positions to
    find the end caps: a section is steep when one of its ends runs along an edge
    steeper than 45° to the axis (``|dv/du| > 1``); the run of steep sections
    that starts at an end (within ``CAP_ZONE`` of it), continued while the width
    still grows inward (a rounded cap), is that end's cap and is dropped, as is
    the outer ``END_TRIM`` always. A steep stretch that does not
    start at an end (a waist, a notch of buckled ligament) is canal and is kept.
    Between the caps the width is piecewise linear with
    breaks at the polygon's vertices, so the minimum is taken over the sections
    plus every vertex position, and the mean is the exact integral (trapezoids
    over the same positions) divided by the length. ``None`` if nothing is left.
    """
    rect = g.min_area_rectangle(outline_mm)
    axis = rect.long_axis
    normal = np.array([-axis[1], axis[0]])
    uv = np.stack([outline_mm @ axis, outline_mm @ normal], axis=1)
    u0, u1 = uv[:, 0].min(), uv[:, 0].max()
    length = u1 - u0
    if length <= 0:
        return None
    ts = np.linspace(u0 + END_TRIM * length, u1 - END_TRIM * length, N_SECTIONS)
    widths, lo, hi = g.chords(uv, ts)
    hit = widths > 0
    steep = np.zeros(len(ts), bool)
    if hit.sum() >= 3:
        with np.errstate(invalid="ignore"):  # both ends' slopes in one call: row by row alike
            slope_lo, slope_hi = np.abs(np.gradient(np.stack([lo, hi]), ts, axis=1)) > 1
            steep = slope_lo | slope_hi
        steep &= hit
    keep = hit.copy()
    k_zone = int(np.ceil(CAP_ZONE * N_SECTIONS))
    low = _cap_sections(steep[:k_zone], widths[:k_zone])
    keep[:low] = False
    high = _cap_sections(steep[::-1][:k_zone], widths[::-1][:k_zone])
    keep[N_SECTIONS - high :] = False
    if not keep.any():  # all cap (a stubby outline): fall back to the middle sections
        keep = hit
    if not keep.any():
        return None
    kept = np.flatnonzero(keep)
    t_a, t_b = ts[kept[0]], ts[kept[-1]]
    if t_b <= t_a:
        return float(widths[kept[0]]), float(widths[kept[0]])
    verts = uv[:, 0][(uv[:, 0] > t_a) & (uv[:, 0] < t_b)]
    # a hair either side of each vertex: the width may jump there
    eps = 1e-9 * length
    pos = np.unique(np.concatenate([ts[kept[0] : kept[-1] + 1], verts - eps, verts + eps]))
    w, _, _ = g.chords(uv, pos)
    mean = float(np.sum((w[1:] + w[:-1]) * np.diff(pos)) / 2 / (t_b - t_a))
    return float(w.min()), mean


def encroachment(ctx: Context, canal: Any, region: Region, covering: list[Any]) -> float | None:
    """% of the region's area covered by ``covering`` regions (union); ``None`` if none."""
    lfs = covering
    if not lfs:
        return None
    out = region.outline
    grid = regions.grid_for_box(
        out.min(axis=0), out.max(axis=0), ctx.spacing, ENCROACH_CELLS, supersample=4
    )
    inside = ctx.cells_inside(canal, grid)
    if inside is None or not inside.any():
        return None
    covered = np.zeros_like(inside)
    for lf in lfs:
        cells = ctx.cells_inside(lf, grid)
        if cells is not None:
            covered |= cells
    return 100.0 * np.count_nonzero(covered & inside) / np.count_nonzero(inside)


@register("canal")
def measure_canal(ctx: Context, ann: Any, row: RowMaker, spec: Any = None) -> list[Row]:
    """Rows for one canal-like region: ``area``, ``min_width``, ``mean_width``."""
    region = ctx.region(ann)
    if region is None:
        return []
    u = ctx.units
    out = [row("area", ctx.area(region), u.area)]
    widths = cross_sections(g.to_mm(region.outline, ctx.spacing))
    if widths is not None:
        min_w, mean_w = widths
        out += [row("min_width", min_w, u.length), row("mean_width", mean_w, u.length)]
    return out


@register("encroachment")
def measure_encroachment(ctx: Context, ann: Any, row: RowMaker, spec: Any) -> list[Row]:
    """``spec.name``: % of the region covered by ``spec.target`` regions it relates to."""
    region = ctx.region(ann)
    if region is None:
        return []
    enc = encroachment(ctx, ann, region, ctx.targets(ann, spec.target, spec.match))
    return [] if enc is None else [row(spec.name or "encroachment", enc, "%")]
