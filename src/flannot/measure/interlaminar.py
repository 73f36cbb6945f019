"""Interlaminar space: width, height (sides of the minimum-area rectangle) and area."""

from __future__ import annotations

from typing import Any

from flannot.measure import geometry as g
from flannot.measure.context import Context
from flannot.measure.registry import register
from flannot.measure.rows import Row, RowMaker


@register("window")
def measure_interlaminar(ctx: Context, ann: Any, row: RowMaker, spec: Any = None) -> list[Row]:
    """Rows for one window-like region (an interlaminar space): kind ``window``.

    ``width`` is the side of the minimum-area enclosing rectangle (in mm) that
    is closer to the image horizontal, ``height`` the other side; ``area`` is
    the region's own area.
    """
    region = ctx.region(ann)
    if region is None:
        return []
    u = ctx.units
    rect = g.min_area_rectangle(g.to_mm(region.outline, ctx.spacing))
    # axes are [row, col]: the more horizontal one has the larger column component
    a_horizontal = abs(rect.axis_a[1]) >= abs(rect.axis_b[1])
    width, height = (
        (rect.length_a, rect.length_b) if a_horizontal else (rect.length_b, rect.length_a)
    )
    return [
        row("width", width, u.length),
        row("height", height, u.length),
        row("area", ctx.area(region), u.area),
    ]
