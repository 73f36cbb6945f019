"""Cannula (line entry → tip): length, angles, tip-to-contrast margin, tip in LF."""

from __future__ import annotations

from typing import Any

import numpy as np

from flannot.measure import geometry as g
from flannot.measure.context import Context, norm_level
from flannot.measure.rows import Row, RowMaker
from flannot.measure.vertebra import corners, upper_vertebra


def measure_cannula(ctx: Context, ann: Any, row: RowMaker) -> list[Row]:
    """Rows for one ``cannula``: the first point is the entry, the last the tip."""
    pts = np.asarray(ann.geometry.points, float)
    if pts.ndim != 2 or len(pts) < 2 or not np.isfinite(pts).all():
        return []
    entry_px, tip_px = pts[0], pts[-1]
    sp = ctx.spacing
    entry, tip = entry_px * sp, tip_px * sp
    vec = tip - entry
    if np.hypot(*vec) == 0:
        return []
    u = ctx.units
    frame = ann.frame or 0
    level = norm_level(ann.level)
    out = [
        row("length", g.distance(entry, tip), u.length),
        row("angle", g.angle_to_horizontal_deg(vec), "deg"),
    ]
    above = upper_vertebra(level)
    if above is not None:
        for v in ctx.find(frame, "vertebra", above):
            c = corners(v)
            if c is not None:  # inferior endplate: inferior-posterior → inferior-anterior
                endplate = (c[3] - c[2]) * sp
                out.append(row("angle_to_endplate", g.acute_angle_deg(vec, endplate), "deg"))
                break
    best = None
    for path in ctx.find(frame, "epidural_contrast", level, ann.side):
        line = np.asarray(path.geometry.points, float)
        if line.ndim != 2 or len(line) < 1:
            continue
        d = g.signed_distance_past_line(tip, entry, line * sp)
        if best is None or abs(d) < abs(best):
            best = d
    if best is not None:
        out.append(row("tip_to_contrast", best, u.length))
    lfs = ctx.find(frame, "ligamentum_flavum", level, ann.side)
    inside = [ctx.contains(lf, tip_px) for lf in lfs]
    inside = [x for x in inside if x is not None]
    if inside:  # without an LF outline there is nothing to say
        out.append(row("tip_in_lf", any(inside)))
    return out
