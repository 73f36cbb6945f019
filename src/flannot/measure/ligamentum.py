"""Ligamentum flavum: area, thickness (max and mean), length, hypertrophy flag."""

from __future__ import annotations

from typing import Any

from flannot.measure import geometry as g
from flannot.measure import regions
from flannot.measure.context import Context
from flannot.measure.rows import Row, RowMaker

# MIST consensus threshold for percutaneous decompression (Deer et al. 2019, Pain Pract
# 19:250-274; MIST 2.0, J Pain Res 2022 15:1325-1354): LF >= 2.5 mm -- an MRI criterion
HYPERTROPHY_MM = 2.5


def measure_ligamentum(ctx: Context, ann: Any, row: RowMaker) -> list[Row]:
    """Rows for one ``ligamentum_flavum`` polygon or mask (none for other geometry)."""
    region = ctx.region(ann)
    if region is None:
        return []
    u = ctx.units
    max_t = regions.inscribed_diameter(region.raster, region.dist, ctx.spacing, region.polygon)
    mean_t = regions.skeleton_mean_thickness(
        region.raster, region.dist, max_t, ctx.spacing, region.polygon
    )
    out = [
        row("area", ctx.area(region), u.area),
        row("max_thickness", max_t, u.length),
        row("mean_thickness", mean_t, u.length),
        row("length", g.max_feret(g.to_mm(region.outline, ctx.spacing)), u.length),
    ]
    if u.calibrated:  # a mm threshold means nothing in pixels: no flag rather than a guess
        out.append(row("hypertrophic", max_t >= HYPERTROPHY_MM))
    return out
