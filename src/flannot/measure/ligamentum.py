"""Thin bands (ligamentum flavum): area, thickness (max and mean), length — kind ``band``.

The hypertrophy flag is not here: it is a clinical criterion the protocol declares
(``at_least`` on ``max_thickness``, planning slices only; :mod:`flannot.measure.flags`).
"""

from __future__ import annotations

from typing import Any

from flannot.measure import geometry as g
from flannot.measure import regions
from flannot.measure.context import Context
from flannot.measure.registry import register
from flannot.measure.rows import Row, RowMaker


@register("band")
def measure_band(ctx: Context, ann: Any, row: RowMaker, spec: Any = None) -> list[Row]:
    """Rows for one band-shaped polygon or mask (none for other geometry)."""
    region = ctx.region(ann)
    if region is None:
        return []
    u = ctx.units
    ahead = ctx.bands.get(id(ann))  # measured with the other bands (measure_rows_many)
    if ahead is not None:
        max_t, mean_t = ahead
    else:
        max_t, mean_t = regions.band_thickness(
            region.raster, region.dist, ctx.spacing, region.polygon
        )
    return [
        row("area", ctx.area(region), u.area),
        row("max_thickness", max_t, u.length),
        row("mean_thickness", mean_t, u.length),
        row("length", g.max_feret(g.to_mm(region.outline, ctx.spacing)), u.length),
    ]
