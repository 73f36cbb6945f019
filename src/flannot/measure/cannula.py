"""Trajectories (a line entry → tip): kinds ``trajectory``, ``tip_to_line``,
``tip_to_region_edge`` and ``tip_in_region``.

What a tip is measured against is the protocol's declaration (MILD: the epidural
contrast line and the VILL of any level or side, the same-level lamina, the
same-level-and-side ligamentum flavum), not a type name here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flannot.measure import geometry as g
from flannot.measure.context import Context, norm_level
from flannot.measure.registry import register
from flannot.measure.rows import Row, RowMaker
from flannot.measure.vertebra import corners, upper_vertebra


def entry_tip(ann: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(entry, tip)`` in pixels: the first and last points of a line (``None`` if degenerate)."""
    pts = np.asarray(ann.geometry.points, float)
    if pts.ndim != 2 or len(pts) < 2 or not np.isfinite(pts).all():
        return None
    if np.hypot(*(pts[-1] - pts[0])) == 0:
        return None
    return pts[0], pts[-1]


def _ends(ctx: Context, ann: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`entry_tip` of ``ann``, once per context (every tip kind of a cannula asks)."""
    key = ("ends", id(ann))
    if key not in ctx.memo:
        ctx.memo[key] = entry_tip(ann)
    return ctx.memo[key]


def _vertebra_types(ctx: Context) -> tuple[str, ...]:
    from flannot.protocols.base import Role

    return ctx.protocol.names_with_role(Role.VERTEBRA) if ctx.protocol is not None else ()


@register("trajectory")
def measure_trajectory(ctx: Context, ann: Any, row: RowMaker, spec: Any = None) -> list[Row]:
    """``length``, ``angle`` and, with a cornered vertebra above, ``angle_to_endplate``."""
    ends = _ends(ctx, ann)
    if ends is None:
        return []
    sp = ctx.spacing
    entry, tip = ends[0] * sp, ends[1] * sp
    vec = tip - entry
    u = ctx.units
    out = [
        row("length", g.distance(entry, tip), u.length),
        row("angle", g.angle_to_horizontal_deg(vec), "deg"),
    ]
    above = upper_vertebra(norm_level(ann.level))
    if above is not None:
        for vtype in _vertebra_types(ctx):
            for v in ctx.find(ann.frame or 0, vtype, above):
                c = corners(v)
                if c is not None:  # inferior endplate: inferior-posterior → inferior-anterior
                    endplate = (c[3] - c[2]) * sp
                    out.append(row("angle_to_endplate", g.acute_angle_deg(vec, endplate), "deg"))
                    return out
    return out


@register("tip_to_line")
def tip_to_line(ctx: Context, ann: Any, row: RowMaker, spec: Any) -> list[Row]:
    """Signed distance from the tip to the nearest ``spec.target`` line.

    Positive while the tip is on the entry side of the line, negative once the
    path entry → tip has crossed it (SPEC §4 ``tip_to_contrast``/``tip_to_vill``).
    Each line is :func:`~flannot.measure.geometry.signed_distance_past_line` with
    :func:`~flannot.measure.geometry.boundary_reach`, prepared once per context
    (:func:`_boundary`) for every tip measured against it.
    """
    ends = _ends(ctx, ann)
    if ends is None:
        return []
    sy, sx = ctx.spacing
    (ey, ex), (ty, tx) = ends[0].tolist(), ends[1].tolist()
    entry, tip = (ey * sy, ex * sx), (ty * sy, tx * sx)  # ends * spacing, as floats
    best = None
    for path in ctx.targets(ann, spec.target, spec.match):
        boundary = _boundary(ctx, path)
        if boundary is None:
            continue
        d = boundary.signed_distance(tip, entry)
        if best is None or abs(d) < abs(best):
            best = d
    return [] if best is None else [row(spec.name or "tip_to_line", best, ctx.units.length)]


def _boundary(ctx: Context, path: Any) -> g.Boundary | None:
    """The line ``path`` in mm as a :class:`~flannot.measure.geometry.Boundary` reaching
    :func:`~flannot.measure.geometry.boundary_reach` past its ends (``None`` if malformed);
    cached in ``ctx.memo``."""
    key = ("boundary", id(path))
    if key not in ctx.memo:
        line = np.asarray(path.geometry.points, float)
        boundary = None
        if line.ndim == 2 and len(line) >= 1 and np.isfinite(line).all():
            mm = line * ctx.spacing
            boundary = g.Boundary(mm, g.boundary_reach(mm))
        ctx.memo[key] = boundary
    return ctx.memo[key]


@register("tip_to_region_edge")
def tip_to_region_edge(ctx: Context, ann: Any, row: RowMaker, spec: Any) -> list[Row]:
    """Distance from the tip to the outline of the nearest ``spec.target`` region.

    Positive while the tip is outside (short of the surface), negative inside the
    region; ≈ 0 when the instrument is docked on it (a MILD portal on the lamina).
    """
    ends = _ends(ctx, ann)
    if ends is None:
        return []
    tip_px = ends[1]
    sy, sx = ctx.spacing
    ty, tx = tip_px.tolist()
    tip_mm = (ty * sy, tx * sx)  # tip_px * spacing, as floats
    best = None
    for target in ctx.targets(ann, spec.target, spec.match):
        outline = _outline_mm(ctx, target)
        if outline is None:
            continue
        d = outline.distance(tip_mm)  # polygon_boundary_distance of the tip
        if _contains(ctx, target, tip_px):
            d = -d
        if best is None or abs(d) < abs(best):
            best = d
    return [] if best is None else [row(spec.name or "tip_to_edge", best, ctx.units.length)]


@register("tip_in_region")
def tip_in_region(ctx: Context, ann: Any, row: RowMaker, spec: Any) -> list[Row]:
    """Whether the tip lies inside any ``spec.target`` region it relates to."""
    ends = _ends(ctx, ann)
    if ends is None:
        return []
    inside = [_contains(ctx, t, ends[1]) for t in ctx.targets(ann, spec.target, spec.match)]
    inside = [x for x in inside if x is not None]
    # without a target outline there is nothing to say
    return [row(spec.name or "tip_in_region", any(inside))] if inside else []


def _outline_mm(ctx: Context, target: Any) -> g.Outline | None:
    """The closed outline (mm) of ``target``'s region, ``None`` without one; cached."""
    key = ("outline_mm", id(target))
    if key not in ctx.memo:
        region = ctx.region(target)
        ctx.memo[key] = (
            None
            if region is None
            else g.Outline(region.outline * np.asarray(ctx.spacing, float), closed=True)
        )
    return ctx.memo[key]


def _contains(ctx: Context, target: Any, point_px: np.ndarray) -> bool | None:
    """:meth:`Context.contains`; a polygon's test runs on Python floats
    (:class:`~flannot.measure.geometry.Outline`, cached)."""
    if target.geometry.kind == "mask":
        return ctx.contains(target, point_px)
    key = ("outline_px", id(target))
    if key not in ctx.memo:
        poly = ctx.polygon(target)
        ctx.memo[key] = None if poly is None else g.Outline(poly, closed=True)
    outline = ctx.memo[key]
    return None if outline is None else outline.contains(tuple(point_px.tolist()))
